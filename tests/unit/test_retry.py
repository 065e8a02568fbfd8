"""The delivery retry policy: classification of answers and errors, the backoff schedule, the breaker."""

from __future__ import annotations

import random

import pytest

from fediverse_learn.config import FederationConfig
from fediverse_learn.errors import (
    BlockedAddress,
    DomainBlocked,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    ResponseTooLarge,
)
from outbox.retry import CircuitBreaker, classify, next_attempt_at, retry_delay, retry_span

DAY = 86_400.0
MAX_ATTEMPTS = FederationConfig().delivery_max_attempts


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_classify_is_done_for_2xx(status: int) -> None:
    assert classify(status, None) == "done"


@pytest.mark.parametrize("status", [400, 403, 404, 405, 410, 413, 422, 451, 499, 501])
def test_classify_drops_unsalvageable_statuses(status: int) -> None:
    assert classify(status, None) == "drop"


@pytest.mark.parametrize("status", [100, 301, 302, 307, 401, 408, 429, 500, 502, 503, 504, 599])
def test_classify_retries_salvageable_statuses(status: int) -> None:
    assert classify(status, None) == "retry"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (FetchError("connection refused"), "retry"),
        (FetchTimeout("read timeout"), "retry"),
        (RuntimeError("a bug"), "retry"),
        (BlockedAddress("10.0.0.1 is private"), "drop"),
        (DomainBlocked("evil.test"), "drop"),
        (ResponseTooLarge("Content-Length 9999999"), "done"),
        (HTTPStatusError(410, "http://x.test/inbox"), "drop"),
        (HTTPStatusError(503, "http://x.test/inbox"), "retry"),
    ],
)
def test_classify_errors_by_kind(error: Exception, expected: str) -> None:
    assert classify(None, error) == expected


def test_classify_retries_when_there_is_neither_status_nor_error() -> None:
    assert classify(None, None) == "retry"


def test_retry_delay_follows_n4_plus_15_without_jitter() -> None:
    # Given Sidekiq's retry count n = attempts - 1
    assert [retry_delay(a, 0.0) for a in (1, 2, 3, 5, 16)] == [15.0, 16.0, 31.0, 271.0, 50_640.0]


def test_retry_delay_is_monotonic_for_a_fixed_jitter() -> None:
    for jitter in (0.0, 0.5, 1.0):
        delays = [retry_delay(a, jitter) for a in range(1, MAX_ATTEMPTS)]
        assert delays == sorted(delays)
        assert len(set(delays)) == len(delays)


def test_retry_delay_jitter_is_bounded_by_30_times_n_plus_1() -> None:
    rng = random.Random(7)
    for attempts in range(1, MAX_ATTEMPTS):
        n = attempts - 1
        for _ in range(50):
            delay = retry_delay(attempts, rng.random())
            assert n**4 + 15 <= delay <= n**4 + 15 + 30 * (n + 1)


def test_retry_delay_rejects_out_of_range_arguments() -> None:
    with pytest.raises(ValueError, match="attempts"):
        retry_delay(0, 0.5)
    with pytest.raises(ValueError, match="jitter"):
        retry_delay(1, 1.5)


def test_retry_span_is_two_to_three_days_for_the_default_attempts() -> None:
    # Given the default of 17 attempts (the first and Mastodon's 16 retries)
    assert MAX_ATTEMPTS == 17
    # Then all retries span about two days, whatever the jitter
    shortest, longest = retry_span(MAX_ATTEMPTS, 0.0), retry_span(MAX_ATTEMPTS, 1.0)
    assert shortest == 178_552.0          # Σ n⁴ + 15 for n = 0..15
    assert longest == shortest + 30 * sum(range(1, 17))
    assert 2 * DAY <= shortest < longest <= 3 * DAY


def test_next_attempt_at_stops_after_the_last_attempt() -> None:
    now = 1_000.0
    assert next_attempt_at(now, 1, 3, 0.0) == now + 15
    assert next_attempt_at(now, 2, 3, 1.0) == now + 16 + 60
    assert next_attempt_at(now, 3, 3, 0.0) is None
    assert next_attempt_at(now, 4, 3, 0.0) is None


def test_breaker_opens_after_threshold_failures_in_a_row_and_cools_off() -> None:
    breaker = CircuitBreaker(threshold=3, cool_off=60.0)
    # Given two failures, the host is still tried
    breaker.record("x.test", ok=False, now=0.0)
    breaker.record("x.test", ok=False, now=1.0)
    assert not breaker.is_open("x.test", 2.0)
    # When the third fails in a row
    breaker.record("x.test", ok=False, now=2.0)
    # Then sends fail fast for the cool-off, other hosts unaffected
    assert breaker.is_open("x.test", 2.0)
    assert breaker.is_open("x.test", 61.9)
    assert not breaker.is_open("y.test", 2.0)
    # and after the cool-off one more try is allowed
    assert not breaker.is_open("x.test", 62.0)


def test_breaker_resets_on_success() -> None:
    breaker = CircuitBreaker(threshold=2, cool_off=60.0)
    breaker.record("x.test", ok=False, now=0.0)
    breaker.record("x.test", ok=True, now=1.0)
    breaker.record("x.test", ok=False, now=2.0)
    assert not breaker.is_open("x.test", 2.0)


def test_breaker_forgets_cooled_off_hosts_when_full() -> None:
    breaker = CircuitBreaker(threshold=1, cool_off=10.0, max_hosts=2)
    breaker.record("a.test", ok=False, now=0.0)
    breaker.record("b.test", ok=False, now=0.0)
    breaker.record("c.test", ok=False, now=100.0)
    assert len(breaker._lights) == 1
    assert breaker.is_open("c.test", 100.0)
