"""Interop tests run only under `make interop` (FEDIVERSE_LEARN_INTEROP=1); `make test` skips them."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "interop: end-to-end flows against an independent implementation (a Fedify peer); "
        "run with FEDIVERSE_LEARN_INTEROP=1",
    )
