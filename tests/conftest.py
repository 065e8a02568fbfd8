"""Shared fixtures: in-process federations of instances."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.instances import Federation


@pytest.fixture
async def federation(tmp_path: Path) -> AsyncIterator[Federation]:
    fed = Federation(tmp_path)
    try:
        yield fed
    finally:
        await fed.aclose()
