"""Waiting on live servers, whose workers run on their own: poll a probe until it holds, with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["DEADLINE", "eventually"]

T = TypeVar("T")
DEADLINE = 20.0


def eventually(probe: Callable[[], T | None], what: str, timeout: float = DEADLINE, *,
               log: Callable[[], str] | None = None) -> T:
    """Poll `probe` (every 0.1 s) until it returns something other than None/False; after `timeout` s, fail with
    `what`, followed by `log()` when given (a server's log, say)."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None and found is not False:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout:.0f} s: {what}" + (f"\n{log()}" if log else ""))
        time.sleep(0.1)   # poll, do not wait for a fixed time
