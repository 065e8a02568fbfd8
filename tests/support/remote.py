"""A fake remote server (Mastodon-shaped actors with real RSA keys) and signing POSTs exactly as Mastodon does.

    ada = remote_actor(federation, "mastodon.test", "ada")     # mounted on the network, signs on its clock
    r = await ada.post(instance.client, "http://a.test/inbox", ada.follow("http://a.test/users/grace"))
    mallory = ada.server.actor("mallory")                     # a second actor on the same host

By hand: `server = RemoteServer("mastodon.test", clock=federation.clock)`, `server.mount(federation.network)`,
`server.actor("ada")`; or `RemoteActorFixture("mastodon.test", "ada", clock=...)` with its own server.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fediverse_learn.clock import Clock, SystemClock
from fediverse_learn.keys import KeyPair
from fediverse_learn.signatures import sign_request
from tests.support.instances import Federation
from tests.support.network import Network

__all__ = [
    "AP", "AS_CONTEXT", "PUBLIC", "ReceivedPost", "RemoteActorFixture", "RemoteServer", "key_for", "key_pair_for",
    "remote_actor",
]

AP = "application/activity+json"
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
_MASTODON_CONTEXT: list[Any] = [
    AS_CONTEXT,
    "https://w3id.org/security/v1",
    {"manuallyApprovesFollowers": "as:manuallyApprovesFollowers", "toot": "http://joinmastodon.org/ns#",
     "featured": {"@id": "toot:featured", "@type": "@id"}, "discoverable": "toot:discoverable",
     "indexable": "toot:indexable"},
]


@functools.cache
def key_for(name: str) -> rsa.RSAPrivateKey:
    """An RSA-2048 key per name, generated once per test session (generation takes ~100 ms)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_pair_for(name: str) -> KeyPair:
    """The same key as PEM text, for local actors: `create_actor(db, ..., keys=key_pair_for("ada"))`."""
    key = key_for(name)
    return KeyPair(
        private_pem=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode("ascii"),
        public_pem=key.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii"),
    )


@dataclass(frozen=True)
class ReceivedPost:
    """A POST the fake server received on an inbox."""

    path: str
    headers: httpx.Headers
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


class RemoteServer:
    """One fake remote host: actor documents, WebFinger, extra documents, inboxes that record and answer 202."""

    def __init__(self, host: str, *, scheme: str = "https", clock: Clock | None = None) -> None:
        self.host = host
        self.scheme = scheme
        self.clock: Clock = clock or SystemClock()    # the Date its actors sign with
        self.base = f"{scheme}://{host}"
        self.actors: dict[str, RemoteActorFixture] = {}
        self.documents: dict[str, dict[str, Any]] = {}     # path -> document served as activity+json
        self.received: list[ReceivedPost] = []
        self.inbox_status = 202
        self._ids = itertools.count(1)
        self._numbers = itertools.count(112_384_000_000_000_001)
        self.app = Starlette(routes=[
            Route("/users/{name}", self._actor_document),
            Route("/.well-known/webfinger", self._webfinger),
            Route("/users/{name}/inbox", self._inbox, methods=["POST"]),
            Route("/inbox", self._inbox, methods=["POST"]),
            Route("/{path:path}", self._document),
        ])
        self.app.state.remote_server = self

    def actor(self, username: str, **document: Any) -> RemoteActorFixture:
        """The actor `username` of this host, created on first use; `document` overrides actor fields."""
        if username not in self.actors:
            self.actors[username] = RemoteActorFixture(self.host, username, server=self, **document)
        return self.actors[username]

    def mount(self, network: Network) -> None:
        network.add(self.host, self.app)

    def serve(self, document: dict[str, Any]) -> None:
        """Serve a document (a Note, a collection...) at the path of its own `id`."""
        self.documents[httpx.URL(document["id"]).path] = document

    def new_id(self) -> str:
        """A fresh activity id on this host, shaped like Mastodon's Follow ids."""
        return f"{self.base}/{next(self._ids):08d}-0000-4000-8000-000000000000"

    def new_number(self) -> int:
        """A fresh Mastodon-style status number (a snowflake-sized integer)."""
        return next(self._numbers)

    async def _actor_document(self, request: Request) -> Response:
        actor = self.actors.get(request.path_params["name"])
        if actor is None:
            return Response(status_code=404)
        return _ap_response(actor.document())

    async def _webfinger(self, request: Request) -> Response:
        resource = request.query_params.get("resource", "")
        for actor in self.actors.values():
            if resource in (f"acct:{actor.username}@{self.host}", actor.uri):
                jrd = {"subject": f"acct:{actor.username}@{self.host}", "aliases": [actor.uri],
                       "links": [{"rel": "self", "type": AP, "href": actor.uri}]}
                return Response(orjson.dumps(jrd), media_type="application/jrd+json")
        return Response(status_code=404)

    async def _inbox(self, request: Request) -> Response:
        self.received.append(ReceivedPost(request.url.path, httpx.Headers(request.headers.raw),
                                          await request.body()))
        return Response(status_code=self.inbox_status)

    async def _document(self, request: Request) -> Response:
        document = self.documents.get(request.url.path)
        return Response(status_code=404) if document is None else _ap_response(document)


def _ap_response(document: Mapping[str, Any]) -> Response:
    return Response(orjson.dumps(document), media_type=AP)


class RemoteActorFixture:
    """A Mastodon-shaped remote actor with a real RSA key; signs POSTs the way Mastodon does."""

    def __init__(self, host: str, username: str, *, server: RemoteServer | None = None, scheme: str = "https",
                 clock: Clock | None = None, **document: Any) -> None:
        self.server = server or RemoteServer(host, scheme=scheme, clock=clock)
        self.host = host
        self.username = username
        self.uri = f"{self.server.base}/users/{username}"
        self.key_id = f"{self.uri}#main-key"
        self.inbox = f"{self.uri}/inbox"
        self.shared_inbox = f"{self.server.base}/inbox"
        self.followers = f"{self.uri}/followers"
        self.private_key = key_for(self.uri)
        self.overrides = document
        self.server.actors.setdefault(username, self)

    @property
    def app(self) -> Starlette:
        return self.server.app

    def mount(self, network: Network) -> None:
        self.server.mount(network)

    @property
    def public_key_pem(self) -> str:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")

    def document(self) -> dict[str, Any]:
        """The actor document as Mastodon serves it (with `overrides` applied)."""
        doc: dict[str, Any] = {
            "@context": _MASTODON_CONTEXT,
            "id": self.uri,
            "type": "Person",
            "following": f"{self.uri}/following",
            "followers": self.followers,
            "inbox": self.inbox,
            "outbox": f"{self.uri}/outbox",
            "featured": f"{self.uri}/collections/featured",
            "preferredUsername": self.username,
            "name": self.username.capitalize(),
            "summary": "",
            "url": f"{self.server.base}/@{self.username}",
            "manuallyApprovesFollowers": False,
            "discoverable": True,
            "indexable": True,
            "published": "2023-09-14T00:00:00Z",
            "publicKey": {"id": self.key_id, "owner": self.uri, "publicKeyPem": self.public_key_pem},
            "endpoints": {"sharedInbox": self.shared_inbox},
        }
        doc.update(self.overrides)
        return doc

    # --- activities --------------------------------------------------------------------------------------

    def activity(self, kind: str, obj: Any, **extra: Any) -> dict[str, Any]:
        """An activity by this actor with a fresh id: {"@context", "id", "type", "actor", "object", **extra}."""
        return {"@context": AS_CONTEXT, "id": self.server.new_id(), "type": kind, "actor": self.uri,
                "object": obj, **extra}

    def follow(self, target: str) -> dict[str, Any]:
        return self.activity("Follow", target)

    def note(self, content: str, *, to: list[str] | None = None, cc: list[str] | None = None,
             **extra: Any) -> dict[str, Any]:
        """A public Note by this actor (not yet served; `server.serve(note)` makes it fetchable)."""
        number = self.server.new_number()
        return {"id": f"{self.uri}/statuses/{number}", "type": "Note", "attributedTo": self.uri,
                "content": content, "published": "2024-05-02T14:00:00Z",
                "url": f"{self.server.base}/@{self.username}/{number}",
                "to": to if to is not None else [PUBLIC], "cc": cc if cc is not None else [self.followers],
                **extra}

    def create(self, note: dict[str, Any]) -> dict[str, Any]:
        return {"@context": AS_CONTEXT, "id": f"{note['id']}/activity", "type": "Create", "actor": self.uri,
                "published": note.get("published"), "to": note.get("to"), "cc": note.get("cc"), "object": note}

    def delete_account(self) -> dict[str, Any]:
        """Mastodon's account deletion: Delete with the actor as its own object, id `{actor}#delete`."""
        return {"@context": AS_CONTEXT, "id": f"{self.uri}#delete", "type": "Delete", "actor": self.uri,
                "to": [PUBLIC], "object": self.uri}

    # --- signing and sending -----------------------------------------------------------------------------

    def sign(self, url: str, body: bytes, *, content_type: str = AP, now: datetime | None = None,
             key_id: str | None = None, private_key: rsa.RSAPrivateKey | None = None) -> dict[str, str]:
        """Headers for a POST as Mastodon sends it: Content-Type, Host, Date, Digest and a Signature over
        "(request-target) host date digest content-type" (rsa-sha256). Override the key for forgeries."""
        headers = {"Content-Type": content_type}
        headers.update(sign_request("POST", url, headers, body, key_id or self.key_id,
                                    private_key or self.private_key, now or self.server.clock.now()))
        return headers

    async def post(self, client_or_network: httpx.AsyncClient | Network, url: str, activity: Any, *,
                   body: bytes | None = None, content_type: str = AP, now: datetime | None = None,
                   key_id: str | None = None, private_key: rsa.RSAPrivateKey | None = None,
                   headers: Mapping[str, str] | None = None) -> httpx.Response:
        """POST `activity` (or raw `body`) to `url`, signed as this actor; `headers` are added after signing."""
        data = body if body is not None else orjson.dumps(activity)
        sent = self.sign(url, data, content_type=content_type, now=now, key_id=key_id, private_key=private_key)
        sent.update(headers or {})
        if isinstance(client_or_network, Network):
            async with httpx.AsyncClient(transport=client_or_network) as client:
                return await client.post(url, content=data, headers=sent)
        return await client_or_network.post(url, content=data, headers=sent)


def remote_actor(federation: Federation, host: str, username: str, **document: Any) -> RemoteActorFixture:
    """An actor on the fake remote `host` (its server created and mounted on first use), on the test clock."""
    app = federation.network.apps.get(host)
    if app is None:
        server = RemoteServer(host, clock=federation.clock)
        server.mount(federation.network)
    elif isinstance(app, Starlette) and isinstance(getattr(app.state, "remote_server", None), RemoteServer):
        server = app.state.remote_server
    else:
        raise ValueError(f"{host} is already served by an app that is not a RemoteServer")
    return server.actor(username, **document)
