"""Two real `fediverse-learn serve` processes on loopback, shared by the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import ServerProcess, start_server


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    a = start_server(tmp_path, "a")
    try:
        b = start_server(tmp_path, "b")
    except BaseException:
        a.stop()
        raise
    try:
        yield a, b
    finally:
        for s in (a, b):
            s.stop()
