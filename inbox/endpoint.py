"""The inbox endpoints (shared /inbox, per-actor inboxes): verify, check, store durably, answer 202.

Order of work (SECURITY.md b.1 item 8; cheap before expensive, no side effect before the signer check):
queue high-water (503) -> Content-Length over the cap (413) -> media type (415) -> body read with the cap
(413) -> JSON object (400) -> shape and depth (400) -> HTTP signature (401/403/503, raised to the app's
exception handlers) -> signer == actor (401) -> origin prechecks (400/403) -> durable enqueue -> 202.
"""

from __future__ import annotations

import logging
import time
import weakref
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fediverse_learn.errors import FediverseLearnError, KeyFetchError, KeyFetchUnavailable, SignatureError
from fediverse_learn.services import Services
from fediverse_learn.store.actors import INSTANCE_ACTOR, get_actor
from fediverse_learn.store.db import Database
from fediverse_learn.store.hosts import mark_host_available
from fediverse_learn.store.inbox_queue import count_queued_incoming, enqueue_incoming
from fediverse_learn.verification import verify_request
from fediverse_learn.vocab import host_of
from inbox.rules import Envelope, Refusal, accepts_media_type, is_self_delete, precheck, read_envelope

__all__ = ["QUEUE_HIGH_WATER", "RETRY_AFTER", "inbox_routes"]

log = logging.getLogger(__name__)

QUEUE_HIGH_WATER = 50_000   # queued rows above which senders are told to come back later (SECURITY.md c.5)
RETRY_AFTER = 300           # seconds, sent with a high-water 503
QUEUE_RECOUNT = 1.0         # seconds a queue count is trusted (plus our own enqueues) while far below high water


def inbox_routes(services: Services) -> list[Route]:
    """POST /inbox (shared), /users/{name}/inbox (404 for an unknown member), /actor/inbox (instance actor)."""

    async def shared_inbox(request: Request) -> Response:
        return await _receive(services, request, None)

    async def personal_inbox(request: Request) -> Response:
        actor = await get_actor(services.db, request.path_params["name"])
        if actor is None or actor.is_instance:
            return _refuse(request, None, Refusal(404, "no such inbox"))
        return await _receive(services, request, actor.name)

    async def instance_inbox(request: Request) -> Response:
        return await _receive(services, request, INSTANCE_ACTOR)

    return [
        Route("/inbox", shared_inbox, methods=["POST"]),
        Route("/users/{name}/inbox", personal_inbox, methods=["POST"]),
        Route("/actor/inbox", instance_inbox, methods=["POST"]),
    ]


async def _receive(services: Services, request: Request, recipient: str | None) -> Response:
    """Run one POST through every check and queue it; `recipient` is the local inbox owner's name."""
    if await _queue_full(services.db):
        response = _refuse(request, None, Refusal(503, "the inbox queue is full; retry later"))
        response.headers["retry-after"] = str(RETRY_AFTER)
        return response
    cap = services.config.federation.max_body_bytes
    refusal = _check_headers(request.headers, cap)
    if refusal is not None:
        return _refuse(request, None, refusal)
    body = await _read_capped(request, cap)
    if body is None:
        return _refuse(request, None, Refusal(413, f"the body exceeds {cap} bytes"))
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return _refuse(request, None, Refusal(400, f"the body is not valid JSON: {exc}"))
    envelope = read_envelope(doc)
    if isinstance(envelope, Refusal):
        return _refuse(request, None, envelope)
    try:
        signer = await _verify(services, request, body, envelope, doc)
        if signer is None:
            return Response(status_code=202)
        if signer != envelope.actor:
            raise SignatureError(f"signer does not match actor: signed by {signer}, actor is {envelope.actor}")
    except FediverseLearnError as exc:
        log.info("inbox %s refused %s: %s: %s", request.url.path, envelope.id, type(exc).__name__, exc)
        raise  # the app's exception handlers answer 401/403/503
    refusal = precheck(doc, envelope.actor, services.uris.base)
    if refusal is not None:
        return _refuse(request, envelope.id, refusal)
    await mark_host_available(services.db, host_of(envelope.actor))   # it talks to us: deliver to it again
    if await enqueue_incoming(services.db, envelope.id, envelope.actor, recipient, body, services.clock.time()):
        _gauge(services.db).added()
        log.info("inbox %s queued %s from %s", request.url.path, envelope.id, envelope.actor)
        services.kick("inbox")
    else:
        log.info("inbox %s: %s was received before; nothing to do", request.url.path, envelope.id)
    return Response(status_code=202)


async def _verify(
    services: Services, request: Request, body: bytes, envelope: Envelope, doc: dict[str, Any],
) -> str | None:
    """The verified signer; None for an account's self-Delete whose key is gone (202, nothing to do)."""
    headers = {name: ", ".join(request.headers.getlist(name)) for name in request.headers}
    try:
        return await verify_request(services, request.method, request.url.path, request.url.query, headers, body)
    except KeyFetchUnavailable:
        raise
    except KeyFetchError as exc:
        # SECURITY.md b.1 item 11: a deleted account's Delete arrives after its key is gone; nothing to verify
        # and nothing to do, so accept it rather than make its server retry for days.
        if is_self_delete(envelope, doc):
            log.info("inbox %s: %s is a self-Delete of %s whose key is gone (%s); ignored",
                     request.url.path, envelope.id, envelope.actor, exc)
            return None
        raise


def _check_headers(headers: Headers, cap: int) -> Refusal | None:
    declared = headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):
            return Refusal(400, "Content-Length is not a number")
        if int(declared) > cap:
            return Refusal(413, f"Content-Length {declared} exceeds {cap} bytes")
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if encoding != "identity":
        return Refusal(415, f"Content-Encoding {encoding[:40]!r} is not supported")
    content_type = headers.get("content-type", "")
    if not accepts_media_type(content_type):
        return Refusal(415, f"Content-Type {content_type[:100]!r} is not application/activity+json, "
                            "application/ld+json or application/json")
    return None


async def _read_capped(request: Request, cap: int) -> bytes | None:
    """The body, or None as soon as more than `cap` bytes have arrived (the rest is never read)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            return None
    return bytes(body)


class _QueueGauge:
    """The queued count, recounted at most every QUEUE_RECOUNT seconds while it is far below the high water.

    Between counts our own enqueues are added (the worker's progress is not subtracted: an over-estimate);
    rows queued by another process are seen at the next count. Near the high water every request counts."""

    def __init__(self) -> None:
        self.estimate = 0
        self.counted_at = float("-inf")

    def added(self) -> None:
        self.estimate += 1

    async def full(self, db: Database) -> bool:
        high_water = QUEUE_HIGH_WATER
        now = time.monotonic()
        if now - self.counted_at >= QUEUE_RECOUNT or self.estimate + max(high_water // 10, 1) > high_water:
            self.estimate = await count_queued_incoming(db, high_water + 1)
            self.counted_at = now
        return self.estimate > high_water


_gauges: weakref.WeakKeyDictionary[Database, _QueueGauge] = weakref.WeakKeyDictionary()


def _gauge(db: Database) -> _QueueGauge:
    gauge = _gauges.get(db)
    if gauge is None:
        gauge = _gauges[db] = _QueueGauge()
    return gauge


async def _queue_full(db: Database) -> bool:
    return await _gauge(db).full(db)


def _refuse(request: Request, activity_id: str | None, refusal: Refusal) -> Response:
    log.info("inbox %s refused %s: %d %s", request.url.path, activity_id or "(no id)", refusal.status,
             refusal.reason)
    # The same body as the app's error responses (fediverse_learn.web sits above this floor).
    return Response(orjson.dumps({"error": refusal.reason}), status_code=refusal.status,
                    media_type="application/json")
