"""Fixtures shared by the federation tests."""

from __future__ import annotations

import pytest

from tests.support.fixture_server import KeyRing


@pytest.fixture(scope="module")
def keyring() -> KeyRing:
    """Fixture actors' keys, made once per module (RSA key generation is slow)."""
    return KeyRing()
