"""The delivery retry policy as pure functions: outcome classification, backoff schedule, per-host breaker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fediverse_learn.errors import BlockedAddress, DomainBlocked, HTTPStatusError, ResponseTooLarge

__all__ = [
    "BREAKER_COOL_OFF",
    "BREAKER_THRESHOLD",
    "JITTER_FACTOR",
    "CircuitBreaker",
    "Outcome",
    "classify",
    "next_attempt_at",
    "retry_delay",
    "retry_span",
]

Outcome = Literal["done", "drop", "retry"]

JITTER_FACTOR = 30.0        # jitter of retry n is up to 30·(n+1) s (Sidekiq's is 10·(n+1), Mastodon adds n⁴/2)
BREAKER_THRESHOLD = 10      # Mastodon's Stoplight for deliveries: 10 failures in a row ...
BREAKER_COOL_OFF = 60.0     # ... stop sending to that inbox for 60 s
_SALVAGEABLE_4XX = frozenset({401, 408, 429})   # may work later: bad key cache, timeout, rate limit


def classify(status: int | None, error: Exception | None) -> Outcome:
    """What one delivery attempt means (Mastodon's `response_error_unsalvageable?`, with our errors).

    2xx -> done. 501 and 4xx other than 401/408/429 -> drop (410 Gone included). Everything else that
    answered (1xx, 3xx, 5xx, 401, 408, 429) -> retry. Errors: a refused address (SSRF policy) or a blocked
    domain -> drop; a body over the cap (raised only after the status line was read) -> done; a status
    error -> as its status; any other error (network, timeout, unexpected) -> retry.
    """
    if error is not None:
        if isinstance(error, BlockedAddress | DomainBlocked):
            return "drop"
        if isinstance(error, ResponseTooLarge):
            return "done"
        if isinstance(error, HTTPStatusError):
            return classify(error.status, None)
        return "retry"
    if status is None:
        return "retry"
    if 200 <= status < 300:
        return "done"
    if status == 501 or (400 <= status < 500 and status not in _SALVAGEABLE_4XX):
        return "drop"
    return "retry"


def retry_delay(attempts: int, jitter: float) -> float:
    """Seconds to wait after the `attempts`-th failed attempt (1-based).

    With n = attempts - 1 (Sidekiq's retry count): n⁴ + 15 + jitter·30·(n+1), `jitter` in [0, 1].
    """
    if attempts < 1:
        raise ValueError(f"attempts must be >= 1, got {attempts}")
    if not 0.0 <= jitter <= 1.0:
        raise ValueError(f"jitter must be in [0, 1], got {jitter}")
    n = attempts - 1
    return float(n**4 + 15) + jitter * JITTER_FACTOR * (n + 1)


def next_attempt_at(now: float, attempts: int, max_attempts: int, jitter: float) -> float | None:
    """When to try again after `attempts` failed attempts, or None once `max_attempts` are used up."""
    if attempts >= max_attempts:
        return None
    return now + retry_delay(attempts, jitter)


def retry_span(max_attempts: int, jitter: float) -> float:
    """Seconds from the first attempt to the last one if every attempt fails (with a fixed jitter)."""
    return sum(retry_delay(attempts, jitter) for attempts in range(1, max_attempts))


@dataclass
class _Light:
    failures: int = 0
    last_failure: float = 0.0


class CircuitBreaker:
    """Per-host fail-fast: after `threshold` failures in a row, refuse sends for `cool_off` seconds.

    In-memory and per process (like Mastodon's Stoplight): it only saves timeouts against a host that is
    down right now; the durable schedule and host health live in the database. Times are passed in.
    """

    def __init__(self, threshold: int = BREAKER_THRESHOLD, cool_off: float = BREAKER_COOL_OFF,
                 max_hosts: int = 10_000) -> None:
        self._threshold = threshold
        self._cool_off = cool_off
        self._max_hosts = max_hosts
        self._lights: dict[str, _Light] = {}

    def is_open(self, host: str, now: float) -> bool:
        """True while sends to `host` should fail fast."""
        light = self._lights.get(host)
        return (light is not None and light.failures >= self._threshold
                and 0.0 <= now - light.last_failure < self._cool_off)

    def record(self, host: str, ok: bool, now: float) -> None:
        if ok:
            self._lights.pop(host, None)
            return
        light = self._lights.setdefault(host, _Light())
        light.failures += 1
        light.last_failure = now
        if len(self._lights) > self._max_hosts:   # bounded: forget hosts whose cool-off is long over
            stale = [h for h, lt in self._lights.items() if now - lt.last_failure >= self._cool_off]
            for h in stale:
                del self._lights[h]
