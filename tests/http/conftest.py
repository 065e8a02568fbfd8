"""Fixtures of the HTTP client tests: one raw loopback server a test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.raw_server import RawServer


@pytest.fixture
async def server() -> AsyncIterator[RawServer]:
    srv = RawServer()
    await srv.start()
    yield srv
    await srv.stop()
