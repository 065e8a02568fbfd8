"""The outbound fetch policy (pure): which URLs and IP addresses may be reached, how large a body may be."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

import httpx

from fediverse_learn.errors import BlockedAddress, FetchError, ResponseTooLarge

__all__ = [
    "AddressPolicy",
    "BodyLimiter",
    "IPAddress",
    "IPNetwork",
    "check_url",
    "declared_length",
    "is_forbidden_address",
]

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network


def _v4(*cidrs: str) -> tuple[IPv4Network, ...]:
    return tuple(IPv4Network(cidr) for cidr in cidrs)


def _v6(*cidrs: str) -> tuple[IPv6Network, ...]:
    return tuple(IPv6Network(cidr) for cidr in cidrs)


# IANA IPv4 special-purpose registry plus SECURITY.md b.6; GoToSocial's list adds the AS112/AMT blocks.
_FORBIDDEN_V4 = _v4(
    "0.0.0.0/8",  # "this network"; connecting to 0.0.0.0 reaches localhost on Linux
    "10.0.0.0/8",  # private
    "100.64.0.0/10",  # carrier-grade NAT
    "127.0.0.0/8",  # loopback
    "169.254.0.0/16",  # link-local (cloud metadata services)
    "172.16.0.0/12",  # private
    "192.0.0.0/24",  # IETF protocol assignments
    "192.0.2.0/24",  # documentation
    "192.31.196.0/24",  # AS112-v4
    "192.52.193.0/24",  # AMT
    "192.88.99.0/24",  # 6to4 relay anycast
    "192.168.0.0/16",  # private
    "192.175.48.0/24",  # AS112 direct delegation
    "198.18.0.0/15",  # benchmarking
    "198.51.100.0/24",  # documentation
    "203.0.113.0/24",  # documentation
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, includes 255.255.255.255
)
# Never a unicast destination: refused even when private addresses are allowed.
_UNROUTABLE_V4 = _v4("0.0.0.0/8", "224.0.0.0/4", "240.0.0.0/4")

# IPv6: only global unicast 2000::/3 is allowed at all, minus the special blocks inside it.
_GLOBAL_UNICAST = IPv6Network("2000::/3")
_FORBIDDEN_V6_IN_GLOBAL = _v6(
    "2001::/23",  # IETF protocol assignments, includes Teredo 2001::/32
    "2001:db8::/32",  # documentation
    "2002::/16",  # 6to4
    "2620:4f:8000::/48",  # AS112 direct delegation
    "3fff::/20",  # documentation (RFC 9637)
    "5f00::/16",  # SRv6 SIDs (RFC 9602)
)
_UNROUTABLE_V6 = _v6("::/128", "ff00::/8")
# Translation prefixes whose last 32 bits are the IPv4 destination: judged by that IPv4 address.
_IPV4_MAPPED = IPv6Network("::ffff:0:0/96")
_NAT64_WELL_KNOWN = IPv6Network("64:ff9b::/96")
# 64:ff9b:1::/48 (RFC 8215, local-use NAT64) may embed IPv4 at any prefix length, so the embedded
# address cannot be located reliably: it falls outside 2000::/3 and is refused (fail closed).


def _embedded_v4(ip: IPv6Address) -> IPv4Address | None:
    """The IPv4 destination of an IPv4-mapped or well-known-prefix NAT64 address, else None."""
    if ip in _IPV4_MAPPED or ip in _NAT64_WELL_KNOWN:
        return IPv4Address(int(ip) & 0xFFFF_FFFF)
    return None


def is_forbidden_address(ip: IPAddress) -> bool:
    """True if `ip` is private, reserved, special-purpose or otherwise not a public unicast address."""
    if isinstance(ip, IPv4Address):
        return any(ip in net for net in _FORBIDDEN_V4)
    embedded = _embedded_v4(ip)
    if embedded is not None:
        return is_forbidden_address(embedded)
    if ip not in _GLOBAL_UNICAST:
        return True
    return any(ip in net for net in _FORBIDDEN_V6_IN_GLOBAL)


def _is_unroutable(ip: IPAddress) -> bool:
    """Unspecified, multicast or broadcast: never a legitimate destination, whatever the policy."""
    if isinstance(ip, IPv4Address):
        return any(ip in net for net in _UNROUTABLE_V4)
    embedded = _embedded_v4(ip)
    if embedded is not None:
        return _is_unroutable(embedded)
    return any(ip in net for net in _UNROUTABLE_V6)


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses outbound connections may reach.

    `allow_private` lifts only the private/reserved rule (tests, local trials); unspecified, multicast
    and broadcast addresses stay refused. `allowed_networks` is the operator's allow-list of CIDRs
    (Mastodon `ALLOWED_PRIVATE_ADDRESSES`, GoToSocial `AllowRanges`).
    """

    allow_private: bool
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_strings(cls, allow_private: bool, cidrs: tuple[str, ...] | list[str]) -> AddressPolicy:
        """Build a policy from CIDR strings such as "127.0.0.1/32" (for configuration files)."""
        return cls(allow_private, tuple(ip_network(cidr, strict=False) for cidr in cidrs))

    def _is_allowlisted(self, ip: IPAddress) -> bool:
        candidates: list[IPAddress] = [ip]
        if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        return any(
            candidate in net
            for candidate in candidates
            for net in self.allowed_networks
            if net.version == candidate.version
        )

    def check(self, ip: IPAddress) -> None:
        """Raise BlockedAddress unless a connection to `ip` is allowed."""
        if _is_unroutable(ip):
            raise BlockedAddress(f"connection to unroutable address {ip} refused")
        if self.allow_private or self._is_allowlisted(ip):
            return
        if is_forbidden_address(ip):
            raise BlockedAddress(f"connection to private address {ip} refused")


def check_url(url: str, allow_http: bool) -> httpx.URL:
    """Parse `url` and refuse it unless it is https (or http if allowed) with a host and no userinfo."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise BlockedAddress(f"malformed URL {url[:200]!r}: {exc}") from exc
    if parsed.userinfo:  # checked first so that no message repeats credentials
        raise BlockedAddress(f"URL with userinfo refused (host {parsed.host[:100]!r})")
    shown = repr(url[:200])
    allowed_schemes = ("https", "http") if allow_http else ("https",)
    if parsed.scheme not in allowed_schemes:
        raise BlockedAddress(f"URL scheme {parsed.scheme[:20]!r} refused: {shown}")
    if not parsed.host:
        raise BlockedAddress(f"URL without a host refused: {shown}")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise BlockedAddress(f"malformed URL {shown}: port out of range")
    if not _is_valid_host(parsed.raw_host):
        raise BlockedAddress(f"malformed URL {shown}: bad host")
    return parsed


def _is_valid_host(raw_host: bytes) -> bool:
    """An IP literal, or a DNS name (IDNA-encoded by httpx) of letters, digits, '-', '_' and dots."""
    host = raw_host.decode("ascii", "replace")
    try:
        ip_address(host)
    except ValueError:
        return host.strip(".") != "" and all(c in _HOST_CHARS for c in host)
    return True


_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")


class BodyLimiter:
    """Collects a response body, inflating gzip/deflate itself so that no chunk expands past the cap."""

    def __init__(self, content_encoding: str, limit: int, url: str) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c not in ("", "identity")]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise FetchError(f"{url}: unsupported Content-Encoding {content_encoding!r}")
        # wbits MAX_WBITS | 32 accepts both the gzip and the zlib wrapper.
        self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 32) if codings else None
        self._limit = limit
        self._url = url
        self._parts: list[bytes] = []
        self._size = 0
        self._raw_size = 0

    def _too_large(self) -> ResponseTooLarge:
        return ResponseTooLarge(f"{self._url}: body exceeds {self._limit} bytes")

    def _append(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._limit:
            raise self._too_large()
        self._parts.append(data)

    def feed(self, data: bytes) -> None:
        self._raw_size += len(data)
        if self._raw_size > self._limit:
            raise self._too_large()
        if self._inflater is None:
            self._append(data)
            return
        try:
            while data:
                self._append(self._inflater.decompress(data, self._limit + 1 - self._size))
                data = self._inflater.unconsumed_tail
        except zlib.error as exc:
            raise FetchError(f"{self._url}: undecodable compressed body: {exc}") from exc

    def finish(self) -> bytes:
        if self._inflater is not None:
            try:
                self._append(self._inflater.flush())
            except zlib.error as exc:
                raise FetchError(f"{self._url}: undecodable compressed body: {exc}") from exc
        return b"".join(self._parts)


def declared_length(content_length: str | None) -> int | None:
    """The Content-Length as an int (huge values saturate), or None when absent or malformed."""
    value = (content_length or "").strip()
    if not (value.isascii() and value.isdigit()):
        return None
    return int(value) if len(value) <= 20 else 10**20
