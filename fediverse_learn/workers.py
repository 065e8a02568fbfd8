"""Background workers: each is a `step()` that does one batch of due work; a runner loops them in serve."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

__all__ = ["Worker", "WorkerRunner"]

log = logging.getLogger(__name__)


class Worker(Protocol):
    name: str

    async def step(self) -> int:
        """Do one batch of due work; return how many items were handled (0 when idle)."""
        ...


class WorkerRunner:
    """Runs each worker in its own task: step while there is work, otherwise wait (woken early by kick)."""

    def __init__(self, workers: list[Worker], idle_wait: float = 1.0) -> None:
        self._workers = workers
        self._idle_wait = idle_wait
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = {w.name: asyncio.Event() for w in workers}
        self._stopping = False

    def start(self) -> None:
        for worker in self._workers:
            self._tasks.append(asyncio.create_task(self._loop(worker), name=f"worker:{worker.name}"))

    def kick(self, name: str) -> None:
        event = self._wake.get(name)
        if event is not None:
            event.set()

    async def _loop(self, worker: Worker) -> None:
        event = self._wake[worker.name]
        while not self._stopping:
            try:
                handled = await worker.step()
            except Exception:   # a worker boundary: log and keep serving
                log.exception("worker %s failed a step", worker.name)
                handled = 0
            if handled:
                continue
            event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), self._idle_wait)

    async def stop(self, grace: float = 10.0) -> None:
        """Let each worker finish its current step (up to `grace` seconds), then cancel what is left.

        Rows a cancelled step had claimed are not lost: their leases expire and they are claimed again."""
        self._stopping = True
        for event in self._wake.values():
            event.set()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=grace)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
