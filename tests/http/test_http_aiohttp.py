"""The aiohttp transport under HttpClient keeps every SSRF rule: names and IP literals are checked, and the
address checked is the address connected.

Real sockets only reach 127.0.0.1: names are mapped by a fake resolver; answers that are not loopback are
refused by the policy before any connect (that is what these tests prove).
"""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from typing import Any

import httpx
import orjson
import pytest

from fediverse_learn.errors import BlockedAddress, FetchError, FetchTimeout, ResponseTooLarge
from fediverse_learn.http import HttpClient
from fediverse_learn.http_aiohttp import AiohttpTransport, GuardedResolver, build_aiohttp_transport
from fediverse_learn.netpolicy import AddressPolicy
from tests.support.raw_server import Handler, RawServer, respond

AP_TYPE = "application/activity+json"
LOOPBACK_ONLY = AddressPolicy(allow_private=False, allowed_networks=(ip_network("127.0.0.1/32"),))
STRICT = AddressPolicy(allow_private=False)
NAMES: dict[str, list[str]] = {
    "social.test": ["127.0.0.1"],
    "evil.test": ["10.0.0.1"],
    "evil6.test": ["fd00::1"],
    "loop6.test": ["::1"],
    "mapped.test": ["::ffff:127.0.0.1"],
    "multi.test": ["127.0.0.1", "10.0.0.1"],
    "public.test": ["93.184.215.14", "2001:4860::8888"],
}


async def fake_resolver(host: str, port: int) -> list[IPv4Address | IPv6Address]:
    if host not in NAMES:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return [ip_address(a) for a in NAMES[host]]


MakeClient = Callable[..., HttpClient]


@pytest.fixture
async def make_client() -> AsyncIterator[MakeClient]:
    clients: list[HttpClient] = []

    def make(policy: AddressPolicy = LOOPBACK_ONLY, **kwargs: Any) -> HttpClient:
        client = HttpClient(policy, True, user_agent="fediverse-learn-test", clock_now=lambda: datetime.now(UTC),
                            transport=build_aiohttp_transport(policy, fake_resolver), **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


def note(url: str) -> Handler:
    return respond(200, orjson.dumps({"id": url, "type": "Note"}), {"Content-Type": AP_TYPE})


def fake_signer(method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> dict[str, str]:
    return {"X-Test-Signed": f"{method} {url} {len(body or b'')}"}


# --- what is allowed, and what reaches the wire --------------------------------------------------------


async def test_name_connects_to_the_checked_loopback_address_with_the_name_as_host(
    server: RawServer, make_client: MakeClient,
) -> None:
    url = server.url("/notes/1")
    server.routes["/notes/1"] = note(url)
    fetched = await make_client().fetch_activitypub(url)
    assert fetched.document["id"] == url
    assert server.connections == 1
    assert server.seen[0].headers["host"] == f"social.test:{server.port}"
    assert server.seen[0].headers["accept-encoding"] == "gzip, deflate"
    assert server.seen[0].headers["user-agent"] == "fediverse-learn-test"


async def test_loopback_literal_is_allowed_by_allowed_networks(server: RawServer, make_client: MakeClient) -> None:
    url = server.url("/notes/1", host="127.0.0.1")
    server.routes["/notes/1"] = note(url)
    assert (await make_client(LOOPBACK_ONLY).fetch_activitypub(url)).url == url


async def test_loopback_is_allowed_by_allow_private(server: RawServer, make_client: MakeClient) -> None:
    url = server.url("/notes/1")
    server.routes["/notes/1"] = note(url)
    assert (await make_client(AddressPolicy(allow_private=True)).fetch_activitypub(url)).url == url


async def test_post_is_signed_and_sent_with_the_exact_encoded_target(
    server: RawServer, make_client: MakeClient,
) -> None:
    server.routes["/users/a%2Fb/inbox"] = respond(202)
    url = server.url("/users/a%2Fb/inbox?x=%7E1")
    response = await make_client().post(url, b'{"a":1}', AP_TYPE, fake_signer)
    assert response.status_code == 202
    seen = server.seen[0]
    assert seen.target == "/users/a%2Fb/inbox?x=%7E1"   # not re-quoted: the signature covers this form
    assert seen.body == b'{"a":1}'
    assert seen.headers["x-test-signed"] == f"POST {url} 7"
    assert seen.headers["content-type"] == AP_TYPE


async def test_gzip_body_is_inflated_by_the_client_and_capped(server: RawServer, make_client: MakeClient) -> None:
    url = server.url("/big")
    server.routes["/big"] = respond(200, gzip.compress(orjson.dumps({"id": url, "pad": "x" * 5000})),
                                   {"Content-Type": AP_TYPE, "Content-Encoding": "gzip"})
    assert (await make_client().fetch_activitypub(url)).document["id"] == url
    with pytest.raises(ResponseTooLarge):
        await make_client(max_body_bytes=2000).fetch_activitypub(url)


async def test_redirect_to_a_private_name_is_refused(server: RawServer, make_client: MakeClient) -> None:
    server.routes["/r"] = respond(302, headers={"Location": "http://evil.test/x"})
    with pytest.raises(BlockedAddress, match=r"10\.0\.0\.1"):
        await make_client().fetch_activitypub(server.url("/r"))
    assert server.connections == 1   # the redirecting server only


# --- refused before any connect ------------------------------------------------------------------------


@pytest.mark.parametrize(("host", "policy"), [
    ("evil.test", LOOPBACK_ONLY), ("evil6.test", LOOPBACK_ONLY), ("loop6.test", LOOPBACK_ONLY),
    ("multi.test", LOOPBACK_ONLY),   # one allowed address does not excuse a forbidden one
    ("mapped.test", STRICT),
])
async def test_name_with_a_forbidden_address_is_refused(make_client: MakeClient, host: str,
                                                        policy: AddressPolicy) -> None:
    with pytest.raises(BlockedAddress):
        await make_client(policy).fetch_activitypub(f"http://{host}/x")


async def test_loopback_name_is_refused_without_connecting_when_the_policy_forbids_it(
    server: RawServer, make_client: MakeClient,
) -> None:
    with pytest.raises(BlockedAddress, match=r"127\.0\.0\.1"):
        await make_client(STRICT).fetch_activitypub(server.url("/x"))
    with pytest.raises(BlockedAddress):
        await make_client(STRICT).post(server.url("/inbox"), b"{}", AP_TYPE, None)
    assert server.connections == 0


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "10.0.0.1", "[fd00::1]", "169.254.169.254",
                                  "[::ffff:127.0.0.1]", "0.0.0.0"])
async def test_forbidden_ip_literal_is_refused(server: RawServer, make_client: MakeClient, host: str) -> None:
    with pytest.raises(BlockedAddress):
        await make_client(STRICT).fetch_activitypub(f"http://{host}:{server.port}/x")
    assert server.connections == 0


@pytest.mark.parametrize("host", ["2130706433", "127.1", "0x7f.0.0.1"])
async def test_non_canonical_ipv4_host_is_never_connected(
    server: RawServer, make_client: MakeClient, host: str,
) -> None:
    with pytest.raises(FetchError):
        await make_client(STRICT).fetch_activitypub(f"http://{host}:{server.port}/x")
    assert server.connections == 0


async def test_unspecified_address_is_refused_even_with_allow_private(make_client: MakeClient) -> None:
    with pytest.raises(BlockedAddress):
        await make_client(AddressPolicy(allow_private=True)).fetch_activitypub("http://0.0.0.0:9/x")


async def test_public_answers_pass_the_resolver_check() -> None:
    answers = await GuardedResolver(STRICT, fake_resolver).resolve("public.test", 443)
    assert [(a["host"], a["family"], a["hostname"]) for a in answers] == [
        ("93.184.215.14", socket.AF_INET, "public.test"), ("2001:4860::8888", socket.AF_INET6, "public.test")]


# --- failures become FetchErrors -----------------------------------------------------------------------


async def test_dns_failure_is_a_fetch_error(make_client: MakeClient) -> None:
    with pytest.raises(FetchError, match="ConnectError"):
        await make_client().fetch_activitypub("http://nowhere.test/x")


async def test_connection_refused_is_a_fetch_error(make_client: MakeClient) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(FetchError, match="ConnectError"):
        await make_client().fetch_activitypub(f"http://social.test:{port}/x")


async def test_silent_server_hits_the_read_timeout(make_client: MakeClient) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        writer.close()

    srv = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    try:
        client = make_client(timeout_total=0.5)
        with pytest.raises(FetchTimeout):
            await client.fetch_activitypub(f"http://social.test:{port}/x")
    finally:
        srv.close()


async def test_transport_is_an_httpx_transport_and_closes() -> None:
    transport = AiohttpTransport(LOOPBACK_ONLY, fake_resolver)
    assert isinstance(transport, httpx.AsyncBaseTransport)
    await transport.aclose()   # never used: nothing to close
