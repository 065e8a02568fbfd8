"""One real instance served by uvicorn on a loopback port in a background thread, for synchronous clients
(Mastodon.py, requests) that cannot use the in-process ASGI transport."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

from fediverse_learn.app import build_services, create_app, initialize
from fediverse_learn.config import Config, parse_config
from fediverse_learn.keys import generate_key_pair
from fediverse_learn.store.actors import create_actor
from fediverse_learn.store.db import Database
from fediverse_learn.store.oauth import set_password_hash
from tests.api.support import fast_hash
from tests.support.processes import free_port

__all__ = ["live_instance"]


def _config(root: Path, port: int) -> Config:
    return parse_config({
        "instance": {"base_url": f"http://127.0.0.1:{port}", "name": "Live", "registrations": "closed"},
        "storage": {"database": str(root / "db.sqlite3"), "media_dir": str(root / "media")},
        "federation": {"allow_http": True, "allow_private_addresses": True},
    }, "<live test>")


async def _prepare(config: Config, members: dict[str, str]) -> None:
    await initialize(config)
    db = await Database.open(config.database_path)
    try:
        for name, password in members.items():
            actor = await create_actor(db, name=name, kind="person", keys=await generate_key_pair(), now=0.0)
            await set_password_hash(db, actor.id, fast_hash(password), 0.0)
    finally:
        await db.close()


@contextmanager
def live_instance(root: Path, members: dict[str, str]) -> Iterator[str]:
    """Serve a fresh instance with these members (name -> password); yields its base URL."""
    port = free_port()
    config = _config(root, port)
    asyncio.run(_prepare(config, members))
    ready = threading.Event()
    holder: list[uvicorn.Server] = []

    async def serve() -> None:
        services = await build_services(config)
        app = create_app(services, close_services=True, run_workers=True)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on",
                                               log_level="warning", access_log=False))
        holder.append(server)
        ready.set()
        await server.serve()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    ready.wait(10)
    base = f"http://127.0.0.1:{port}"
    with httpx.Client() as probe:
        for _ in range(200):
            if holder and holder[0].started:
                break
            try:
                probe.get(f"{base}/api/v1/instance", timeout=0.5)
                break
            except httpx.HTTPError:
                threading.Event().wait(0.02)   # waiting for the socket to listen, not for test logic
    try:
        yield base
    finally:
        if holder:
            holder[0].should_exit = True
        thread.join(15)
