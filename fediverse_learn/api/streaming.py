"""Streaming (GET /api/v1/streaming, WebSocket): `user`, `public`, `public:local`, `hashtag`, `hashtag:local`
streams of `update`, `notification` and `delete` events in Mastodon's shape (payload a JSON string)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import cast

import orjson
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from fediverse_learn.api.auth import Auth, authenticate
from fediverse_learn.api.errors import ApiError
from fediverse_learn.api.notifications import notification_entity
from fediverse_learn.api.present import Presenter
from fediverse_learn.events import Event, event_bus
from fediverse_learn.services import Services
from fediverse_learn.store.api_social import mutes_account
from fediverse_learn.store.api_statuses import follows_accepted
from fediverse_learn.store.blocks import block_between
from fediverse_learn.store.notifications import get_notification
from fediverse_learn.store.objects import StoredNote, get_note

__all__ = ["STREAMS", "streaming_routes"]

log = logging.getLogger(__name__)

STREAMS = ("user", "user:notification", "public", "public:local", "hashtag", "hashtag:local")
Stream = tuple[str, str | None]    # (name, hashtag)


def _stream(name: str | None, tag: str | None) -> Stream | None:
    if name not in STREAMS:
        return None
    if name.startswith("hashtag"):
        return (name, tag.lower().lstrip("#")) if tag else None
    return name, None


class _Connection:
    """One client: its streams, and the events rendered as this member sees them."""

    def __init__(self, services: Services, auth: Auth, websocket: WebSocket) -> None:
        self.services, self.auth, self.websocket = services, auth, websocket
        self.streams: set[Stream] = set()

    async def send(self, stream: Stream, event: str, payload: str) -> None:
        names = [stream[0]] if stream[1] is None else [stream[0], stream[1]]
        await self.websocket.send_text(orjson.dumps({"stream": names, "event": event, "payload": payload}).decode())

    async def _wants(self, stream: Stream, note: StoredNote, presenter: Presenter) -> bool:
        name, tag = stream
        if name == "user":
            me = presenter.viewer_uri
            return me is not None and (note.author_uri == me or await follows_accepted(
                self.services.db, me, note.author_uri))
        if note.visibility != "public" or (name.endswith("local") and not note.is_local):
            return False
        if name.startswith("hashtag"):
            return any(str(t.get("name", "")).lower().lstrip("#") == tag for t in note.tags
                       if t.get("type") == "Hashtag")
        return name.startswith("public")

    async def _silenced(self, author_uri: str) -> bool:
        """Whether the member blocks (or is blocked by) or mutes the author."""
        me, db = self.services.uris.actor(self.auth.member.name), self.services.db
        return author_uri != me and (await block_between(db, me, author_uri) or await mutes_account(
            db, self.auth.member.id, author_uri, self.services.clock.time()))

    async def deliver(self, event: Event) -> None:
        presenter = Presenter(self.services, self.auth.member)
        if event.kind == "delete":
            for stream in sorted(self.streams, key=str):
                await self.send(stream, "delete", str(event.data["id"]))
        elif event.kind == "notification" and event.data["actor_id"] == self.auth.member.id:
            found = await get_notification(self.services.db, self.auth.member.id, int(event.data["id"]))
            entity = await notification_entity(presenter, found) if found is not None else None
            for stream in self.streams & {("user", None), ("user:notification", None)}:
                if entity is not None:
                    await self.send(stream, "notification", orjson.dumps(entity).decode())
        elif event.kind == "note":
            note = await get_note(self.services.db, str(event.data["uri"]))
            if note is None or not await presenter.can_see(note) or await self._silenced(note.author_uri):
                return
            status = None
            for stream in sorted(self.streams, key=str):
                if await self._wants(stream, note, presenter):
                    status = status or await presenter.status(note)
                    if status is not None:
                        await self.send(stream, "update", orjson.dumps(status).decode())

    async def listen(self) -> None:
        """Read subscribe/unsubscribe messages until the client goes."""
        while True:
            try:
                message = orjson.loads(await self.websocket.receive_text())
            except orjson.JSONDecodeError:
                continue
            if not isinstance(message, dict):
                continue
            stream = _stream(message.get("stream"), message.get("tag"))
            if stream is None:
                await self.websocket.send_text(orjson.dumps({"error": "Unknown stream type", "status": 400}).decode())
            elif message.get("type") == "subscribe":
                self.streams.add(stream)
            elif message.get("type") == "unsubscribe":
                self.streams.discard(stream)


async def _serve(services: Services, websocket: WebSocket) -> None:
    protocol = websocket.headers.get("sec-websocket-protocol")
    connection: HTTPConnection = websocket
    if protocol and "authorization" not in websocket.headers and "access_token" not in websocket.query_params:
        # Browsers cannot set headers on a WebSocket: Mastodon's web client sends the token as the subprotocol.
        connection = HTTPConnection({**websocket.scope, "headers": [
            *websocket.scope["headers"], (b"authorization", f"Bearer {protocol}".encode())]})
    try:
        auth = await authenticate(services, cast(Request, connection), ("read:statuses", "read:notifications"))
    except ApiError as exc:
        await websocket.close(code=1008, reason=exc.message[:100])
        return
    client = _Connection(services, auth, websocket)
    first = _stream(websocket.query_params.get("stream"), websocket.query_params.get("tag"))
    if first is not None:
        client.streams.add(first)
    await websocket.accept(subprotocol=protocol or None)
    with event_bus(services).subscribe() as queue:
        listener = asyncio.create_task(client.listen())
        try:
            while True:
                getter = asyncio.create_task(queue.get())
                done, _ = await asyncio.wait({listener, getter}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    break
                await client.deliver(getter.result())
        except WebSocketDisconnect:
            pass
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                await listener


def streaming_routes(services: Services) -> list[BaseRoute]:
    async def stream(websocket: WebSocket) -> None:
        await _serve(services, websocket)

    async def health(request: Request) -> Response:
        return PlainTextResponse("OK")

    return [
        Route("/api/v1/streaming/health", health, methods=["GET", "HEAD"]),
        WebSocketRoute("/api/v1/streaming", stream),
        WebSocketRoute("/api/v1/streaming/", stream),
    ]
