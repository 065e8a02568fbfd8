"""The one outbound HTTP client: checked connect addresses, manual redirects, size/time limits, signing."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from email.utils import collapse_rfc2231_value
from ipaddress import ip_address
from types import TracebackType
from typing import Any, Protocol

import httpcore
import httpx
import orjson

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
from fediverse_learn.netpolicy import AddressPolicy, BodyLimiter, IPAddress, check_url, declared_length

__all__ = [
    "AP_ACCEPT",
    "MAX_REDIRECTS",
    "FetchedDocument",
    "GuardedNetworkBackend",
    "HttpClient",
    "Resolver",
    "Signer",
    "SigningAuth",
    "build_guarded_transport",
    "is_activitypub_media_type",
    "resolve_host",
]

logger = logging.getLogger(__name__)

AP_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
AS_PROFILE = "https://www.w3.org/ns/activitystreams"
MAX_REDIRECTS = 3
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
TIMEOUTS = httpx.Timeout(connect=5.0, read=10.0, write=10.0, pool=10.0)
# Only encodings we can inflate with a bounded output; never advertise br/zstd even if installed.
ACCEPT_ENCODING = "gzip, deflate"

Resolver = Callable[[str, int], Awaitable[Sequence[IPAddress]]]
"""Maps (host, port) to candidate addresses; raises OSError when the name does not resolve."""


class Signer(Protocol):
    def __call__(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> dict[str, str]:
        """Return the headers to add so that this request is signed."""
        ...


@dataclass(frozen=True)
class FetchedDocument:
    url: str
    status: int
    content_type: str
    body: bytes
    document: dict[str, Any]


async def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Resolve `host` with the event loop's getaddrinfo; every address returned, in order, deduplicated."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canonname, sockaddr in infos:
        address = ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return None


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Resolves names itself, checks every candidate address, then connects to a checked IP literal.

    The check thus applies to the address actually connected (no DNS-rebinding TOCTOU,
    CVE-2026-33693). httpcore still passes the origin's host name to `start_tls`, so SNI, certificate
    verification and the Host header use the name, not the IP.
    """

    def __init__(
        self,
        policy: AddressPolicy,
        resolver: Resolver | None = None,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._policy = policy
        self._resolver: Resolver = resolve_host if resolver is None else resolver
        self._inner = httpcore.AnyIOBackend() if inner is None else inner

    async def _resolve(self, host: str, port: int, seconds: float | None) -> list[IPAddress]:
        literal = _ip_literal(host)
        if literal is not None:
            return [literal]
        try:
            async with asyncio.timeout(seconds):
                addresses = list(await self._resolver(host, port))
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"could not resolve {host}: {exc}") from exc
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no address")
        return addresses

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._resolve(host, port, timeout)
        for address in addresses:  # every candidate, before any connect: one bad address refuses the name
            self._policy.check(address)
        error: Exception = httpcore.ConnectError(f"could not connect to {host}")
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress("connection to a unix socket refused")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, backend: httpcore.AsyncNetworkBackend) -> None:
        ssl_context = httpx.create_ssl_context()
        super().__init__(verify=ssl_context, trust_env=False)
        limits = httpx.Limits()
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


def build_guarded_transport(
    policy: AddressPolicy,
    resolver: Resolver | None = None,
    network_backend: httpcore.AsyncNetworkBackend | None = None,
) -> httpx.AsyncBaseTransport:
    """An httpx transport whose every TCP connection goes through a GuardedNetworkBackend."""
    return _GuardedTransport(GuardedNetworkBackend(policy, resolver, network_backend))


class SigningAuth(httpx.Auth):
    """Signs every request httpx sends (each redirect hop is a new request, signed for its own URL)."""

    requires_request_body = True

    def __init__(self, signer: Signer) -> None:
        self._signer = signer

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        body = request.content or None
        request.headers.update(self._signer(request.method, str(request.url), request.headers, body))
        yield request


def is_activitypub_media_type(content_type: str) -> bool:
    """application/activity+json, or application/ld+json whose profile names ActivityStreams."""
    header = Message()
    header["content-type"] = content_type
    media_type = header.get_content_type()
    if media_type == "application/activity+json":
        return True
    if media_type != "application/ld+json":
        return False
    profile = header.get_param("profile")
    if isinstance(profile, tuple):
        profile = collapse_rfc2231_value(profile)
    return isinstance(profile, str) and AS_PROFILE in profile.split()


def _clip(value: object, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _parse_json_object(body: bytes, url: str) -> dict[str, Any]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValidationError(f"{url} did not answer valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise ValidationError(f"{url} answered JSON that is not an object")
    return document


@dataclass(frozen=True)
class _Answer:
    url: str
    status: int
    headers: httpx.Headers
    body: bytes


# Headers describing the wire form of a body we return already decoded.
_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class HttpClient:
    """Every outbound request of the server goes through one instance of this."""

    def __init__(
        self,
        policy: AddressPolicy,
        allow_http: bool,
        *,
        user_agent: str,
        clock_now: Callable[[], datetime],
        max_body_bytes: int = 1_048_576,
        timeout_total: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.policy = policy
        self.allow_http = allow_http
        self.clock_now = clock_now  # for callers building signers (the Date they sign)
        self.max_body_bytes = max_body_bytes
        self.timeout_total = timeout_total
        self._transport = build_guarded_transport(policy, resolver) if transport is None else transport
        self._client = httpx.AsyncClient(
            transport=self._transport,
            follow_redirects=False,
            timeout=TIMEOUTS,
            trust_env=False,  # no proxies or .netrc credentials from the environment
            headers={"User-Agent": user_agent, "Accept-Encoding": ACCEPT_ENCODING},
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @asynccontextmanager
    async def _guarded(self, url: str) -> AsyncIterator[None]:
        """Apply the total deadline and turn every httpx error into a FetchError."""
        try:
            async with asyncio.timeout(self.timeout_total):
                yield
        except TimeoutError as exc:
            raise FetchTimeout(f"{url}: no complete answer within {self.timeout_total} s") from exc
        except httpx.TimeoutException as exc:
            raise FetchTimeout(f"{url}: {type(exc).__name__} {exc}".rstrip()) from exc
        except (httpx.HTTPError, httpx.StreamError, httpx.InvalidURL) as exc:
            raise FetchError(f"fetching {url} failed: {type(exc).__name__}: {exc}") from exc

    async def _read_body(self, response: httpx.Response, url: str) -> bytes:
        declared = declared_length(response.headers.get("content-length"))
        if declared is not None and declared > self.max_body_bytes:
            raise ResponseTooLarge(f"{url}: Content-Length {declared} exceeds {self.max_body_bytes} bytes")
        if response.is_stream_consumed:  # a transport that answered with content already read and decoded
            body = BodyLimiter("identity", self.max_body_bytes, url)
            body.feed(response.content)
            return body.finish()
        body = BodyLimiter(response.headers.get("content-encoding", ""), self.max_body_bytes, url)
        async for chunk in response.aiter_raw():
            body.feed(chunk)
        return body.finish()

    def _next_hop(self, current: httpx.URL, response: httpx.Response, seen: set[str]) -> httpx.URL:
        location = response.headers.get("location")
        if not location:
            raise FetchError(f"{current} answered {response.status_code} without a Location")
        try:
            joined = str(current.join(location))
        except httpx.InvalidURL as exc:
            raise BlockedAddress(f"{current} redirected to a malformed URL: {exc}") from exc
        target = check_url(joined, self.allow_http)
        key = str(target.copy_with(fragment=None))
        if key in seen:
            raise TooManyRedirects(f"redirect loop: {current} -> {joined}, visited before")
        seen.add(key)
        logger.debug("following redirect %s -> %s", current, joined)
        return target

    async def _get(
        self,
        url: str,
        accept: str,
        signer: Signer | None,
        check_headers: Callable[[str, httpx.Response], None] | None = None,
    ) -> _Answer:
        target = check_url(url, self.allow_http)
        final_url = url  # the caller's exact string until a redirect replaces it
        seen = {str(target.copy_with(fragment=None))}
        auth = SigningAuth(signer) if signer is not None else None
        async with self._guarded(url):
            for hop in range(MAX_REDIRECTS + 1):
                async with self._client.stream("GET", target, headers={"Accept": accept}, auth=auth) as rsp:
                    if rsp.status_code in REDIRECT_STATUSES:
                        if hop == MAX_REDIRECTS:
                            break
                        target = self._next_hop(target, rsp, seen)
                        final_url = str(target)
                        continue
                    if not rsp.is_success:
                        raise HTTPStatusError(rsp.status_code, final_url)
                    if check_headers is not None:
                        check_headers(final_url, rsp)
                    body = await self._read_body(rsp, final_url)
                    return _Answer(final_url, rsp.status_code, rsp.headers, body)
        raise TooManyRedirects(f"{url}: more than {MAX_REDIRECTS} redirects")

    async def fetch_activitypub(self, url: str, signer: Signer | None = None, *,
                                exact_id: bool = True) -> FetchedDocument:
        """GET an ActivityStreams document; its `id` must be the URL finally fetched, exactly.

        `exact_id=False` is for key ids only (GoToSocial's `/users/x/main-key` answers a stub of the actor,
        id the actor): the caller must check what the document may say about that URL."""
        answer = await self._get(url, AP_ACCEPT, signer, _require_activitypub_type)
        document = _parse_json_object(answer.body, answer.url)
        claimed = document.get("id")
        if exact_id and claimed != answer.url:
            raise IdMismatch(f"document fetched from {answer.url} claims id {_clip(claimed)}")
        return FetchedDocument(
            url=answer.url,
            status=answer.status,
            content_type=answer.headers.get("content-type", ""),
            body=answer.body,
            document=document,
        )

    async def fetch_json(
        self, url: str, accept: str, signer: Signer | None = None
    ) -> tuple[str, dict[str, Any]]:
        """GET a JSON object (WebFinger, NodeInfo): same limits and policy, no AP type or id rule."""
        answer = await self._get(url, accept, signer)
        return answer.url, _parse_json_object(answer.body, answer.url)

    async def post(self, url: str, body: bytes, content_type: str, signer: Signer | None) -> httpx.Response:
        """POST (delivery): a redirect is returned, not followed; the answer's body is read and capped.

        Lean path: the request is built by the client (its headers and timeouts), signed here, and handed to
        the transport directly (no auth flow, redirect or cookie machinery: a POST follows no redirect)."""
        target = check_url(url, self.allow_http)
        async with self._guarded(url):
            request = self._client.build_request("POST", target, content=body,
                                                 headers={"Content-Type": content_type})
            if signer is not None:
                request.headers.update(signer("POST", str(request.url), request.headers, body or None))
            rsp = await self._transport.handle_async_request(request)
            rsp.request = request
            try:
                try:
                    data = await self._read_body(rsp, url)
                except ResponseTooLarge:
                    data = b""   # a delivery's outcome is its status; an oversized answer body is discarded
            finally:
                await rsp.aclose()
            kept = [(k, v) for k, v in rsp.headers.multi_items() if k.lower() not in _WIRE_HEADERS]
            return httpx.Response(rsp.status_code, headers=kept, content=data, request=request)


def _require_activitypub_type(url: str, response: httpx.Response) -> None:
    content_type = response.headers.get("content-type", "")
    if not is_activitypub_media_type(content_type):
        raise BadContentType(f"{url} answered Content-Type {_clip(content_type)}, not ActivityPub")
