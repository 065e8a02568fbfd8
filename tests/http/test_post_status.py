"""The lean delivery POST (`HttpClient.post_status` over the aiohttp transport's `send_raw`) keeps every rule of
the httpx path: the same request on the wire (headers, signature, Digest, body), no redirect followed, the answer
body capped, the time limits, the SSRF checks (IP literals and resolved names), the same errors.

Each test runs the lean path next to the normal one (`post` through httpx's own transport, guarded the same way)
against one raw HTTP/1.1 server on 127.0.0.1; names are mapped by the fake resolver of test_http_aiohttp.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from fediverse_learn import http as http_module
from fediverse_learn.clock import FakeClock
from fediverse_learn.errors import BlockedAddress, FetchError, FetchTimeout
from fediverse_learn.http import HttpClient, build_guarded_transport
from fediverse_learn.http_aiohttp import AiohttpTransport, build_aiohttp_transport
from fediverse_learn.netpolicy import AddressPolicy
from fediverse_learn.signatures import load_public_key, read_signature, verify_signature
from fediverse_learn.signers import CavageSigner
from tests.http.test_http_aiohttp import LOOPBACK_ONLY, STRICT, fake_resolver
from tests.support.raw_server import Handler, RawServer, respond

AP_TYPE = "application/activity+json"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "signatures"
BODY = b'{"type":"Create","id":"https://here.test/a/1"}'


async def endless(writer: asyncio.StreamWriter) -> None:
    """A 503 whose body never ends (no Content-Length): only a cap stops the reader."""
    writer.write(b"HTTP/1.1 503 X\r\nConnection: close\r\n\r\n")
    while True:
        writer.write(b"x" * 65536)
        await writer.drain()   # raises once the client has gone


MakeClient = Callable[..., HttpClient]


@pytest.fixture
async def clients() -> AsyncIterator[tuple[MakeClient, MakeClient]]:
    """(lean, normal): HttpClients over the aiohttp transport, and over httpx's guarded transport."""
    made: list[HttpClient] = []

    def lean(policy: AddressPolicy = LOOPBACK_ONLY, allow_http: bool = True, **kwargs: Any) -> HttpClient:
        transport = build_aiohttp_transport(policy, fake_resolver)
        assert isinstance(transport, AiohttpTransport)

        async def not_the_lean_path(request: httpx.Request) -> httpx.Response:
            raise AssertionError("post_status went through httpx's transport API, not send_raw")

        transport.handle_async_request = not_the_lean_path   # type: ignore[method-assign]
        return keep(HttpClient(policy, allow_http, user_agent="fediverse-learn-test", clock_now=FakeClock().now,
                               transport=transport, **kwargs))

    def normal(policy: AddressPolicy = LOOPBACK_ONLY, allow_http: bool = True, **kwargs: Any) -> HttpClient:
        return keep(HttpClient(policy, allow_http, user_agent="fediverse-learn-test", clock_now=FakeClock().now,
                               transport=build_guarded_transport(policy, fake_resolver), **kwargs))

    def keep(client: HttpClient) -> HttpClient:
        made.append(client)
        return client

    yield lean, normal
    for client in made:
        await client.aclose()


@pytest.fixture(scope="module")
def private_key() -> RSAPrivateKey:
    key = serialization.load_pem_private_key((FIXTURES / "cavage_test_private.pem").read_bytes(), password=None)
    assert isinstance(key, RSAPrivateKey)
    return key


async def outcome(call: Awaitable[Any]) -> tuple[str, int | None]:
    """What a delivery makes of an attempt: the status, or the kind of error."""
    try:
        result = await call
    except FetchError as exc:
        return type(exc).__name__, None
    return "status", result if isinstance(result, int) else result.status_code


# --- the same request on the wire ----------------------------------------------------------------------


async def test_lean_post_sends_exactly_what_the_httpx_path_sends(
    server: RawServer, clients: tuple[MakeClient, MakeClient], private_key: RSAPrivateKey,
) -> None:
    lean, normal = clients
    # Given one signer at a fixed time (RSA PKCS#1 v1.5 signatures are deterministic)
    clock = FakeClock()
    signer = CavageSigner("https://here.test/users/ada#main-key", private_key, clock)
    server.routes["/users/a%2Fb/inbox"] = respond(202)
    url = server.url("/users/a%2Fb/inbox?x=%7E1")
    # When the same activity is POSTed by the httpx path, the lean path, and the lean path's `post`
    assert (await normal().post(url, BODY, AP_TYPE, signer)).status_code == 202
    assert await lean().post_status(url, BODY, AP_TYPE, signer) == 202
    assert (await lean().post(url, BODY, AP_TYPE, signer)).status_code == 202
    # Then the three requests are the same: request line, every header and value, body
    by_httpx, by_lean, by_lean_post = server.seen
    assert by_lean.normalised() == by_httpx.normalised()
    assert by_lean_post.normalised() == by_httpx.normalised()
    assert by_lean.line == "POST /users/a%2Fb/inbox?x=%7E1 HTTP/1.1"   # as signed, not re-quoted
    assert {k.lower() for k, _ in by_lean.fields} >= {
        "host", "date", "digest", "signature", "content-type", "content-length", "user-agent", "accept-encoding"}
    assert by_lean.header("host") == f"social.test:{server.port}"
    assert by_lean.header("user-agent") == "fediverse-learn-test"
    assert by_lean.header("content-type") == AP_TYPE
    # and the signature verifies against what arrived (Digest over the body, Date of the clock, Host)
    sig = read_signature("POST", url, by_lean.headers, by_lean.body, clock.time())
    assert {"(request-target)", "host", "date", "digest", "content-type"} <= set(sig.covered)
    verify_signature(sig, load_public_key((FIXTURES / "cavage_test_public.pem").read_text(encoding="ascii")))


async def test_unsigned_lean_post_sends_what_the_httpx_path_sends(
    server: RawServer, clients: tuple[MakeClient, MakeClient],
) -> None:
    lean, normal = clients
    server.routes["/inbox"] = respond(202)
    await normal().post(server.url("/inbox"), b"", AP_TYPE, None)
    await lean().post_status(server.url("/inbox"), b"", AP_TYPE, None)
    by_httpx, by_lean = server.seen
    assert by_lean.normalised() == by_httpx.normalised()


# --- the answer: redirects, body cap, time limits ------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirect_is_not_followed_and_is_the_outcome(
    server: RawServer, clients: tuple[MakeClient, MakeClient], status: int,
) -> None:
    lean, normal = clients
    server.routes["/inbox"] = respond(status, headers={"Location": server.url("/elsewhere")})
    server.routes["/elsewhere"] = respond(202)
    url = server.url("/inbox")
    assert await outcome(lean().post_status(url, BODY, AP_TYPE, None)) == ("status", status)
    assert await outcome(normal().post(url, BODY, AP_TYPE, None)) == ("status", status)
    assert [r.line.split(" ")[1] for r in server.seen] == ["/inbox", "/inbox"]   # /elsewhere never asked


@pytest.mark.parametrize("handler", [
    endless,
    respond(503, body=b"x" * 5000),                                             # declared over the cap
    respond(503, body=b"x" * 5000, with_length=False),                          # streamed over the cap
    respond(503, gzip.compress(b"x" * 100_000), {"Content-Encoding": "gzip"}),  # inflates over the cap
], ids=["endless", "declared", "streamed", "gzip"])
async def test_answer_body_over_the_cap_is_dropped_and_the_status_kept(
    server: RawServer, clients: tuple[MakeClient, MakeClient], handler: Handler,
) -> None:
    lean, normal = clients
    server.routes["/inbox"] = handler
    url = server.url("/inbox")
    assert await outcome(lean(max_body_bytes=1000, timeout_total=10).post_status(url, BODY, AP_TYPE, None)) == (
        "status", 503)
    assert await outcome(normal(max_body_bytes=1000, timeout_total=10).post(url, BODY, AP_TYPE, None)) == (
        "status", 503)
    assert (await lean(max_body_bytes=1000).post(url, BODY, AP_TYPE, None)).content == b""


async def test_answer_body_under_the_cap_is_read(server: RawServer, clients: tuple[MakeClient, MakeClient]) -> None:
    lean, _ = clients
    server.routes["/inbox"] = respond(400, gzip.compress(b"bad request"), {"Content-Encoding": "gzip"})
    assert await lean(max_body_bytes=1000).post_status(server.url("/inbox"), BODY, AP_TYPE, None) == 400
    assert (await lean(max_body_bytes=1000).post(server.url("/inbox"), BODY, AP_TYPE, None)).content == (
        b"bad request")


async def test_silent_receiver_hits_the_total_deadline(
    server: RawServer, clients: tuple[MakeClient, MakeClient],
) -> None:
    lean, normal = clients
    server.routes["/inbox"] = server.silent
    for client in (lean(timeout_total=0.3), normal(timeout_total=0.3)):
        started = time.monotonic()
        with pytest.raises(FetchTimeout):
            await client.post_status(server.url("/inbox"), BODY, AP_TYPE, None)
        assert time.monotonic() - started < 3   # the deadline, not the 10 s read timeout


async def test_body_trickling_past_the_deadline_hits_the_total_deadline(
    clients: tuple[MakeClient, MakeClient],
) -> None:
    lean, normal = clients

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 202 X\r\nContent-Length: 100\r\n\r\n")
        for _ in range(100):   # one byte every 50 ms: each read is quick, the whole is not
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.05)
        writer.close()

    srv = await asyncio.start_server(trickle, "127.0.0.1", 0)
    url = f"http://social.test:{srv.sockets[0].getsockname()[1]}/inbox"
    try:
        for client in (lean(timeout_total=0.5), normal(timeout_total=0.5)):
            with pytest.raises(FetchTimeout, match=r"within 0\.5 s"):
                await client.post_status(url, BODY, AP_TYPE, None)
    finally:
        srv.close()


async def close_silently(writer: asyncio.StreamWriter) -> None:
    """Reads the request, answers nothing, closes."""


async def not_http(writer: asyncio.StreamWriter) -> None:
    writer.write(b"NOT HTTP\r\n\r\n")
    await writer.drain()


@pytest.mark.parametrize("handler", [
    close_silently,
    not_http,
    respond(202, b"abc", {"Content-Length": "100"}, with_length=False),          # truncated body
    respond(202, b"zz\r\nhello\r\n0\r\n\r\n", {"Transfer-Encoding": "chunked"}, with_length=False),   # bad chunk
    respond(202, b"zz", {"Content-Encoding": "br"}),                                 # an encoding we never asked for
    respond(202, b"not gzip", {"Content-Encoding": "gzip"}),
], ids=["no-answer", "not-http", "truncated", "bad-chunk", "br", "bad-gzip"])
async def test_broken_answer_gives_the_same_outcome_on_both_paths(
    server: RawServer, clients: tuple[MakeClient, MakeClient], handler: Handler,
) -> None:
    lean, normal = clients
    server.routes["/inbox"] = handler
    url = server.url("/inbox")
    assert await outcome(lean().post_status(url, BODY, AP_TYPE, None)) == await outcome(
        normal().post(url, BODY, AP_TYPE, None))


# --- SSRF: refused before any connect ------------------------------------------------------------------


@pytest.mark.parametrize(("host", "policy"), [
    ("127.0.0.1", STRICT), ("[::1]", STRICT), ("10.0.0.1", LOOPBACK_ONLY), ("169.254.169.254", LOOPBACK_ONLY),
    ("[::ffff:127.0.0.1]", STRICT), ("0.0.0.0", AddressPolicy(allow_private=True)),
    ("2130706433", STRICT), ("127.1", STRICT),       # what aiohttp would take as an address, not a name
    ("social.test", STRICT),                         # a name resolving to loopback
    ("evil.test", LOOPBACK_ONLY), ("evil6.test", LOOPBACK_ONLY), ("multi.test", LOOPBACK_ONLY),
    ("mapped.test", STRICT),
])
async def test_private_address_is_refused_without_connecting(
    server: RawServer, clients: tuple[MakeClient, MakeClient], host: str, policy: AddressPolicy,
) -> None:
    lean, normal = clients
    url = server.url("/inbox", host=host)
    server.routes["/inbox"] = respond(202)
    with pytest.raises(FetchError) as lean_error:
        await lean(policy).post_status(url, BODY, AP_TYPE, None)
    with pytest.raises(FetchError) as normal_error:
        await normal(policy).post(url, BODY, AP_TYPE, None)
    assert server.connections == 0
    if host not in ("2130706433", "127.1"):   # httpx refuses those as malformed, aiohttp as blocked: both refused
        assert lean_error.type is normal_error.type is BlockedAddress


async def test_loopback_is_reached_when_the_policy_allows_it(
    server: RawServer, clients: tuple[MakeClient, MakeClient],
) -> None:
    lean, _ = clients
    server.routes["/inbox"] = respond(202)
    assert await lean(AddressPolicy(allow_private=True)).post_status(server.url("/inbox"), BODY, AP_TYPE, None) == 202
    assert await lean().post_status(server.url("/inbox", host="127.0.0.1"), BODY, AP_TYPE, None) == 202


# --- the URL check and its cache -----------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "ftp://social.test/inbox", "http://user:secret@social.test/inbox", "https:///inbox", "http://bad host/x",
])
async def test_refused_url_is_refused_every_time_and_never_cached(
    clients: tuple[MakeClient, MakeClient], url: str,
) -> None:
    lean, _ = clients
    client = lean()
    cached = http_module._checked_url.cache_info().currsize
    for _ in range(3):
        with pytest.raises(BlockedAddress):
            await client.post_status(url, BODY, AP_TYPE, None)
    assert http_module._checked_url.cache_info().currsize == cached


async def test_url_allowed_for_one_client_is_still_refused_for_another(
    server: RawServer, clients: tuple[MakeClient, MakeClient],
) -> None:
    # The cache is shared by every client of the process: the http:// setting must be part of its key.
    lean, _ = clients
    server.routes["/inbox"] = respond(202)
    url = server.url("/inbox")
    assert await lean(allow_http=True).post_status(url, BODY, AP_TYPE, None) == 202
    with pytest.raises(BlockedAddress, match="scheme 'http' refused"):
        await lean(allow_http=False).post_status(url, BODY, AP_TYPE, None)
    assert await lean(allow_http=True).post_status(url, BODY, AP_TYPE, None) == 202
    assert len(server.seen) == 2


# --- errors --------------------------------------------------------------------------------------------


async def test_connection_refused_and_unknown_name_are_fetch_errors(clients: tuple[MakeClient, MakeClient]) -> None:
    lean, normal = clients
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    for url in (f"http://social.test:{closed_port}/inbox", "http://nowhere.test/inbox"):
        lean_outcome = await outcome(lean().post_status(url, BODY, AP_TYPE, None))
        assert lean_outcome == await outcome(normal().post(url, BODY, AP_TYPE, None))
        assert lean_outcome == ("FetchError", None)
