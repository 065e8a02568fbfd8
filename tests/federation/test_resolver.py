"""Resolving remote actors between two in-process instances, with real signed GETs."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from fediverse_learn.errors import DomainBlocked, HTTPStatusError, KeyFetchError, ValidationError
from fediverse_learn.signatures import sign_request
from fediverse_learn.store.domains import set_rule
from tests.support.instances import Federation

AP = "application/activity+json"


async def test_resolver_fetches_remote_actor_with_a_signed_get_the_remote_verifies(federation: Federation) -> None:
    a = await federation.add("a.test")
    b = await federation.add("b.test")
    await b.add_member("bea", display_name="Bea")
    # When a resolves bea by handle
    actor = await a.services.resolver.actor_by_handle("bea@b.test")
    # Then it got her Person with its key
    assert actor.uri == "http://b.test/users/bea"
    assert actor.name == "Bea"
    assert actor.keys[0].key_id == "http://b.test/users/bea#main-key"
    # and the GET of her actor was signed by a's instance actor, which b verified by fetching a's key
    gets = federation.network.sent_to("b.test", "GET", "/users/bea")
    assert len(gets) == 1 and gets[0].status == 200
    assert 'keyId="http://a.test/actor#main-key"' in gets[0].headers["signature"]
    assert federation.network.sent_to("a.test", "GET", "/actor")[0].status == 200
    # and a second look-up is served from the cache
    again = await a.services.resolver.actor_by_handle("bea@b.test")
    assert again == actor
    assert len(federation.network.sent_to("b.test", "GET", "/users/bea")) == 1


async def _signed_get(fed: Federation, path: str, *, age: float = 0.0, tamper: bool = False) -> httpx.Response:
    a = fed.instances["a.test"]
    b = fed.instances["b.test"]
    url = f"http://b.test{path}"
    signer = a.services.signer_for(a.services.instance)
    headers = {"Accept": AP}
    now = fed.clock.now() - timedelta(seconds=age)
    from fediverse_learn.keys import PrivateKeyCache

    key = PrivateKeyCache().load(a.services.instance.private_key_pem)
    headers.update(sign_request("GET", url, headers, None, signer.key_id, key, now))
    if tamper:
        headers["Signature"] = headers["Signature"].replace('signature="', 'signature="AAAA')
    return await b.client.get(path, headers=headers)


async def test_signed_get_with_tampered_signature_is_401_with_reason(federation: Federation) -> None:
    await federation.add("a.test")
    b = await federation.add("b.test")
    await b.add_member("bea")
    ok = await _signed_get(federation, "/users/bea")
    assert ok.status_code == 200
    bad = await _signed_get(federation, "/users/bea", tamper=True)
    assert bad.status_code == 401
    assert "verif" in bad.json()["error"].lower()


async def test_signed_get_with_expired_signature_is_401_with_reason(federation: Federation) -> None:
    await federation.add("a.test")
    b = await federation.add("b.test")
    await b.add_member("bea")
    stale = await _signed_get(federation, "/users/bea", age=3 * 3600)
    assert stale.status_code == 401
    assert "time window" in stale.json()["error"]


async def test_resolver_refuses_blocked_domain_without_fetching(federation: Federation) -> None:
    a = await federation.add("a.test")
    b = await federation.add("b.test")
    await b.add_member("bea")
    await set_rule(a.services.db, "b.test", "block", federation.clock.time())
    a.services.forget_domain_rules()
    with pytest.raises(DomainBlocked):
        await a.services.resolver.actor_by_handle("bea@b.test")
    assert federation.network.sent_to("b.test") == []


async def test_resolver_unknown_handle_fails_clearly(federation: Federation) -> None:
    a = await federation.add("a.test")
    await federation.add("b.test")
    with pytest.raises(HTTPStatusError) as err:
        await a.services.resolver.actor_by_handle("nobody@b.test")
    assert err.value.status == 404


async def test_resolver_rejects_bad_handles_before_any_request(federation: Federation) -> None:
    a = await federation.add("a.test")
    for handle in ("bea@b.test/secret", "bea@b.test?x=1", "bea@b.test#x", "bea@@b.test", "b.test", "bea@"):
        with pytest.raises(ValidationError):
            await a.services.resolver.actor_by_handle(handle)
    assert federation.network.requests == []


async def test_key_of_unknown_actor_is_a_key_fetch_error(federation: Federation) -> None:
    a = await federation.add("a.test")
    await federation.add("b.test")
    with pytest.raises(KeyFetchError, match=re.escape("Unable to fetch key JSON at http://b.test/users/alice#main-key")):
        await a.services.resolver.key("http://b.test/users/alice#main-key")
