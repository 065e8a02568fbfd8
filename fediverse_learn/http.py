"""The one outbound HTTP client: checked URLs, manual redirects, size/time limits, signing (the transport that
checks connect addresses: `http_transport`)."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Callable, Generator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from email.utils import collapse_rfc2231_value
from types import TracebackType
from typing import Any, Protocol

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
from fediverse_learn.http_transport import (
    GuardedNetworkBackend,
    RawAnswer,
    RawTransport,
    Resolver,
    build_guarded_transport,
    resolve_host,
)
from fediverse_learn.netpolicy import AddressPolicy, BodyLimiter, check_url, declared_length

__all__ = [
    "AP_ACCEPT",
    "MAX_REDIRECTS",
    "FetchedDocument",
    "GuardedNetworkBackend",
    "HttpClient",
    "RawAnswer",
    "RawTransport",
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


@functools.lru_cache(maxsize=4096)
def _checked_url(url: str, allow_http: bool) -> httpx.URL:
    """`check_url`, remembered for the inboxes delivered to again and again (a refusal is not remembered:
    it raises again). It is pure: the same URL and setting always give the same answer."""
    return check_url(url, allow_http)


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
        self._raw = self._transport if isinstance(self._transport, RawTransport) else None
        # The lean POST path sends what the client would: its headers (lowercase, as httpx sends them).
        self._raw_headers = dict(self._client.headers.multi_items())
        self._raw_timeouts = TIMEOUTS.as_dict()

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
        """POST (delivery): a redirect is returned, not followed; the answer's body is read and capped
        (an answer body over the cap is discarded: a delivery's outcome is its status)."""
        if self._raw is not None:
            sent: dict[str, str] = {}
            status, headers, data = await self._post_raw(self._raw, url, body, content_type, signer, sent)
            kept = [(k, v) for k, v in headers.items() if k.lower() not in _WIRE_HEADERS]
            request = httpx.Request("POST", _checked_url(url, self.allow_http), headers=sent, content=body)
            return httpx.Response(status, headers=kept, content=data, request=request)
        return await self._post_httpx(url, body, content_type, signer)

    async def post_status(self, url: str, body: bytes, content_type: str, signer: Signer | None) -> int:
        """`post`, answering only the status (the delivery worker's use): no response object is built."""
        if self._raw is not None:
            return (await self._post_raw(self._raw, url, body, content_type, signer))[0]
        return (await self._post_httpx(url, body, content_type, signer)).status_code

    async def _post_raw(
        self, transport: RawTransport, url: str, body: bytes, content_type: str, signer: Signer | None,
        sent: dict[str, str] | None = None,
    ) -> tuple[int, Mapping[str, str], bytes]:
        """The lean POST: the same URL check, headers (the client's, Host, Content-Type, Content-Length),
        signature, timeouts, total deadline, body cap and errors as the httpx path, without its objects.
        The headers sent are also put in `sent` when given."""
        target = _checked_url(url, self.allow_http)
        headers = {"host": target.netloc.decode("ascii"), **self._raw_headers,
                   "content-type": content_type, "content-length": str(len(body))}
        if signer is not None:
            for name, value in signer("POST", str(target), headers, body or None).items():
                headers[name.lower()] = value
        if sent is not None:
            sent.update(headers)
        async with self._guarded(url):
            answer = await transport.send_raw("POST", target, headers, body, self._raw_timeouts)
            try:
                data = await self._read_raw_body(answer, url)
            except ResponseTooLarge:
                data = b""
            finally:
                answer.release()
        return answer.status, answer.headers, data

    async def _read_raw_body(self, answer: RawAnswer, url: str) -> bytes:
        """As `_read_body`, for a RawAnswer."""
        declared = declared_length(answer.headers.get("content-length"))
        if declared is not None and declared > self.max_body_bytes:
            raise ResponseTooLarge(f"{url}: Content-Length {declared} exceeds {self.max_body_bytes} bytes")
        body = BodyLimiter(answer.headers.get("content-encoding", ""), self.max_body_bytes, url)
        if declared != 0:   # an empty answer (the usual 202) has nothing to read
            async for chunk in answer.chunks():
                body.feed(chunk)
        return body.finish()

    async def _post_httpx(self, url: str, body: bytes, content_type: str, signer: Signer | None) -> httpx.Response:
        """The POST through any httpx transport: built by the client (its headers and timeouts), signed here,
        and handed to the transport directly (no auth flow, redirect or cookie machinery)."""
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
