"""A page in headless chromium (Debian's, driven by Playwright) for browser tests. Without chromium or Playwright
the tests skip on a developer's machine and fail under CI (`CI` set), so they never go quietly missing there."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

__all__ = ["open_page"]

# Quiet and self-contained: no sandbox (tests may run as root), no GPU, and none of the background calls home
# that fail without internet and fill the log.
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 10_000


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"{reason}; CI is set, so the browser tests must run (`make test` installs chromium)",
                    pytrace=False)
    pytest.skip(reason)


@contextmanager
def open_page() -> Iterator[Page]:
    """A page in a fresh headless chromium with an empty profile. Enter it after anything that calls
    `asyncio.run` (such as `live_instance`): Playwright's sync API marks this thread's event loop as running."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install -e '.[test]')")
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if chromium is None:
        _unavailable("chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=LAUNCH_ARGS)
        try:
            context = browser.new_context(viewport={"width": 800, "height": 600})
            context.set_default_timeout(TIMEOUT_MS)
            yield context.new_page()
            context.close()
        finally:
            browser.close()
