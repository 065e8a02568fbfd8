"""The exception tree of fediverse-learn; callers catch at the level they care about.

    FediverseLearnError
    ├── ConfigError                 bad configuration file (one line: file, key, reason)
    ├── StoreError                  storage problems
    │   ├── SchemaError             database missing or migrations not applied
    │   ├── NameTaken               a member/community name already in use
    │   └── NotFound                an unknown member, community, object
    ├── InvalidName                 a name outside [a-z0-9_]{1,30}
    ├── SignatureError              an HTTP signature that does not verify (-> 401)
    │   └── KeyFetchError           the signing key could not be had
    │       └── KeyFetchUnavailable the key's server failed transiently (-> 503)
    ├── FetchError                  an outbound fetch failed closed
    │   ├── BlockedAddress          SSRF policy: private, reserved or disallowed address or scheme
    │   ├── TooManyRedirects
    │   ├── ResponseTooLarge
    │   ├── FetchTimeout
    │   ├── BadContentType          not an ActivityPub media type
    │   ├── IdMismatch              the document's id is not the URL fetched
    │   └── HTTPStatusError         a non-2xx answer (carries the status)
    ├── DomainBlocked               federation policy refuses this domain (-> 403)
    └── ValidationError             a malformed ActivityPub document or request (-> 400/422)
"""

from __future__ import annotations

__all__ = [
    "BadContentType",
    "BlockedAddress",
    "ConfigError",
    "DomainBlocked",
    "FediverseLearnError",
    "FetchError",
    "FetchTimeout",
    "HTTPStatusError",
    "IdMismatch",
    "InvalidName",
    "KeyFetchError",
    "KeyFetchUnavailable",
    "NameTaken",
    "NotFound",
    "ResponseTooLarge",
    "SchemaError",
    "SignatureError",
    "StoreError",
    "TooManyRedirects",
    "ValidationError",
]


class FediverseLearnError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(FediverseLearnError):
    """The configuration file is missing, malformed or has a bad value."""


class StoreError(FediverseLearnError):
    """A storage problem."""


class SchemaError(StoreError):
    """The database is missing or not migrated to the version this code needs."""


class NameTaken(StoreError):
    """A member or community name is already in use."""


class NotFound(StoreError):
    """An unknown member, community or object."""


class InvalidName(FediverseLearnError):
    """A name outside the allowed pattern."""


class SignatureError(FediverseLearnError):
    """An HTTP signature is missing, malformed, stale or does not verify."""


class KeyFetchError(SignatureError):
    """The key named by a signature could not be fetched or does not belong to its claimed owner."""


class KeyFetchUnavailable(KeyFetchError):
    """The key's server failed transiently (timeout, 5xx): the sender should retry later."""


class FetchError(FediverseLearnError):
    """An outbound fetch failed closed."""


class BlockedAddress(FetchError):
    """The URL's scheme or the address connected to is not allowed."""


class TooManyRedirects(FetchError):
    """More redirects than allowed."""


class ResponseTooLarge(FetchError):
    """The response body exceeded the size cap."""


class FetchTimeout(FetchError):
    """The fetch took longer than allowed."""


class BadContentType(FetchError):
    """The response is not an ActivityPub document."""


class IdMismatch(FetchError):
    """The fetched document's id is not the URL that was fetched."""


class HTTPStatusError(FetchError):
    """The remote server answered with a non-success status."""

    def __init__(self, status: int, url: str) -> None:
        super().__init__(f"{url} answered {status}")
        self.status = status
        self.url = url


class DomainBlocked(FediverseLearnError):
    """The federation policy refuses this domain."""


class ValidationError(FediverseLearnError):
    """A malformed ActivityPub document or request."""
