"""The composition root: builds the services from the config and assembles the ASGI application."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from fediverse_learn import __version__
from fediverse_learn.api import api_routes
from fediverse_learn.api.cors import ApiCors
from fediverse_learn.api.limits import ApiLimits
from fediverse_learn.clock import Clock, SystemClock
from fediverse_learn.config import Config
from fediverse_learn.errors import SchemaError
from fediverse_learn.http import HttpClient
from fediverse_learn.http_aiohttp import build_aiohttp_transport
from fediverse_learn.keys import PrivateKeyCache, generate_key_pair
from fediverse_learn.netpolicy import AddressPolicy
from fediverse_learn.resolver import Resolver
from fediverse_learn.services import Services
from fediverse_learn.signers import CavageSigner
from fediverse_learn.store.actors import INSTANCE_ACTOR, create_actor, get_actor
from fediverse_learn.store.db import Database
from fediverse_learn.uris import Uris
from fediverse_learn.web.actors import actor_routes
from fediverse_learn.web.communities import community_routes
from fediverse_learn.web.discovery import discovery_routes
from fediverse_learn.web.errors import EXCEPTION_HANDLERS
from fediverse_learn.web.notes import note_routes
from fediverse_learn.web.signup import signup_routes
from fediverse_learn.workers import Worker, WorkerRunner
from inbox.endpoint import inbox_routes
from inbox.worker import InboxWorker
from outbox.c2s import outbox_routes
from outbox.delivery import DeliveryWorker

__all__ = ["app_workers", "build_services", "create_app", "initialize"]

log = logging.getLogger(__name__)

async def initialize(config: Config, clock: Clock | None = None) -> list[int]:
    """Create the data directory, the database (migrations) and the instance actor's key; idempotent."""
    clock = clock or SystemClock()
    config.media_path.mkdir(parents=True, exist_ok=True)
    db = await Database.open(config.database_path, create=True)
    try:
        applied = await db.migrate()
        if await get_actor(db, INSTANCE_ACTOR) is None:
            await create_actor(db, name=INSTANCE_ACTOR, kind="application", keys=await generate_key_pair(),
                               now=clock.time(), display_name=config.instance.name)
    finally:
        await db.close()
    return applied


async def build_services(
    config: Config, *, clock: Clock | None = None, transport: httpx.AsyncBaseTransport | None = None,
) -> Services:
    """Open the database (which must be initialised) and build everything the handlers use."""
    clock = clock or SystemClock()
    db = await Database.open(config.database_path)
    try:
        await db.check_schema()
        instance = await get_actor(db, INSTANCE_ACTOR)
        if instance is None:
            raise SchemaError(f"{config.database_path}: no instance actor (run `fediverse-learn init`)")
    except BaseException:
        await db.close()
        raise
    fed = config.federation
    uris = Uris(config.instance.base_url, config.instance.domain)
    policy = AddressPolicy(allow_private=fed.allow_private_addresses)
    http = HttpClient(
        policy=policy,
        allow_http=fed.allow_http,
        max_body_bytes=fed.max_body_bytes,
        timeout_total=fed.fetch_timeout,
        user_agent=f"fediverse-learn/{__version__} (+{uris.base}/)",
        # aiohttp under the httpx API: a fraction of httpx's pool CPU per delivery (bench/fanout.py)
        transport=build_aiohttp_transport(policy) if transport is None else transport,
        clock_now=clock.now,
    )
    keys = PrivateKeyCache()
    signer = CavageSigner(uris.instance_key_id(), keys.load(instance.private_key_pem), clock)
    holder: list[Services] = []

    async def allow_host(host: str) -> bool:
        return await holder[0].host_allowed(host)

    resolver = Resolver(db, http, uris, clock, signer, allow_host,
                        scheme="http" if fed.allow_http else "https")
    services = Services(config=config, db=db, clock=clock, http=http, uris=uris, keys=keys,
                        resolver=resolver, instance=instance)
    holder.append(services)
    return services


def app_workers(services: Services) -> list[Worker]:
    """The background workers of one instance (tests step these instead of running them)."""
    return [InboxWorker(services), DeliveryWorker(services)]


def _routes(services: Services) -> list[BaseRoute]:
    return [
        # The inbox first: it is the hottest route, and Starlette tries routes in order.
        *inbox_routes(services), *discovery_routes(services), *api_routes(services), *outbox_routes(services),
        *note_routes(services), *community_routes(services), *signup_routes(services), *actor_routes(services),
    ]


def create_app(services: Services, *, close_services: bool = False, run_workers: bool = False) -> Starlette:
    """The ASGI application over built services.

    `run_workers` runs the background workers for the app's lifetime (tests step them instead);
    `close_services` closes the services at shutdown."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runner = WorkerRunner(app_workers(services)) if run_workers else None
        if runner is not None:
            services.kick = runner.kick
            runner.start()
        log.info("serving %s", services.uris.base)
        try:
            yield
        finally:
            if runner is not None:
                await runner.stop()
            if close_services:
                await services.aclose()

    return Starlette(routes=_routes(services), lifespan=lifespan, exception_handlers=EXCEPTION_HANDLERS,
                     middleware=[Middleware(ApiCors), Middleware(ApiLimits, services=services)])

