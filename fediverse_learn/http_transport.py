"""What moves the client's bytes: the guarded httpx transport (names resolved and every address checked before
connecting) and the lean interface a transport may offer for deliveries (`RawTransport`)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from ipaddress import ip_address
from typing import Any, Protocol, runtime_checkable

import httpcore
import httpx

from fediverse_learn.errors import BlockedAddress
from fediverse_learn.netpolicy import AddressPolicy, IPAddress

__all__ = [
    "GuardedNetworkBackend",
    "RawAnswer",
    "RawTransport",
    "Resolver",
    "build_guarded_transport",
    "resolve_host",
]

Resolver = Callable[[str, int], Awaitable[Sequence[IPAddress]]]
"""Maps (host, port) to candidate addresses; raises OSError when the name does not resolve."""


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


class RawAnswer(Protocol):
    """An answer whose body is still to be read (see `RawTransport`)."""

    status: int
    headers: Mapping[str, str]   # case-insensitive

    def chunks(self) -> AsyncIterator[bytes]: ...

    def release(self) -> None: ...


@runtime_checkable
class RawTransport(Protocol):
    """A transport that can also send a request without httpx Request/Response objects (the aiohttp one):
    `HttpClient.post` and `post_status` then take that lean path, with the same URL check, headers, signature,
    limits."""

    async def send_raw(
        self, method: str, url: httpx.URL, headers: Mapping[str, str], body: bytes | None,
        timeouts: Mapping[str, float | None],
    ) -> RawAnswer: ...
