"""Verifying an incoming request's HTTP signature end to end: parse, policy, key, crypto, rotation."""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping

from fediverse_learn.errors import DomainBlocked, SignatureError, ValidationError
from fediverse_learn.services import Services
from fediverse_learn.signatures import PublicKey, load_public_key, read_signature, verify_signature
from fediverse_learn.vocab import host_of

__all__ = ["is_signed", "verify_request"]

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1024)
def _public_key(pem: str) -> PublicKey:
    """load_public_key, cached by the PEM text (the key row's content): a changed key is a new entry."""
    return load_public_key(pem)


def is_signed(headers: Mapping[str, str]) -> bool:
    """Whether a request carries an HTTP signature in any form we read (headers keyed lowercase)."""
    return (
        "signature" in headers
        or "signature-input" in headers
        or headers.get("authorization", "").lower().startswith("signature ")
    )


async def verify_request(
    services: Services, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes | None,
) -> str:
    """Return the URI of the actor who signed the request (the key's verified owner).

    Order (SECURITY.md b.1 item 8): parse and check everything that needs no key; refuse a blocked key
    host without fetching (DomainBlocked); fetch the key (cached; KeyFetchUnavailable when transient);
    verify, refetching the key once on failure in case it was rotated."""
    if headers.get("host", "").lower() != services.uris.domain:
        raise SignatureError(f"request Host {headers.get('host')!r} is not {services.uris.domain}")
    target = services.uris.base + path + (f"?{query}" if query else "")
    sig = read_signature(method, target, headers, body, services.clock.time(),
                         services.config.federation.signature_max_skew)
    try:
        key_host = host_of(sig.key_id)
    except ValidationError as exc:
        raise SignatureError(f"bad keyId {sig.key_id!r}: {exc}") from None
    if not await services.host_allowed(key_host):
        raise DomainBlocked(f"{key_host} is blocked by the federation policy")
    key = await services.resolver.key(sig.key_id)
    try:
        verify_signature(sig, _public_key(key.public_key_pem))
    except SignatureError:
        fresh = await services.resolver.key(sig.key_id, refresh=True)
        if fresh.public_key_pem == key.public_key_pem:
            raise
        log.info("key %s changed; verifying with the new key", sig.key_id)
        verify_signature(sig, _public_key(fresh.public_key_pem))
        key = fresh
    return key.owner
