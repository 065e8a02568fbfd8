"""An httpx transport over aiohttp, with the SSRF address check applied to the addresses it connects to.

httpx stays the client API (HttpClient, SigningAuth, redirects and body caps are transport-independent);
this replaces only what moves bytes. httpx's default transport (httpcore) costs 0.5-4 ms of CPU per request
and slows as its pool grows; aiohttp costs a fraction of that (see bench/fanout.py).

Where the check happens: aiohttp connects only to the addresses its resolver returns, so `GuardedResolver`
resolves the name itself, refuses it if any address is forbidden, and returns the checked addresses:
the address checked is the address connected (no DNS-rebinding TOCTOU). aiohttp never calls the resolver
for an IP-literal host, so the transport checks literals itself before sending. aiohttp keeps the name
for SNI, certificate verification and the Host header.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from ipaddress import IPv4Address, ip_address

import aiohttp
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from fediverse_learn.errors import BlockedAddress
from fediverse_learn.http import Resolver, resolve_host
from fediverse_learn.netpolicy import AddressPolicy, IPAddress

__all__ = ["AiohttpTransport", "GuardedResolver", "RawAnswer", "build_aiohttp_transport"]

CHUNK_SIZE = 64 * 1024
# The same pool shape as httpx.Limits(): at most 100 connections, idle ones kept 5 s.
MAX_CONNECTIONS = 100
KEEPALIVE_EXPIRY = 5.0
DNS_CACHE_SECONDS = 10  # answers are cached only after they passed the check; the policy never changes


def _literal(host: str) -> IPAddress | None:
    """The address of an IP-literal host; BlockedAddress for what aiohttp would take as one but is not."""
    bare = host.removeprefix("[").removesuffix("]")
    try:
        return ip_address(bare)
    except ValueError:
        # aiohttp treats a host with ':' or made of digits and dots as an address and skips the resolver.
        if ":" in bare or bare.replace(".", "").isdigit():
            raise BlockedAddress(f"malformed IP-literal host {host[:100]!r} refused") from None
        return None


class GuardedResolver(AbstractResolver):
    """Resolves with `resolver`, refuses the name if any answer is forbidden by `policy`, else returns them all."""

    def __init__(self, policy: AddressPolicy, resolver: Resolver | None = None) -> None:
        self._policy = policy
        self._resolver: Resolver = resolve_host if resolver is None else resolver

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET,
    ) -> list[ResolveResult]:
        literal = _literal(host)
        addresses = [literal] if literal is not None else list(await self._resolver(host, port))
        if not addresses:
            raise OSError(f"{host} has no address")  # aiohttp reports it as ClientConnectorDNSError
        for address in addresses:  # every candidate, before any connect: one bad address refuses the name
            self._policy.check(address)
        return [
            ResolveResult(
                hostname=host, host=str(address), port=port,
                family=socket.AF_INET if isinstance(address, IPv4Address) else socket.AF_INET6,
                proto=0, flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        return None


# Most specific first: the first match wins.
_ERRORS: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (asyncio.TimeoutError, httpx.ReadTimeout),
    (aiohttp.ClientConnectorError, httpx.ConnectError),   # DNS, refused, TLS and certificate failures
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.ReadError),
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.ClientConnectionError, httpx.ReadError),
    (aiohttp.ClientError, httpx.TransportError),
)


@contextmanager
def _mapped_errors(request: httpx.Request | None) -> Iterator[None]:
    """aiohttp's errors as httpx's (BlockedAddress and our other errors pass through unchanged)."""
    try:
        yield
    except (TimeoutError, aiohttp.ClientError) as exc:
        for source, target in _ERRORS:
            if isinstance(exc, source):
                raise target(f"{type(exc).__name__}: {exc}".rstrip(": "), request=request) from exc
        raise  # pragma: no cover (ClientError is the last entry)


class RawAnswer:
    """An answer whose body is still on the wire (`HttpClient`'s lean POST path reads it with its cap)."""

    __slots__ = ("_request", "_response", "headers", "status")

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request | None = None) -> None:
        self._response = response
        self._request = request
        self.status: int = response.status
        self.headers: Mapping[str, str] = response.headers   # case-insensitive

    async def chunks(self) -> AsyncIterator[bytes]:
        with _mapped_errors(self._request):
            async for chunk in self._response.content.iter_chunked(CHUNK_SIZE):
                yield chunk

    def release(self) -> None:
        # release() keeps the connection only if the body was read to its end; otherwise aiohttp closes it.
        self._response.release()


class _Body(httpx.AsyncByteStream):
    def __init__(self, answer: RawAnswer) -> None:
        self._answer = answer

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._answer.chunks():
            yield chunk

    async def aclose(self) -> None:
        self._answer.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Sends httpx requests with one aiohttp session (created on first use, inside the running loop).

    No redirects, no decompression (HttpClient inflates with its own cap), no cookies, no proxies from the
    environment; the URL is sent exactly as httpx encoded it (it was signed in that form)."""

    def __init__(self, policy: AddressPolicy, resolver: Resolver | None = None) -> None:
        self._policy = policy
        self._resolver = GuardedResolver(policy, resolver)
        self._ssl = httpx.create_ssl_context()
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[float | None, float | None, float | None], aiohttp.ClientTimeout] = {}

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=self._resolver, ssl=self._ssl, limit=MAX_CONNECTIONS, limit_per_host=0,
                keepalive_timeout=KEEPALIVE_EXPIRY, ttl_dns_cache=DNS_CACHE_SECONDS,
            )
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False,
                trust_env=False, raise_for_status=False, timeout=aiohttp.ClientTimeout(total=None),
                skip_auto_headers=("Accept-Encoding", "User-Agent"),
            )
        return self._session

    def _timeout(self, timeouts: Mapping[str, float | None]) -> aiohttp.ClientTimeout:
        connect, pool, read = timeouts.get("connect"), timeouts.get("pool"), timeouts.get("read")
        key = (connect, pool, read)
        timeout = self._timeouts.get(key)
        if timeout is None:
            if len(self._timeouts) > 64:   # a handful in practice (the client's defaults)
                self._timeouts.clear()
            timeout = self._timeouts[key] = aiohttp.ClientTimeout(
                total=None, sock_connect=connect, sock_read=read,
                connect=None if connect is None or pool is None else connect + pool,  # a slot + connect
            )
        return timeout

    async def send_raw(
        self, method: str, url: httpx.URL, headers: Mapping[str, str] | Sequence[tuple[str, str]], body: bytes | None,
        timeouts: Mapping[str, float | None], request: httpx.Request | None = None,
    ) -> RawAnswer:
        """Send one request without building httpx objects (HttpClient's POST path); the body is left unread.

        `url` is sent exactly as httpx encoded it. The same checks as every request: an IP literal is checked
        here, a name by the guarded resolver; no redirect is followed."""
        literal = _literal(url.host)
        if literal is not None:  # aiohttp connects to an IP literal without asking the resolver
            self._policy.check(literal)
        session = self._get_session()
        with _mapped_errors(request):
            response = await session.request(
                method, URL(str(url), encoded=True), headers=headers, data=body or None,
                allow_redirects=False, timeout=self._timeout(timeouts),
            )
        return RawAnswer(response, request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        answer = await self.send_raw(request.method, request.url, list(request.headers.multi_items()), body,
                                     request.extensions.get("timeout", {}), request)
        response = answer._response
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_Body(answer),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": (response.reason or "").encode("latin-1")},
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def build_aiohttp_transport(policy: AddressPolicy, resolver: Resolver | None = None) -> httpx.AsyncBaseTransport:
    """The aiohttp counterpart of `fediverse_learn.http.build_guarded_transport`."""
    return AiohttpTransport(policy, resolver)
