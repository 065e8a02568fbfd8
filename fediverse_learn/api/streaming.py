"""Streaming (GET /api/v1/streaming, WebSocket): `user`, `user:notification`, `public`, `public:local`, `hashtag`,
`hashtag:local` streams of `update`, `status.update`, `notification` and `delete` events in Mastodon's shape
(`{"stream": [...], "event": ..., "payload": "<JSON text, or the status id for delete>"}`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
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
from fediverse_learn.events import Event, event_bus, mentioned_uris
from fediverse_learn.services import Services
from fediverse_learn.store.api_social import mutes_account
from fediverse_learn.store.api_statuses import follows_accepted
from fediverse_learn.store.blocks import block_between
from fediverse_learn.store.follows import shows_boosts_of
from fediverse_learn.store.notifications import get_notification
from fediverse_learn.store.objects import StoredNote, get_note
from fediverse_learn.store.reactions import get_boost_by_activity

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

    async def _wants(self, stream: Stream, note: StoredNote, presenter: Presenter, event: str) -> bool:
        """Whether a stream carries this event of a note the member may see, as Mastodon's fan-out decides:
        the user stream has the home timeline (the member's own notes and those of accounts they follow) and,
        for edits and deletions, the notes that mention them; `user:notification` only has edits of those;
        public and hashtag streams have public notes (`:local` ones only ours)."""
        name, tag = stream
        me = presenter.viewer_uri
        mentioned = me is not None and me in mentioned_uris(note)
        if name == "user:notification":
            return event == "status.update" and mentioned
        if name == "user":
            return me is not None and (note.author_uri == me or (event != "update" and mentioned) or (
                await follows_accepted(self.services.db, me, note.author_uri) and await self._reply_shown(note, me)))
        if note.visibility != "public" or (name.endswith("local") and not note.is_local):
            return False
        if name.startswith("hashtag"):
            return any(str(t.get("name", "")).lower().lstrip("#") == tag for t in note.tags
                       if t.get("type") == "Hashtag")
        return name.startswith("public")

    async def _reply_shown(self, note: StoredNote, me: str) -> bool:
        """Home's rule for a followed account's reply: shown when it answers the member, its author or an account
        the member follows, or a post we don't have (store/api_statuses.py `_REPLY_SHOWN`)."""
        if note.in_reply_to_uri is None:
            return True
        parent = await get_note(self.services.db, note.in_reply_to_uri)
        return parent is None or parent.author_uri in (me, note.author_uri) or await follows_accepted(
            self.services.db, me, parent.author_uri)

    async def _silenced(self, author_uri: str) -> bool:
        """Whether the member blocks (or is blocked by) or mutes the author."""
        me, db = self.services.uris.actor(self.auth.member.name), self.services.db
        return author_uri != me and (await block_between(db, me, author_uri) or await mutes_account(
            db, self.auth.member.id, author_uri, self.services.clock.time()))

    async def _status(self, presenter: Presenter, uri: str, event: str) -> None:
        """`update` (a new note) or `status.update` (an edited one): the Status as this member sees it."""
        note = await get_note(self.services.db, uri)
        if note is None or not await presenter.can_see(note) or await self._silenced(note.author_uri):
            return
        status = None
        for stream in sorted(self.streams, key=str):
            if await self._wants(stream, note, presenter, event):
                status = status or await presenter.status(note)
                if status is not None:
                    await self.send(stream, event, orjson.dumps(status).decode())

    async def _boost(self, presenter: Presenter, activity_uri: str) -> None:
        """A reblog on the user stream when the home timeline shows it: the member's own or one of an account
        they follow with its boosts on, of a status not already in home (theirs or a followed account's)."""
        db, me = self.services.db, presenter.viewer_uri
        boost = await get_boost_by_activity(db, activity_uri)
        if boost is None or me is None or boost.note.author_uri == me:
            return
        if boost.actor_uri != me and not await shows_boosts_of(db, me, boost.actor_uri):
            return
        if await follows_accepted(db, me, boost.note.author_uri):
            return
        if await self._silenced(boost.actor_uri) or await self._silenced(boost.note.author_uri):
            return
        entity = await presenter.boost(boost)
        if entity is not None:
            await self.send(("user", None), "update", orjson.dumps(entity).decode())

    async def _deleted(self, presenter: Presenter, status_id: int, note: StoredNote | None) -> None:
        """`delete` (the status id as the payload) on the streams that had the note; not filtered by mutes."""
        before = replace(note, deleted_at=None) if note is not None else None
        visible = before is None or await presenter.can_see(before)
        for stream in sorted(self.streams, key=str):
            if before is None or (visible and await self._wants(stream, before, presenter, "delete")):
                await self.send(stream, "delete", str(status_id))

    async def deliver(self, event: Event) -> None:
        presenter = Presenter(self.services, self.auth.member)
        if event.kind == "delete":
            await self._deleted(presenter, int(event.data["id"]), event.data.get("note"))
        elif event.kind == "notification" and event.data["actor_id"] == self.auth.member.id:
            found = await get_notification(self.services.db, self.auth.member.id, int(event.data["id"]))
            entity = await notification_entity(presenter, found) if found is not None else None
            for stream in sorted(self.streams & {("user", None), ("user:notification", None)}, key=str):
                if entity is not None and "read:notifications" in self.auth.scopes:
                    await self.send(stream, "notification", orjson.dumps(entity).decode())
        elif event.kind == "boost" and ("user", None) in self.streams:
            await self._boost(presenter, str(event.data["activity_uri"]))
        elif event.kind in ("note", "edit"):
            await self._status(presenter, str(event.data["uri"]), "update" if event.kind == "note" else "status.update")

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
                if not _may_read(self.auth, stream):
                    await self.websocket.send_text(orjson.dumps(
                        {"error": "Access token does not have the required scopes", "status": 401}).decode())
                else:
                    self.streams.add(stream)
            elif message.get("type") == "unsubscribe":
                self.streams.discard(stream)


def _may_read(auth: Auth, stream: Stream) -> bool:
    """Mastodon's scopes per stream: `user:notification` needs read:notifications, every other read:statuses."""
    return ("read:notifications" if stream[0] == "user:notification" else "read:statuses") in auth.scopes


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
    if first is not None and not _may_read(auth, first):
        await websocket.close(code=1008, reason="This action is outside the authorized scopes")
        return
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
