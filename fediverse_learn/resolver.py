"""The remote resolver: fetch, check and cache remote actors, keys and objects; WebFinger look-ups."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from fediverse_learn import converters
from fediverse_learn.clock import Clock
from fediverse_learn.converters import RemoteActor, RemoteKey
from fediverse_learn.errors import (
    DomainBlocked,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    KeyFetchError,
    KeyFetchUnavailable,
    ValidationError,
)
from fediverse_learn.http import FetchedDocument, HttpClient, Signer
from fediverse_learn.store import remote
from fediverse_learn.store.db import Database
from fediverse_learn.uris import Uris
from fediverse_learn.vocab import host_of
from fediverse_learn.webfinger import Handle, parse_handle

__all__ = ["Resolver"]

log = logging.getLogger(__name__)

ACTOR_TTL = 24 * 3600.0          # refetch cached actors after a day
FAILURE_COOL_OFF = 300.0         # do not refetch a failing key/actor URL for five minutes
KEY_MEMORY_TTL = 300.0           # seconds a verified key stays in memory (rotation refetches anyway)
KEY_MEMORY_SIZE = 10_000
TRANSIENT = "transient: "        # marks a negative-cache entry whose cause may pass (-> 503, not 401)
AP_TYPES = ("application/activity+json", 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"')


def _transient(exc: FetchError) -> bool:
    if isinstance(exc, HTTPStatusError):
        return exc.status >= 500 or exc.status in (408, 429)
    return isinstance(exc, FetchTimeout) or type(exc) is FetchError


class Resolver:
    """Fetches remote documents as the instance actor (signed GET) and caches what it learns."""

    def __init__(
        self, db: Database, http: HttpClient, uris: Uris, clock: Clock, signer: Signer,
        allow_host: Callable[[str], Awaitable[bool]], scheme: str = "https",
    ) -> None:
        self._db = db
        self._http = http
        self._uris = uris
        self._clock = clock
        self._signer = signer
        self._allow_host = allow_host
        self._keys: dict[str, tuple[RemoteKey, float]] = {}
        self._scheme = scheme

    async def _check_host(self, url: str) -> None:
        if self._uris.is_local(url):
            raise ValidationError(f"{url} is ours: never fetched over HTTP")
        host = host_of(url)
        if not await self._allow_host(host):
            raise DomainBlocked(f"{host} is blocked by the federation policy")

    async def fetch(self, url: str) -> FetchedDocument:
        """A signed GET of an ActivityPub document, after the domain policy check."""
        await self._check_host(url)
        return await self._http.fetch_activitypub(url, self._signer)

    async def actor(self, uri: str, *, refresh: bool = False) -> RemoteActor:
        """A remote actor, from the cache unless stale or `refresh`."""
        now = self._clock.time()
        await self._check_host(uri)   # the policy covers cached actors too
        if not refresh:
            cached = await remote.get_remote_actor(self._db, uri)
            if cached is not None and now - cached[1] < ACTOR_TTL:
                return cached[0]
        fetched = await self.fetch(uri)
        actor = converters.actor_from_ap(fetched.document, fetched.url)
        if actor.uri != uri:
            raise ValidationError(f"actor {uri} answered as {actor.uri}")
        await remote.save_remote_actor(self._db, actor, now)
        return actor

    async def key(self, key_id: str, *, refresh: bool = False) -> RemoteKey:
        """The public key named by a signature's keyId, with its verified owner.

        Raises KeyFetchUnavailable when the key's server fails transiently (the caller answers 503),
        KeyFetchError otherwise (401)."""
        if key_id.startswith("acct:"):
            raise KeyFetchError("acct: key ids are not accepted")
        if self._uris.is_local(key_id):
            raise KeyFetchError(f"{key_id} is a local key id; local keys are not fetched")
        now = self._clock.time()
        if not refresh:
            remembered = self._keys.get(key_id)
            if remembered is not None and 0 <= now - remembered[1] < KEY_MEMORY_TTL:
                return remembered[0]
            cached = await remote.get_key(self._db, key_id)
            if cached is not None:
                self._remember_key(cached[0], now)
                return cached[0]
        url = key_id.split("#", 1)[0]
        failed = await remote.recent_failure(self._db, url, now - FAILURE_COOL_OFF)
        if failed is not None and not refresh:
            message = f"Unable to fetch key JSON at {key_id} (recently failed: {failed})"
            if failed.startswith(TRANSIENT):
                raise KeyFetchUnavailable(message)
            raise KeyFetchError(message)
        try:
            key = await self._fetch_key(key_id, url)
        except DomainBlocked:
            raise
        except FetchError as exc:
            transient = _transient(exc)
            await remote.record_failure(self._db, url, (TRANSIENT if transient else "") + str(exc), now)
            if transient:
                raise KeyFetchUnavailable(f"Unable to fetch key JSON at {key_id}: {exc}") from exc
            raise KeyFetchError(f"Unable to fetch key JSON at {key_id}: {exc}") from exc
        except ValidationError as exc:
            await remote.record_failure(self._db, url, str(exc), now)
            raise KeyFetchError(f"Bad key document at {key_id}: {exc}") from exc
        self._remember_key(key, now)
        return key

    def _remember_key(self, key: RemoteKey, now: float) -> None:
        """Keys in memory for a few minutes: the hot path of every signed request. A failed verification
        refetches with refresh=True, which bypasses (and then refreshes) this memory."""
        if len(self._keys) >= KEY_MEMORY_SIZE:
            self._keys.clear()
        self._keys[key.key_id] = (key, now)

    async def _fetch_key(self, key_id: str, url: str) -> RemoteKey:
        # The id may differ from the URL (GoToSocial's key stub): only a document whose id is the URL is taken
        # as an actor; anything else goes through key_from_ap (origin, key id) and the owner's own document.
        await self._check_host(url)
        fetched = await self._http.fetch_activitypub(url, self._signer, exact_id=False)
        doc = fetched.document
        if "inbox" in doc and doc.get("id") == fetched.url:
            actor = converters.actor_from_ap(doc, fetched.url)
            await remote.save_remote_actor(self._db, actor, self._clock.time())
        else:
            key = converters.key_from_ap(doc, fetched.url)
            if key.key_id != key_id:
                raise ValidationError(f"key document {fetched.url} describes {key.key_id}")
            actor = await self.actor(key.owner, refresh=True)
        for key in actor.keys:
            if key.key_id == key_id:
                return key
        raise ValidationError(f"{actor.uri} does not list the key {key_id}")

    async def webfinger(self, handle: Handle) -> str:
        """The actor URI a handle names, by WebFinger on the handle's domain."""
        host = handle.domain
        if not await self._allow_host(host):
            raise DomainBlocked(f"{host} is blocked by the federation policy")
        url = f"{self._scheme}://{host}/.well-known/webfinger?{urlencode({'resource': handle.acct})}"
        _, jrd = await self._http.fetch_json(url, "application/jrd+json, application/json", self._signer)
        return _self_link(jrd, handle)

    async def actor_by_handle(self, text: str) -> RemoteActor:
        """Resolve `user@host` to an actor; the answer must round-trip to the same domain."""
        handle = parse_handle(text)
        if not await self._allow_host(handle.domain):
            raise DomainBlocked(f"{handle.domain} is blocked by the federation policy")
        cached = await remote.get_remote_actor_by_handle(self._db, handle.username, handle.domain)
        if cached is not None:
            return cached
        uri = await self.webfinger(handle)
        actor = await self.actor(uri, refresh=True)
        if actor.domain != handle.domain:
            # Split-domain setups: the actor's own host must vouch for the same handle.
            check = await self.webfinger(Handle(actor.username, actor.domain))
            if check != actor.uri:
                raise ValidationError(f"{handle} does not round-trip to {actor.uri}")
        return actor


def _self_link(jrd: dict[str, Any], handle: Handle) -> str:
    links = jrd.get("links")
    if not isinstance(links, list):
        raise ValidationError(f"WebFinger for {handle} has no links")
    for link in links:
        if not isinstance(link, dict) or link.get("rel") != "self":
            continue
        if link.get("type") in AP_TYPES and isinstance(link.get("href"), str):
            return str(link["href"])
    raise ValidationError(f"WebFinger for {handle} has no ActivityPub self link")
