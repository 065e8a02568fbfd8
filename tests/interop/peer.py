"""The Fedify peer (interop/fedify-peer/peer.mjs) as a process on a loopback port, and its control API."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.support.processes import free_port

__all__ = ["NODE", "PEER_DIR", "PeerProcess", "poll", "start_peer"]

PEER_DIR = Path(__file__).resolve().parents[2] / "interop" / "fedify-peer"
NODE = PEER_DIR / "node_modules" / "node" / "bin" / "node"   # Node 22, from the npm package `node`

T = TypeVar("T")


def poll(probe: Callable[[], T | None], timeout: float = 20.0, interval: float = 0.2) -> T | None:
    """Call `probe` until it returns something other than None, or the deadline passes (then None).

    For asynchronous deliveries between live processes: there is nothing to await across processes."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


@dataclass
class PeerProcess:
    root: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.root / "peer.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def handle(self) -> str:
        return f"peer@{self.domain}"

    @property
    def actor(self) -> str:
        return f"{self.base}/users/peer"

    def start(self, timeout: float = 30.0) -> None:
        if not NODE.exists():
            raise RuntimeError(f"{NODE} is missing: run `make interop` (npm ci in {PEER_DIR})")
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [str(NODE), "peer.mjs", str(self.port)], cwd=PEER_DIR, stdout=out, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"peer exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.base}/_control/health", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)   # waiting for a process to listen, not for test logic
        raise RuntimeError(f"peer did not start:\n{self.log.read_text()}")

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout)

    # --- the control API ---------------------------------------------------------------------------

    def control(self, action: str, **body: Any) -> dict[str, Any]:
        """POST /_control/<action>; the JSON answer, whatever its status (it carries the attempts made)."""
        response = httpx.post(f"{self.base}/_control/{action}", json=body, timeout=60.0)
        answer: dict[str, Any] = response.json()
        answer["_status"] = response.status_code
        return answer

    def received(self) -> dict[str, Any]:
        """Everything the peer saw: activities, inboxRequests, actorFetches, errors, sent, followers, following."""
        response = httpx.get(f"{self.base}/_control/received", timeout=10.0)
        response.raise_for_status()
        seen: dict[str, Any] = response.json()
        return seen

    def activity(self, kind: str, match: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        """The first verified activity of this type that `match` accepts, or None."""
        for entry in self.received()["activities"]:
            if entry["type"] == kind and match(entry):
                return dict(entry)
        return None

    def raw(self, activity_id: str) -> dict[str, Any] | None:
        """The JSON body exactly as our server POSTed it to a peer inbox (with its request headers), or None."""
        for request in self.received()["inboxRequests"]:
            body: dict[str, Any] = json.loads(request["body"])
            if body.get("id") == activity_id:
                return {**request, "json": body}
        return None

    def wait_for(self, kind: str, match: Callable[[dict[str, Any]], bool],
                 timeout: float = 20.0) -> dict[str, Any] | None:
        return poll(lambda: self.activity(kind, match), timeout)

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def start_peer(root: Path) -> PeerProcess:
    home = root / "peer"
    home.mkdir(parents=True, exist_ok=True)
    peer = PeerProcess(root=home, port=free_port())
    peer.start()
    return peer
