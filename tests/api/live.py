"""One real instance served by uvicorn on a loopback port in a background thread, for synchronous clients
(Mastodon.py, requests) that cannot use the in-process ASGI transport."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import requests
import uvicorn
from mastodon import Mastodon

from fediverse_learn.app import build_services, create_app, initialize
from fediverse_learn.config import Config, parse_config
from fediverse_learn.keys import generate_key_pair
from fediverse_learn.store.actors import create_actor
from fediverse_learn.store.communities import create_community
from fediverse_learn.store.db import Database
from fediverse_learn.store.oauth import set_password_hash
from fediverse_learn.uris import Uris
from tests.api.support import fast_hash, form_fields
from tests.support.processes import free_port

__all__ = ["live_instance", "signed_in"]

_REDIRECT = "https://app.example/callback"
_SCOPES = ["read", "write", "follow"]


def _config(root: Path, port: int) -> Config:
    return parse_config({
        "instance": {"base_url": f"http://127.0.0.1:{port}", "name": "Live", "registrations": "closed"},
        "storage": {"database": str(root / "db.sqlite3"), "media_dir": str(root / "media")},
        "federation": {"allow_http": True, "allow_private_addresses": True},
    }, "<live test>")


async def _prepare(config: Config, members: dict[str, str],
                   communities: Mapping[str, Sequence[str]] | None = None) -> None:
    await initialize(config)
    db = await Database.open(config.database_path)
    try:
        for name, password in members.items():
            actor = await create_actor(db, name=name, kind="person", keys=await generate_key_pair(), now=0.0)
            await set_password_hash(db, actor.id, fast_hash(password), 0.0)
        uris = Uris(config.instance.base_url, config.instance.domain)
        for name, moderators in (communities or {}).items():
            await create_community(db, name=name, keys=await generate_key_pair(), now=0.0,
                                   display_name=name.capitalize(), moderators=[uris.actor(m) for m in moderators])
    finally:
        await db.close()


@contextmanager
def live_instance(root: Path, members: dict[str, str],
                  communities: Mapping[str, Sequence[str]] | None = None) -> Iterator[str]:
    """Serve a fresh instance with these members (name -> password) and open public communities (name ->
    moderators' names); yields its base URL."""
    port = free_port()
    config = _config(root, port)
    asyncio.run(_prepare(config, members, communities))
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


def signed_in(base: str, username: str, password: str, app_name: str = "Learning app") -> Mastodon:
    """A Mastodon.py client of a freshly registered app, signed in as a member through the authorization-code
    flow (the browser part done with requests: open the page, sign in, approve)."""
    client_id, client_secret = Mastodon.create_app(app_name, scopes=_SCOPES, redirect_uris=_REDIRECT,
                                                   api_base_url=base)
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base, ratelimit_method="throw")
    url = api.auth_request_url(redirect_uris=_REDIRECT, scopes=_SCOPES, allow_http=True)
    with requests.Session() as browser:
        page = browser.get(url, timeout=10)
        consent = browser.post(f"{base}/oauth/authorize", data={
            **form_fields(page.text), "username": username, "password": password}, timeout=10)
        assert consent.status_code == 200, consent.text
        done = browser.post(f"{base}/oauth/authorize", data={**form_fields(consent.text), "decision": "approve"},
                            allow_redirects=False, timeout=10)
    assert done.status_code == 302, done.text
    code = parse_qs(urlsplit(done.headers["Location"]).query)["code"][0]
    api.log_in(code=code, redirect_uri=_REDIRECT, scopes=_SCOPES, allow_http=True)
    return api
