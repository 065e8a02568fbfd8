"""Fake remote servers for federation tests: AS2 documents served per host and path, inbox POSTs recorded."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fediverse_learn.keys import KeyPair, generate_key_pair_sync
from fediverse_learn.store.actors import LocalActor
from fediverse_learn.store.objects import StoredNote, save_note
from fediverse_learn.vocab import PUBLIC
from inbox.dispatch import dispatch
from inbox.incoming import Incoming
from outbox.compose import build_note
from tests.support.instances import Federation, Instance
from tests.support.network import Network

__all__ = [
    "AP_CONTENT_TYPE",
    "FIXTURES",
    "FixtureHosts",
    "FixtureServer",
    "KeyRing",
    "World",
    "load_fixture",
    "note_document",
    "person_document",
]

AP_CONTENT_TYPE = "application/activity+json; charset=utf-8"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def load_fixture(relative: str, replacements: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A fixture document (`tests/fixtures/<server>/<name>.json`), with each string replacement applied to its
    text first (longest first, so a full URL is rewritten before its prefix)."""
    text = (FIXTURES / relative).read_text(encoding="utf-8")
    for old in sorted(replacements or {}, key=len, reverse=True):
        text = text.replace(old, (replacements or {})[old])
    document: dict[str, Any] = json.loads(text)
    return document


class KeyRing:
    """One RSA key pair per remote actor, generated on first use and kept (share it at module scope)."""

    def __init__(self) -> None:
        self._keys: dict[str, KeyPair] = {}

    def for_actor(self, actor_uri: str) -> KeyPair:
        if actor_uri not in self._keys:
            self._keys[actor_uri] = generate_key_pair_sync()
        return self._keys[actor_uri]

    def inject(self, actor_document: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of the actor document whose publicKey carries this ring's key for the actor."""
        doc = copy.deepcopy(dict(actor_document))
        key = doc.get("publicKey")
        if isinstance(key, dict):
            key["publicKeyPem"] = self.for_actor(str(doc["id"])).public_pem
        return doc


class FixtureServer:
    """One remote host: GET answers the document stored at the path (ActivityPub content type) or 404;
    POST (any inbox) is recorded and answered 202."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.documents: dict[str, dict[str, Any]] = {}
        self.statuses: dict[str, int] = {}
        self.received: list[dict[str, Any]] = []
        self.app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "POST"])])

    @staticmethod
    def _key(url: httpx.URL) -> str:
        return url.raw_path.decode("ascii")

    def put(self, document: Mapping[str, Any], url: str | None = None) -> None:
        """Serve `document` at `url` (default: its own id); the id must be on this host."""
        target = httpx.URL(url or str(document["id"]))
        assert target.host == self.host, f"{target} is not on {self.host}"
        self.documents[self._key(target)] = dict(document)

    def gone(self, url: str, status: int = 410) -> None:
        """Answer `status` for `url` (a deleted object or actor)."""
        key = self._key(httpx.URL(url))
        self.documents.pop(key, None)
        self.statuses[key] = status

    async def _handle(self, request: Request) -> Response:
        key = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method == "POST":
            self.received.append(json.loads(await request.body()))
            return Response(status_code=202)
        if key in self.statuses:
            return JSONResponse({"error": "gone"}, status_code=self.statuses[key])
        document = self.documents.get(key)
        if document is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return Response(json.dumps(document), media_type=AP_CONTENT_TYPE)


class FixtureHosts:
    """The fake remote hosts of one test, mounted on its network as they are first used."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.servers: dict[str, FixtureServer] = {}

    def __getitem__(self, host: str) -> FixtureServer:
        if host not in self.servers:
            server = self.servers[host] = FixtureServer(host)
            self.network.add(host, server.app)
        return self.servers[host]

    def serve(self, *documents: Mapping[str, Any]) -> None:
        """Serve each document at its id, on the host its id names."""
        for document in documents:
            self[httpx.URL(str(document["id"])).host].put(document)

    def received(self, host: str) -> list[dict[str, Any]]:
        """The activities POSTed to `host` so far."""
        return self[host].received


def person_document(uri: str, *, kind: str = "Person", also_known_as: tuple[str, ...] = (),
                    manually_approves_followers: bool = False) -> dict[str, Any]:
    """A minimal actor document as Mastodon serves it (the key is injected by a KeyRing)."""
    url = httpx.URL(uri)
    return {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": uri, "type": kind, "preferredUsername": url.path.rstrip("/").rsplit("/", 1)[-1],
        "inbox": f"{uri}/inbox", "outbox": f"{uri}/outbox", "followers": f"{uri}/followers",
        "following": f"{uri}/following", "endpoints": {"sharedInbox": f"{url.scheme}://{url.host}/inbox"},
        "manuallyApprovesFollowers": manually_approves_followers, "alsoKnownAs": list(also_known_as),
        "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": ""},
    }


def note_document(uri: str, author: str, content: str = "<p>Fractions with pizza</p>", *,
                  to: tuple[str, ...] = (PUBLIC,), cc: tuple[str, ...] = (), kind: str = "Note",
                  published: str = "2024-05-02T09:15:00Z", updated: str | None = None,
                  in_reply_to: str | None = None) -> dict[str, Any]:
    """A post document as Mastodon serves it."""
    doc: dict[str, Any] = {
        "@context": "https://www.w3.org/ns/activitystreams", "id": uri, "type": kind, "attributedTo": author,
        "content": content, "to": list(to), "cc": list(cc), "published": published, "inReplyTo": in_reply_to,
    }
    if updated is not None:
        doc["updated"] = updated
    return doc


class World:
    """A local instance `learn.test` among fake remote hosts; activities are dispatched to it directly."""

    def __init__(self, federation: Federation, learn: Instance, keyring: KeyRing) -> None:
        self.federation = federation
        self.learn = learn
        self.keyring = keyring
        self.hosts = FixtureHosts(federation.network)
        self._queue_id = 0

    @classmethod
    async def create(cls, federation: Federation, keyring: KeyRing, host: str = "learn.test") -> World:
        return cls(federation, await federation.add(host), keyring)

    def actor(self, uri: str, **fields: Any) -> dict[str, Any]:
        """Serve a remote actor (a minimal Person unless `document` is given) with a real key; return it."""
        document = fields.pop("document", None) or person_document(uri, **fields)
        served = self.keyring.inject(document)
        self.hosts.serve(served)
        return served

    def serve(self, *documents: Mapping[str, Any]) -> None:
        self.hosts.serve(*documents)

    async def dispatch(self, activity: Mapping[str, Any], actor: str | None = None,
                       recipient: str | None = None) -> None:
        """Run the handler for `activity` as if its signer were `actor` (default: the activity's actor)."""
        self._queue_id += 1
        signer = actor or str(activity["actor"])
        await dispatch(self.learn.services, Incoming(activity=copy.deepcopy(dict(activity)), actor_uri=signer,
                                                     recipient=recipient, queue_id=self._queue_id, attempts=1))

    async def local_note(self, member: LocalActor, visibility: str = "public",
                         content_html: str = "<p>Pizza fractions</p>") -> StoredNote:
        """A stored note by one of our members (not published)."""
        services = self.learn.services
        note = build_note(services, member, content_html=content_html, visibility=visibility)
        async with services.db.transaction() as tx:
            await save_note(tx, note)
        return note

    async def rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        """Rows of a query on the local database, as dicts (test inspection only)."""
        return [dict(r) for r in await self.learn.services.db.fetchall(sql, params)]
