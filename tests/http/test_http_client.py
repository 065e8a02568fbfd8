"""Tests of the outbound HTTP client: every fetching rule fails closed with a clear error.

Real sockets only ever reach 127.0.0.1: the test resolver maps *.test names, and the network backend
under the guard refuses (AssertionError) any connect outside 127.0.0.0/8.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping
from datetime import UTC, datetime
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from typing import Any

import httpcore
import httpx
import orjson
import pytest

from fediverse_learn.errors import (
    BadContentType,
    BlockedAddress,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    IdMismatch,
    ResponseTooLarge,
    TooManyRedirects,
    ValidationError,
)
from fediverse_learn.http import (
    AP_ACCEPT,
    HttpClient,
    SigningAuth,
    build_guarded_transport,
    is_activitypub_media_type,
)
from fediverse_learn.netpolicy import AddressPolicy
from tests.support.raw_server import Handler, RawServer, respond

AP_TYPE = "application/activity+json"
LOOPBACK_ONLY = AddressPolicy(allow_private=False, allowed_networks=(ip_network("127.0.0.1/32"),))
NAMES: dict[str, list[str]] = {
    "social.test": ["127.0.0.1"],
    "other.test": ["127.0.0.1"],
    "evil.test": ["10.0.0.1"],
    "multi.test": ["127.0.0.1", "10.0.0.1"],
    "public4.test": ["93.184.215.14"],
    "public6.test": ["2001:4860::8888"],
}


async def fake_resolver(host: str, port: int) -> list[IPv4Address | IPv6Address]:
    if host not in NAMES:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return [ip_address(a) for a in NAMES[host]]


def fake_signer(method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> dict[str, str]:
    signed = {"X-Test-Signed": f"{method} {url}"}
    if body is not None:
        signed["X-Test-Body-Length"] = str(len(body))
    return signed


def now() -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC)


class LoopbackOnlyBackend(httpcore.AsyncNetworkBackend):
    """The real socket backend, refusing to connect anywhere but 127.0.0.0/8; records every connect."""

    def __init__(self) -> None:
        self.connects: list[str] = []
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connects.append(host)
        if ip_address(host) not in ip_network("127.0.0.0/8"):
            raise AssertionError(f"test tried to connect to {host}")
        return await self._inner.connect_tcp(host, port, timeout=timeout, local_address=local_address)


class FakeStream(httpcore.AsyncNetworkStream):
    def __init__(self, backend: FakeBackend) -> None:
        self._backend = backend

    async def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> httpcore.AsyncNetworkStream:
        self._backend.tls_names.append(server_hostname)
        raise httpcore.ConnectError("fake TLS handshake failure")

    async def aclose(self) -> None:
        pass


class FakeBackend(httpcore.AsyncNetworkBackend):
    """Sends nothing anywhere: records the connect and the TLS server name, then fails the handshake."""

    def __init__(self) -> None:
        self.connects: list[str] = []
        self.tls_names: list[str | None] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connects.append(host)
        return FakeStream(self)


def redirect(location: str, status: int = 302) -> Handler:
    return respond(status, headers={"Location": location})


def document(doc_id: str, content_type: str = AP_TYPE, **extra: Any) -> Handler:
    body = orjson.dumps({"id": doc_id, "type": "Note", **extra})
    return respond(body=body, headers={"Content-Type": content_type})


async def drip(writer: asyncio.StreamWriter) -> None:
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\nContent-Length: 1000\r\n\r\n"
    )
    for _ in range(100):
        writer.write(b" ")
        await writer.drain()
        await asyncio.sleep(0.05)


MakeClient = Callable[..., HttpClient]


@pytest.fixture
async def make_client() -> AsyncIterator[MakeClient]:
    clients: list[HttpClient] = []

    def make(
        *,
        allow_http: bool = True,
        backend: httpcore.AsyncNetworkBackend | None = None,
        policy: AddressPolicy = LOOPBACK_ONLY,
        **kwargs: Any,
    ) -> HttpClient:
        transport = build_guarded_transport(policy, fake_resolver, backend or LoopbackOnlyBackend())
        client = HttpClient(
            policy,
            allow_http,
            user_agent="fediverse-learn-test",
            clock_now=now,
            transport=transport,
            **kwargs,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


# --- success, and what reaches the wire -----------------------------------------------------------


async def test_fetch_activitypub_connects_to_checked_ip_with_host_name(
    server: RawServer, make_client: MakeClient
) -> None:
    url = server.url("/notes/1")
    server.routes["/notes/1"] = document(url)
    backend = LoopbackOnlyBackend()

    fetched = await make_client(backend=backend).fetch_activitypub(url, signer=fake_signer)

    assert fetched.url == url
    assert fetched.status == 200
    assert fetched.document["type"] == "Note"
    assert fetched.content_type == AP_TYPE
    assert backend.connects == ["127.0.0.1"]
    (seen,) = server.seen
    assert seen.headers["host"] == f"social.test:{server.port}"
    assert seen.headers["accept"] == AP_ACCEPT
    assert seen.headers["user-agent"] == "fediverse-learn-test"
    assert seen.headers["x-test-signed"] == f"GET {url}"


async def test_tls_server_name_is_the_host_name_not_the_ip(make_client: MakeClient) -> None:
    backend = FakeBackend()

    with pytest.raises(FetchError, match="TLS handshake"):
        await make_client(backend=backend).fetch_activitypub("https://social.test/notes/1")

    assert backend.connects == ["127.0.0.1"]
    assert backend.tls_names == ["social.test"]


@pytest.mark.parametrize(
    ("name", "address"), [("public4.test", "93.184.215.14"), ("public6.test", "2001:4860::8888")]
)
async def test_public_addresses_are_allowed(make_client: MakeClient, name: str, address: str) -> None:
    backend = FakeBackend()  # nothing leaves the machine: the fake fails the TLS handshake

    with pytest.raises(FetchError, match="TLS handshake"):
        await make_client(backend=backend).fetch_activitypub(f"https://{name}/notes/1")

    assert backend.connects == [address]


# --- address policy at connect time -----------------------------------------------------------------


async def test_name_resolving_to_private_address_is_refused_before_connect(make_client: MakeClient) -> None:
    backend = LoopbackOnlyBackend()

    with pytest.raises(BlockedAddress, match=r"private address 10\.0\.0\.1 refused"):
        await make_client(backend=backend).fetch_activitypub("http://evil.test/notes/1")

    assert backend.connects == []


async def test_name_with_one_private_address_among_several_is_refused(make_client: MakeClient) -> None:
    backend = LoopbackOnlyBackend()

    with pytest.raises(BlockedAddress, match=r"10\.0\.0\.1"):
        await make_client(backend=backend).fetch_activitypub("http://multi.test/notes/1")

    assert backend.connects == []


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/x",
        "http://127.0.0.2/x",
        "http://0.0.0.0/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x",
        "http://[::]/x",
        "http://[::ffff:10.0.0.1]/x",
        "http://[64:ff9b::a00:1]/x",
        "http://[fe80::1]/x",
    ],
)
async def test_private_ip_literal_is_refused_before_connect(make_client: MakeClient, url: str) -> None:
    backend = LoopbackOnlyBackend()

    with pytest.raises(BlockedAddress, match="refused"):
        await make_client(backend=backend).fetch_json(url, "application/json")

    assert backend.connects == []


async def test_redirect_to_private_address_is_refused(
    server: RawServer, make_client: MakeClient
) -> None:
    server.routes["/start"] = redirect("http://evil.test/admin")
    backend = LoopbackOnlyBackend()

    with pytest.raises(BlockedAddress, match=r"private address 10\.0\.0\.1"):
        await make_client(backend=backend).fetch_activitypub(server.url("/start"))

    assert backend.connects == ["127.0.0.1"]


@pytest.mark.parametrize(
    "location", ["http://169.254.169.254/latest/meta-data/", "file:///etc/passwd", "gopher://social.test/"]
)
async def test_redirect_to_forbidden_target_is_refused(
    server: RawServer, make_client: MakeClient, location: str
) -> None:
    server.routes["/start"] = redirect(location)

    with pytest.raises(BlockedAddress):
        await make_client().fetch_activitypub(server.url("/start"))

    assert len(server.seen) == 1


async def test_http_is_refused_when_not_allowed(make_client: MakeClient) -> None:
    backend = LoopbackOnlyBackend()

    with pytest.raises(BlockedAddress, match="scheme 'http'"):
        await make_client(allow_http=False, backend=backend).fetch_activitypub("http://social.test/notes/1")

    assert backend.connects == []


async def test_redirect_to_http_is_refused_when_not_allowed(make_client: MakeClient) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(301, headers={"Location": "http://social.test/notes/1"})

    client = HttpClient(
        LOOPBACK_ONLY, False, user_agent="t", clock_now=now, transport=httpx.MockTransport(handler)
    )
    async with client:
        with pytest.raises(BlockedAddress, match="scheme 'http'"):
            await client.fetch_activitypub("https://social.test/notes/1")


async def test_userinfo_is_refused(make_client: MakeClient) -> None:
    with pytest.raises(BlockedAddress, match="userinfo"):
        await make_client().fetch_activitypub("https://alice:secret@social.test/notes/1")


# --- redirects --------------------------------------------------------------------------------------


async def test_three_redirects_are_followed_and_every_hop_is_signed(
    server: RawServer, make_client: MakeClient
) -> None:
    final = server.url("/notes/1", host="other.test")
    server.routes["/r1"] = redirect("/r2", 301)
    server.routes["/r2"] = redirect(server.url("/r3"), 307)
    server.routes["/r3"] = redirect(final, 308)
    server.routes["/notes/1"] = document(final)

    fetched = await make_client().fetch_activitypub(server.url("/r1"), signer=fake_signer)

    assert fetched.url == final  # a redirect to another origin: the identity is the final URL's
    assert [s.headers["x-test-signed"] for s in server.seen] == [
        f"GET {server.url('/r1')}",
        f"GET {server.url('/r2')}",
        f"GET {server.url('/r3')}",
        f"GET {final}",
    ]
    assert server.seen[-1].headers["host"] == f"other.test:{server.port}"


async def test_fourth_redirect_is_too_many(server: RawServer, make_client: MakeClient) -> None:
    for i in range(1, 5):
        server.routes[f"/r{i}"] = redirect(f"/r{i + 1}")
    server.routes["/r5"] = document(server.url("/r5"))

    with pytest.raises(TooManyRedirects, match="more than 3 redirects"):
        await make_client().fetch_activitypub(server.url("/r1"))

    assert [s.path for s in server.seen] == ["/r1", "/r2", "/r3", "/r4"]


async def test_redirect_loop_is_detected(server: RawServer, make_client: MakeClient) -> None:
    server.routes["/a"] = redirect("/b")
    server.routes["/b"] = redirect(server.url("/a"))

    with pytest.raises(TooManyRedirects, match="loop"):
        await make_client().fetch_activitypub(server.url("/a"))

    assert [s.path for s in server.seen] == ["/a", "/b"]


async def test_redirect_without_location_fails(server: RawServer, make_client: MakeClient) -> None:
    server.routes["/a"] = respond(302)

    with pytest.raises(FetchError, match="without a Location"):
        await make_client().fetch_activitypub(server.url("/a"))


# --- size and time limits ----------------------------------------------------------------------------


async def test_declared_content_length_over_cap_is_refused_early(
    server: RawServer, make_client: MakeClient
) -> None:
    server.routes["/big"] = respond(body=b" " * 5000, headers={"Content-Type": AP_TYPE})

    with pytest.raises(ResponseTooLarge, match="Content-Length 5000 exceeds 1000"):
        await make_client(max_body_bytes=1000).fetch_activitypub(server.url("/big"))


async def test_streamed_body_over_cap_is_refused(server: RawServer, make_client: MakeClient) -> None:
    server.routes["/big"] = respond(body=b" " * 5000, headers={"Content-Type": AP_TYPE}, with_length=False)

    with pytest.raises(ResponseTooLarge, match="body exceeds 1000 bytes"):
        await make_client(max_body_bytes=1000).fetch_activitypub(server.url("/big"))


async def test_gzip_bomb_is_refused_by_decompressed_size(
    server: RawServer, make_client: MakeClient
) -> None:
    bomb = gzip.compress(b"\0" * (8 * 1024 * 1024))
    assert len(bomb) < 1_048_576
    server.routes["/bomb"] = respond(body=bomb, headers={"Content-Type": AP_TYPE, "Content-Encoding": "gzip"})

    with pytest.raises(ResponseTooLarge, match="body exceeds 1048576 bytes"):
        await make_client().fetch_activitypub(server.url("/bomb"))


@pytest.mark.parametrize(("encoding", "compress"), [("gzip", gzip.compress), ("deflate", zlib.compress)])
async def test_compressed_body_under_cap_is_decoded(
    server: RawServer, make_client: MakeClient, encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    url = server.url("/notes/1")
    body = compress(orjson.dumps({"id": url, "content": "x" * 10_000}))
    server.routes["/notes/1"] = respond(
        body=body, headers={"Content-Type": AP_TYPE, "Content-Encoding": encoding}
    )

    fetched = await make_client().fetch_activitypub(url)

    assert fetched.document["content"] == "x" * 10_000
    assert server.seen[0].headers["accept-encoding"] == "gzip, deflate"


async def test_unsupported_content_encoding_fails(server: RawServer, make_client: MakeClient) -> None:
    server.routes["/br"] = respond(body=b"xx", headers={"Content-Type": AP_TYPE, "Content-Encoding": "br"})

    with pytest.raises(FetchError, match="unsupported Content-Encoding"):
        await make_client().fetch_activitypub(server.url("/br"))


async def test_slow_body_hits_the_total_deadline(server: RawServer, make_client: MakeClient) -> None:
    server.routes["/slow"] = drip
    started = time.monotonic()

    with pytest.raises(FetchTimeout, match=r"within 0\.5 s"):
        await make_client(timeout_total=0.5).fetch_activitypub(server.url("/slow"))

    assert time.monotonic() - started < 2.0


# --- answers that are not what we asked for ------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410, 500])
async def test_non_success_status_carries_the_status(
    server: RawServer, make_client: MakeClient, status: int
) -> None:
    server.routes["/gone"] = respond(status)

    with pytest.raises(HTTPStatusError) as caught:
        await make_client().fetch_activitypub(server.url("/gone"))

    assert caught.value.status == status
    assert caught.value.url == server.url("/gone")


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "text/html; charset=utf-8",
        "application/ld+json",
        'application/ld+json; profile="https://example.test/activitystreams"',
        "",
    ],
)
async def test_wrong_content_type_is_refused(
    server: RawServer, make_client: MakeClient, content_type: str
) -> None:
    url = server.url("/notes/1")
    server.routes["/notes/1"] = document(url, content_type=content_type)

    with pytest.raises(BadContentType, match="not ActivityPub"):
        await make_client().fetch_activitypub(url)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/activity+json",
        "Application/Activity+JSON; charset=utf-8",
        'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
        'application/ld+json;charset=utf-8;profile="https://w3id.org/x https://www.w3.org/ns/activitystreams"',
        "application/ld+json; profile=https://www.w3.org/ns/activitystreams",
    ],
)
def test_activitypub_media_types_are_recognised(content_type: str) -> None:
    assert is_activitypub_media_type(content_type)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        'application/ld+json; profile="https://www.w3.org/ns/activitystreams-extra"',
        'application/json; profile="https://www.w3.org/ns/activitystreams"',
        'application/ld+json; foo="https://www.w3.org/ns/activitystreams"',
        "application/activity+jsonx",
    ],
)
def test_other_media_types_are_not_activitypub(content_type: str) -> None:
    assert not is_activitypub_media_type(content_type)


@pytest.mark.parametrize("claimed", ["https://other.test/notes/1", None, 42])
async def test_id_mismatch_is_refused(server: RawServer, make_client: MakeClient, claimed: Any) -> None:
    body = orjson.dumps({"id": claimed, "type": "Note"} if claimed else {"type": "Note"})
    server.routes["/notes/1"] = respond(body=body, headers={"Content-Type": AP_TYPE})

    with pytest.raises(IdMismatch, match="claims id"):
        await make_client().fetch_activitypub(server.url("/notes/1"))


async def test_id_must_match_final_url_after_redirect(
    server: RawServer, make_client: MakeClient
) -> None:
    server.routes["/old"] = redirect("/new")
    server.routes["/new"] = document(server.url("/old"))  # claims the URL we asked for, not where it lives

    with pytest.raises(IdMismatch):
        await make_client().fetch_activitypub(server.url("/old"))


@pytest.mark.parametrize("body", [b"[1, 2]", b'"id"', b"{not json", b""])
async def test_non_object_json_is_a_validation_error(
    server: RawServer, make_client: MakeClient, body: bytes
) -> None:
    server.routes["/x"] = respond(body=body, headers={"Content-Type": AP_TYPE})

    with pytest.raises(ValidationError):
        await make_client().fetch_activitypub(server.url("/x"))


# --- network failures ----------------------------------------------------------------------------------


async def test_connection_refused_is_a_fetch_error(make_client: MakeClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(FetchError, match="ConnectError") as caught:
        await make_client().fetch_activitypub(f"http://social.test:{port}/notes/1")

    assert type(caught.value) is FetchError


async def test_dns_failure_is_a_fetch_error(make_client: MakeClient) -> None:
    with pytest.raises(FetchError, match=r"could not resolve unknown\.test") as caught:
        await make_client().fetch_activitypub("http://unknown.test/notes/1")

    assert type(caught.value) is FetchError


# --- fetch_json and post --------------------------------------------------------------------------------


async def test_fetch_json_follows_redirects_without_activitypub_rules(
    server: RawServer, make_client: MakeClient
) -> None:
    server.routes["/.well-known/nodeinfo"] = redirect("/nodeinfo")
    server.routes["/nodeinfo"] = respond(body=b'{"links": []}', headers={"Content-Type": "application/json"})

    final, data = await make_client().fetch_json(server.url("/.well-known/nodeinfo"), "application/json")

    assert final == server.url("/nodeinfo")
    assert data == {"links": []}
    assert server.seen[0].headers["accept"] == "application/json"


async def test_post_is_signed_over_its_body(server: RawServer, make_client: MakeClient) -> None:
    server.routes["/inbox"] = respond(202, body=b"ok")
    payload = orjson.dumps({"type": "Follow"})

    response = await make_client().post(server.url("/inbox"), payload, AP_TYPE, fake_signer)

    assert response.status_code == 202
    assert response.content == b"ok"
    (seen,) = server.seen
    assert (seen.method, seen.body) == ("POST", payload)
    assert seen.headers["content-type"] == AP_TYPE
    assert seen.headers["x-test-signed"] == f"POST {server.url('/inbox')}"
    assert seen.headers["x-test-body-length"] == str(len(payload))


async def test_post_does_not_follow_redirects(server: RawServer, make_client: MakeClient) -> None:
    server.routes["/inbox"] = redirect("http://evil.test/inbox")

    response = await make_client().post(server.url("/inbox"), b"{}", AP_TYPE, None)

    assert response.status_code == 302
    assert response.headers["location"] == "http://evil.test/inbox"
    assert len(server.seen) == 1


async def test_post_response_body_over_cap_is_discarded_status_kept(
    server: RawServer, make_client: MakeClient,
) -> None:
    # A delivery's outcome is its status: an oversized answer body is dropped, never buffered past the cap.
    server.routes["/inbox"] = respond(503, body=b" " * 5000, with_length=False)

    response = await make_client(max_body_bytes=1000).post(server.url("/inbox"), b"{}", AP_TYPE, None)
    assert response.status_code == 503
    assert response.content == b""


async def test_post_refuses_private_address(make_client: MakeClient) -> None:
    with pytest.raises(BlockedAddress, match="private address"):
        await make_client().post("http://evil.test/inbox", b"{}", AP_TYPE, fake_signer)


async def test_default_transport_uses_the_given_resolver_and_policy(server: RawServer) -> None:
    url = server.url("/notes/1")
    server.routes["/notes/1"] = document(url)

    async with HttpClient(
        LOOPBACK_ONLY, True, user_agent="t", clock_now=now, resolver=fake_resolver
    ) as client:
        assert (await client.fetch_activitypub(url)).url == url
        with pytest.raises(BlockedAddress, match=r"10\.0\.0\.1"):
            await client.fetch_activitypub("http://evil.test/notes/1")


# --- injected transports (in-process federation tests) --------------------------------------------------


async def test_injected_transport_is_used_without_dns(make_client: MakeClient) -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        body = orjson.dumps({"id": str(request.url), "type": "Person"})
        return httpx.Response(200, content=body, headers={"Content-Type": AP_TYPE})

    client = HttpClient(
        LOOPBACK_ONLY, False, user_agent="t", clock_now=now, transport=httpx.MockTransport(handler)
    )
    async with client:
        fetched = await client.fetch_activitypub("https://remote.test/users/bob", signer=fake_signer)

    assert fetched.document["type"] == "Person"
    assert requests[0].headers["x-test-signed"] == "GET https://remote.test/users/bob"


async def test_injected_asgi_transport_streams_the_body(make_client: MakeClient) -> None:
    async def app(
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None:
        body = orjson.dumps({"id": "https://remote.test/users/bob", "type": "Person"})
        headers = [(b"content-type", AP_TYPE.encode()), (b"content-encoding", b"gzip")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": gzip.compress(body)})

    transport = httpx.ASGITransport(app=app)
    async with HttpClient(LOOPBACK_ONLY, False, user_agent="t", clock_now=now, transport=transport) as client:
        fetched = await client.fetch_activitypub("https://remote.test/users/bob")

    assert fetched.document["type"] == "Person"


async def test_signing_auth_passes_body_to_signer() -> None:
    calls: list[tuple[str, str, bytes | None]] = []

    def signer(method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> dict[str, str]:
        calls.append((method, url, body))
        return {"Signature": "sig"}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=request.headers["signature"])

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), auth=SigningAuth(signer)) as client:
        response = await client.post("https://remote.test/inbox", content=b"payload")

    assert response.text == "sig"
    assert calls == [("POST", "https://remote.test/inbox", b"payload")]
