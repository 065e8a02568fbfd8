"""The inbox worker: claims queued activities with a lease and runs their handlers, retrying or parking failures.

Rows of a batch are handled one after another in arrival order (deterministic, and a Create is handled before
the Update or Delete that follows it). A row whose lease ran out while earlier rows were handled is left for
the next claim instead of being handled twice.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from fediverse_learn.errors import (
    DomainBlocked,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    KeyFetchUnavailable,
    SignatureError,
    ValidationError,
)
from fediverse_learn.services import Services
from fediverse_learn.store.inbox_queue import (
    QueuedActivity,
    claim_incoming,
    finish_incoming,
    park_incoming,
    retry_incoming,
)
from fediverse_learn.store.moderation import is_suspended
from fediverse_learn.vocab import has_type, host_of
from inbox.dispatch import dispatch
from inbox.incoming import Incoming, Reject, Retry

__all__ = ["BASE_DELAY", "MAX_ATTEMPTS", "MAX_DELAY", "InboxWorker", "Outcome", "backoff", "classify"]

log = logging.getLogger(__name__)

BASE_DELAY = 30.0            # seconds before the second attempt
MAX_DELAY = 6 * 3600.0       # no wait longer than six hours
MAX_ATTEMPTS = 8             # then the row is parked with its last error (about 13 hours in all)


def backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): 30 s · 4^(attempt-1), at most 6 h."""
    return min(BASE_DELAY * 4.0 ** min(max(attempt - 1, 0), 16), MAX_DELAY)


@dataclass(frozen=True)
class Outcome:
    """What to do with a row whose handler raised: park it for good or retry it later, and why."""

    action: Literal["park", "retry"]
    error: str
    unexpected: bool = False   # not one of the outcomes handlers signal: the error carries a traceback


def classify(exc: Exception) -> Outcome:
    """Permanent refusals park; transient failures and the unexpected are retried (SECURITY.md c.1)."""
    reason = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, Retry | KeyFetchUnavailable):
        return Outcome("retry", reason)
    if isinstance(exc, FetchError):
        return Outcome("retry" if _transient(exc) else "park", reason)
    if isinstance(exc, Reject | ValidationError | DomainBlocked | SignatureError):
        return Outcome("park", reason)
    frames = traceback.format_exception(exc, limit=-4)
    return Outcome("retry", reason + "\n" + "".join(frames[1:-1]), unexpected=True)


def _transient(exc: FetchError) -> bool:
    if isinstance(exc, HTTPStatusError):
        return exc.status >= 500 or exc.status in (408, 429)
    return isinstance(exc, FetchTimeout) or type(exc) is FetchError


class InboxWorker:
    """One `step()` claims up to `batch` due rows for `lease` seconds and handles them in order."""

    name = "inbox"

    def __init__(self, services: Services, batch: int = 50, lease: float = 300.0) -> None:
        self._services = services
        self._batch = batch
        self._lease = lease

    async def step(self) -> int:
        """Handle one batch; return how many rows were claimed (0 when idle). Never raises an Exception.

        Rows whose handler succeeded are marked done together, once their effects are committed: at the
        end of the batch, or before half the lease has gone (a crash before that re-handles them: handlers
        are idempotent, the queue at-least-once)."""
        services = self._services
        try:
            now = services.clock.time()
            rows = await claim_incoming(services.db, now, self._lease, self._batch)
        except Exception:   # the worker boundary: a storage failure must not kill the runner
            log.exception("inbox worker could not claim rows")
            return 0
        lease_until = now + self._lease
        flush_at = now + self._lease / 2
        handled: list[QueuedActivity] = []
        for row in rows:
            current = services.clock.time()
            if current >= lease_until:
                log.warning("inbox worker lease ran out; %s and later rows are left for the next claim",
                            row.activity_id)
                break
            if handled and current >= flush_at:
                await self._finish(handled)
                handled = []
            try:
                if await self._handle(row):
                    handled.append(row)
            except Exception:   # the worker boundary: never let one row stop the others
                log.exception("inbox worker could not record the outcome of %s", row.activity_id)
        await self._finish(handled)
        return len(rows)

    async def _finish(self, rows: list[QueuedActivity]) -> None:
        if not rows:
            return
        try:
            await finish_incoming(self._services.db, *(row.id for row in rows))
        except Exception:   # the worker boundary: the rows stay leased and are handled again later
            log.exception("inbox worker could not record the outcome of %s",
                          ", ".join(row.activity_id for row in rows))

    async def _handle(self, row: QueuedActivity) -> bool:
        """Run the row's handler; True when it succeeded (the caller marks it done), else its failure is
        recorded (retry or park) and False."""
        services = self._services
        try:
            activity = _parse(row.body)
            await _check_sender(services, row.actor_uri, activity)
            incoming = Incoming(activity=activity, actor_uri=row.actor_uri, recipient=row.recipient,
                                queue_id=row.id, attempts=row.attempts)
            await dispatch(services, incoming)
        except Exception as exc:   # the worker boundary: the outcome and traceback go on the queue row
            await self._failed(row, exc)
            return False
        return True

    async def _failed(self, row: QueuedActivity, exc: Exception) -> None:
        services = self._services
        outcome = classify(exc)
        if outcome.action == "retry" and row.attempts < MAX_ATTEMPTS:
            delay = backoff(row.attempts)
            log.info("inbox %s attempt %d failed, retry in %.0f s: %s", row.activity_id, row.attempts, delay,
                     outcome.error.splitlines()[0])
            if outcome.unexpected:
                log.warning("inbox %s: unexpected error in its handler", row.activity_id, exc_info=exc)
            await retry_incoming(services.db, row.id, outcome.error, services.clock.time() + delay)
            return
        error = outcome.error
        if outcome.action == "retry":
            error = f"gave up after {row.attempts} attempts: {error}"
        log.info("inbox %s parked: %s", row.activity_id, error.splitlines()[0])
        await park_incoming(services.db, row.id, error)


async def _check_sender(services: Services, actor_uri: str, activity: dict[str, Any]) -> None:
    """The policy may have changed since the activity was queued: a domain blocked since is refused; a
    suspended account may only Delete, Reject, Undo and Update (SECURITY.md b.5 item 8)."""
    if services.uris.is_local(actor_uri):
        return
    host = host_of(actor_uri)
    if not await services.host_allowed(host):
        raise DomainBlocked(f"{host} is blocked by the federation policy")
    if await is_suspended(services.db, actor_uri) and not has_type(activity, "Delete", "Reject", "Undo", "Update"):
        raise Reject(f"{actor_uri} is suspended here")


def _parse(body: bytes) -> dict[str, Any]:
    try:
        activity = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValidationError(f"the stored body is not valid JSON: {exc}") from None
    if not isinstance(activity, dict):
        raise ValidationError("the stored body is not a JSON object")
    return activity
