"""The delivery worker: claims due deliveries with a lease, signs at send time, retries with backoff."""

from __future__ import annotations

import asyncio
import logging
import secrets
import traceback
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from fediverse_learn.errors import FetchError
from fediverse_learn.services import Services
from fediverse_learn.signers import CavageSigner
from fediverse_learn.store.actors import get_actor_by_id
from fediverse_learn.store.db import Database
from fediverse_learn.store.deliveries import Delivery, Settlement, claim_deliveries, settle_deliveries
from fediverse_learn.store.hosts import mark_hosts_available, record_host_failure
from outbox.retry import CircuitBreaker, Outcome, classify, next_attempt_at

__all__ = ["AP_CONTENT_TYPE", "DeliveryWorker"]

log = logging.getLogger(__name__)

AP_CONTENT_TYPE = "application/activity+json"

# Guarantee: at least once. A row is marked done only after its POST answered 2xx (answers that arrive
# together share one transaction), and no transaction is open during a POST. A crash (kill -9) at any
# point leaves every row not yet marked done queued, with at most a lease that expires; the next claim
# after the lease sends it.
# A crash after the receiver answered but before the row was marked done therefore sends it again:
# exactly once is impossible across such a crash; receivers deduplicate by activity id (we do too).


@dataclass(frozen=True)
class _Unsignable:
    reason: str
    permanent: bool      # the actor is gone (drop) rather than its key unusable right now (retry)


class _GroupCommit:
    """Writes outcomes as they come; those arriving while a write is under way share the next transaction.

    `write` returns once the transaction holding its outcome is committed. One task writes the groups, and
    every caller of a group is woken at once when it is committed (not one after the other)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: list[tuple[Settlement, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, settlement: Settlement) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((settlement, done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_groups())
        await done

    async def _write_groups(self) -> None:
        try:
            while self._pending:
                group, self._pending = self._pending, []
                try:
                    await settle_deliveries(self._db, [settlement for settlement, _ in group])
                except Exception as exc:
                    for _, done in group:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                except BaseException:   # cancelled: so are the callers still waiting
                    for _, done in group:
                        done.cancel()
                    raise
                for _, done in group:
                    if not done.done():
                        done.set_result(None)
        finally:
            self._writer = None
            for _, done in self._pending:   # only left when cancelled
                done.cancel()
            self._pending = []


@dataclass
class _Step:
    """What one step shares between its concurrent sends."""

    lease_until: float
    signers: dict[int, CavageSigner | _Unsignable]
    per_host: defaultdict[str, asyncio.Semaphore]
    everyone: asyncio.Semaphore
    writer: _GroupCommit
    succeeded: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Result:
    outcome: Outcome | None    # None: released unsent (its lease was about to run out)
    reason: str = ""
    host_failed: bool = False  # a real failed attempt (counts for host health and the breaker)


class DeliveryWorker:
    """One step claims up to `batch` due rows and sends them concurrently, within the concurrency limits."""

    name = "delivery"

    def __init__(self, services: Services, batch: int = 100, lease: float = 120.0,
                 jitter: Callable[[], float] | None = None) -> None:
        self._services = services
        self._batch = batch
        self._lease = lease
        self._jitter = jitter if jitter is not None else secrets.SystemRandom().random
        self._breaker = CircuitBreaker()

    async def step(self) -> int:
        svc = self._services
        now = svc.clock.time()
        rows = await claim_deliveries(svc.db, now, self._lease, self._batch)
        if not rows:
            return 0
        fed = svc.config.federation
        per_host = fed.delivery_concurrency_per_host
        run = _Step(
            lease_until=now + self._lease,
            signers=await self._signers(rows),
            per_host=defaultdict(lambda: asyncio.Semaphore(per_host)),
            everyone=asyncio.Semaphore(fed.delivery_concurrency),
            writer=_GroupCommit(svc.db),
        )
        async with asyncio.TaskGroup() as tasks:
            for row in rows:
                tasks.create_task(self._deliver(row, run), name=f"deliver:{row.id}")
        await self._update_host_health(run)
        return len(rows)

    async def _signers(self, rows: Sequence[Delivery]) -> dict[int, CavageSigner | _Unsignable]:
        """One signer per sending actor of the batch (the key cache loads each PEM once per process)."""
        signers: dict[int, CavageSigner | _Unsignable] = {}
        for actor_id in dict.fromkeys(r.actor_id for r in rows):
            actor = await get_actor_by_id(self._services.db, actor_id)
            if actor is None:
                signers[actor_id] = _Unsignable(f"local actor {actor_id} does not exist", permanent=True)
                continue
            try:
                signers[actor_id] = self._services.signer_for(actor)
            except (ValueError, TypeError) as exc:
                log.error("cannot load the key of local actor %s: %s", actor.name, exc)
                signers[actor_id] = _Unsignable(f"key of {actor.name} unusable: {exc}", permanent=False)
        return signers

    async def _deliver(self, row: Delivery, run: _Step) -> None:
        # The slots are held until the outcome is committed, so answered-but-unrecorded rows (the ones a
        # crash would send twice) never outnumber the requests allowed in flight.
        async with run.per_host[row.host], run.everyone:
            result = await self._attempt(row, run)
            await self._settle(row, result, run)

    async def _attempt(self, row: Delivery, run: _Step) -> _Result:
        svc = self._services
        now = svc.clock.time()
        if now + min(svc.config.federation.fetch_timeout, self._lease / 2) > run.lease_until:
            return _Result(None)
        if not await svc.host_allowed(row.host):
            return _Result("drop", f"{row.host} is refused by the domain policy; not sent")
        signer = run.signers[row.actor_id]
        if isinstance(signer, _Unsignable):
            return _Result("drop" if signer.permanent else "retry", signer.reason)
        if self._breaker.is_open(row.host, now):
            return _Result("retry", f"{row.host} keeps failing; not sent for now (circuit open)")
        status, error = await self._post(row, signer)
        outcome = classify(status, error)
        if error is None:
            reason = f"{row.inbox_url} answered {status}"
        elif isinstance(error, FetchError):
            reason = f"{type(error).__name__}: {error}"
        else:
            reason = "".join(traceback.format_exception(error))
        return _Result(outcome, reason, host_failed=outcome == "retry")

    async def _post(self, row: Delivery, signer: CavageSigner) -> tuple[int | None, Exception | None]:
        """POST the stored body, signed now; the status, or the error that stood in for one."""
        try:
            status = await self._services.http.post_status(row.inbox_url, row.body, AP_CONTENT_TYPE, signer)
        except FetchError as exc:
            return None, exc
        except Exception as exc:   # a worker boundary: the traceback goes on the row, the batch goes on
            log.exception("delivering %s to %s failed unexpectedly", row.activity_uri, row.inbox_url)
            return None, exc
        return status, None

    async def _settle(self, row: Delivery, result: _Result, run: _Step) -> None:
        """Write the attempt's outcome on the row."""
        settings = self._services.config.federation
        now = self._services.clock.time()
        if result.outcome is None:
            settlement = Settlement(row.id, "released")
        elif result.outcome == "done":
            self._breaker.record(row.host, ok=True, now=now)
            run.succeeded.add(row.host)
            settlement = Settlement(row.id, "done")
            log.debug("delivered %s to %s", row.activity_uri, row.inbox_url)
        elif result.outcome == "drop":
            settlement = Settlement(row.id, "failed", result.reason)
            log.info("dropped %s to %s: %s", row.activity_uri, row.inbox_url, result.reason.splitlines()[-1])
        else:
            if result.host_failed:
                self._breaker.record(row.host, ok=False, now=now)
                run.failed.add(row.host)
            when = next_attempt_at(now, row.attempts, settings.delivery_max_attempts, self._jitter())
            if when is None:
                settlement = Settlement(row.id, "failed", f"gave up after {row.attempts} attempts: {result.reason}")
                log.info("gave up %s to %s after %d attempts", row.activity_uri, row.inbox_url, row.attempts)
            else:
                settlement = Settlement(row.id, "retry", result.reason, when)
        await run.writer.write(settlement)

    async def _update_host_health(self, run: _Step) -> None:
        """A host that answered once this step is healthy; one that only failed gets today recorded."""
        db, now = self._services.db, self._services.clock.time()
        await mark_hosts_available(db, run.succeeded)
        for host in sorted(run.failed - run.succeeded):
            if await record_host_failure(db, host, now):
                log.warning("%s is unavailable (deliveries failed on several days); its deliveries wait", host)
