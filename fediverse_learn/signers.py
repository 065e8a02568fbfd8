"""Signers: bind a local actor's key to the draft-cavage signing function for the HTTP client."""

from __future__ import annotations

from collections.abc import Mapping

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from fediverse_learn.clock import Clock
from fediverse_learn.signatures import sign_request

__all__ = ["CavageSigner"]


class CavageSigner:
    """Signs requests as one actor (draft-cavage rsa-sha256, as Mastodon sends them)."""

    def __init__(self, key_id: str, private_key: RSAPrivateKey, clock: Clock) -> None:
        self.key_id = key_id
        self._key = private_key
        self._clock = clock

    def __call__(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> dict[str, str]:
        return sign_request(method, url, headers, body, self.key_id, self._key, self._clock.now())
