"""The inbox worker's pure parts: the retry schedule and which failures are retried or parked."""

from __future__ import annotations

import pytest

from fediverse_learn.errors import (
    BadContentType,
    BlockedAddress,
    DomainBlocked,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    IdMismatch,
    KeyFetchError,
    KeyFetchUnavailable,
    ValidationError,
)
from inbox.incoming import Reject, Retry
from inbox.worker import MAX_ATTEMPTS, MAX_DELAY, backoff, classify


def test_backoff_grows_fourfold_from_thirty_seconds() -> None:
    assert [backoff(n) for n in range(1, 6)] == [30.0, 120.0, 480.0, 1920.0, 7680.0]


def test_backoff_is_capped_at_six_hours() -> None:
    assert backoff(6) == MAX_DELAY == 6 * 3600
    assert backoff(MAX_ATTEMPTS) == MAX_DELAY
    assert backoff(10_000) == MAX_DELAY


def test_all_retries_fit_in_a_day() -> None:
    assert sum(backoff(n) for n in range(1, MAX_ATTEMPTS)) < 24 * 3600


@pytest.mark.parametrize("exc", [
    Retry("parent not fetched yet"),
    KeyFetchUnavailable("key server down"),
    HTTPStatusError(503, "https://mastodon.test/x"),
    HTTPStatusError(500, "https://mastodon.test/x"),
    HTTPStatusError(429, "https://mastodon.test/x"),
    HTTPStatusError(408, "https://mastodon.test/x"),
    FetchTimeout("slow"),
    FetchError("connection refused"),
])
def test_classify_transient_failures_are_retried(exc: Exception) -> None:
    outcome = classify(exc)
    assert outcome.action == "retry"
    assert outcome.error == f"{type(exc).__name__}: {exc}"
    assert not outcome.unexpected


@pytest.mark.parametrize("exc", [
    Reject("not the author"),
    ValidationError("malformed Note"),
    DomainBlocked("evil.test is blocked"),
    KeyFetchError("no such key"),
    HTTPStatusError(404, "https://mastodon.test/x"),
    HTTPStatusError(410, "https://mastodon.test/x"),
    BlockedAddress("private address"),
    BadContentType("text/html"),
    IdMismatch("claims another id"),
])
def test_classify_permanent_failures_are_parked_with_the_reason(exc: Exception) -> None:
    outcome = classify(exc)
    assert outcome.action == "park"
    assert outcome.error == f"{type(exc).__name__}: {exc}"


def _crash() -> None:
    raise KeyError("missing")


def test_classify_unexpected_error_is_retried_with_its_traceback() -> None:
    try:
        _crash()
    except KeyError as exc:
        outcome = classify(exc)
    assert outcome.action == "retry"
    assert outcome.unexpected
    assert outcome.error.startswith("KeyError: 'missing'\n")
    assert "in _crash" in outcome.error
