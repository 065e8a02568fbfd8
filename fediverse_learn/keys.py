"""Actor key pairs: RSA-2048 generation off the event loop, PEM loading cached per key."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["KeyPair", "PrivateKeyCache", "generate_key_pair", "generate_key_pair_sync"]


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str


def generate_key_pair_sync(bits: int = 2048) -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
    return KeyPair(private_pem=private_pem, public_pem=public_pem)


async def generate_key_pair(bits: int = 2048) -> KeyPair:
    """Generate an RSA key pair in a worker thread (it takes tens to hundreds of milliseconds)."""
    return await asyncio.to_thread(generate_key_pair_sync, bits)


class PrivateKeyCache:
    """Loads each private key PEM once (loading costs ~36 ms); keyed by the PEM text."""

    def __init__(self) -> None:
        self._keys: dict[str, rsa.RSAPrivateKey] = {}

    def load(self, pem: str) -> rsa.RSAPrivateKey:
        key = self._keys.get(pem)
        if key is None:
            loaded = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
            if not isinstance(loaded, rsa.RSAPrivateKey):
                raise TypeError("only RSA private keys are used for signing")
            key = self._keys[pem] = loaded
        return key
