"""Rate limits of writes to the client API and OAuth: per token, per address, per account for statuses; Mastodon's
`X-RateLimit-*` headers and 429 answers; reads and streaming untouched; ended windows pruned."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.requests import Request

from fediverse_learn.api.limits import PER_TOKEN, SIGN_UP, STATUSES, client_address
from fediverse_learn.store.actors import get_actor
from fediverse_learn.store.api_limits import hit_all
from tests.api.support import bearer, register_app, token_with
from tests.support.instances import Federation, Instance


async def _setup(federation: Federation) -> tuple[Instance, str]:
    a = await federation.add("a.test")
    await a.add_member("ada")
    return a, await token_with(a, "ada", "read write")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _window_end(now: float, window: float) -> str:
    end = now - now % window + window
    return datetime.fromtimestamp(end, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _limits(response: httpx.Response) -> tuple[str, str, str]:
    h = response.headers
    return h["x-ratelimit-limit"], h["x-ratelimit-remaining"], h["x-ratelimit-reset"]


async def _rows(a: Instance) -> list[tuple[str, str, int]]:
    rows = await a.services.db.fetchall("SELECT bucket, subject, hits FROM rate_limits ORDER BY bucket, subject")
    return [(r["bucket"], r["subject"], r["hits"]) for r in rows]


async def test_write_carries_the_headers_of_its_tightest_limit(federation: Federation) -> None:
    a, token = await _setup(federation)
    now = federation.clock.time()
    # When a member clears notifications (a write counted per token)
    cleared = await a.client.post("/api/v1/notifications/clear", headers=bearer(token))
    # Then the response tells the token's count, reset at the end of the five-minute window, with milliseconds
    assert cleared.status_code == 200
    assert _limits(cleared) == ("300", "299", _window_end(now, PER_TOKEN.window))
    assert cleared.headers["x-ratelimit-reset"].endswith(".000Z")
    # When the member posts a status: the account's status count (3 hours) is as tight, and more specific
    posted = await a.client.post("/api/v1/statuses", data={"status": "hello"}, headers=bearer(token))
    assert posted.status_code == 200
    assert _limits(posted) == ("300", "298", _window_end(now, PER_TOKEN.window))   # the token: 2 used
    second = await a.client.post("/api/v1/statuses", data={"status": "again"}, headers=bearer(token))
    assert _limits(second) == ("300", "297", _window_end(now, PER_TOKEN.window))


async def test_token_over_its_limit_gets_429_until_the_window_ends(federation: Federation) -> None:
    a, token = await _setup(federation)
    other = await token_with(a, "ada", "read write")
    now = federation.clock.time()
    # Given a token that used its 300 writes of the window
    for _ in range(PER_TOKEN.limit):
        response = await a.client.post("/api/v1/notifications/clear", headers=bearer(token))
        assert response.status_code == 200
    assert response.headers["x-ratelimit-remaining"] == "0"
    # When it writes once more: 429 in Mastodon's shape, readable by browser clients
    refused = await a.client.post("/api/v1/notifications/clear", headers=bearer(token))
    assert refused.status_code == 429 and refused.json() == {"error": "Too many requests"}
    reset = _window_end(now, PER_TOKEN.window)
    assert _limits(refused) == ("300", "0", reset)
    assert refused.headers["retry-after"] == str(int(now - now % 300 + 300 - now))
    assert refused.headers["access-control-allow-origin"] == "*"
    # Then another token of the same member still writes, and reads still work
    fine = await a.client.post("/api/v1/notifications/clear", headers=bearer(other))
    assert fine.status_code == 200 and fine.headers["x-ratelimit-remaining"] == "299"
    assert (await a.client.get("/api/v1/notifications", headers=bearer(token))).status_code == 200
    # When the window ends, the token writes again
    federation.clock.set(now - now % 300 + 300)
    again = await a.client.post("/api/v1/notifications/clear", headers=bearer(token))
    assert again.status_code == 200 and again.headers["x-ratelimit-remaining"] == "299"


async def test_writes_without_a_token_count_per_address(federation: Federation) -> None:
    a = await federation.add("a.test")
    # Given an address that used 299 token-less writes on OAuth endpoints
    for _ in range(299):
        assert (await a.client.post("/oauth/revoke", data={"client_id": "x", "token": "y"})).status_code in (400, 401)
    # When it registers an app: the last one allowed
    app = await register_app(a)
    assert app["client_id"]
    # Then the next app registration is refused, even with a made-up token that would count on its own
    refused = await a.client.post("/api/v1/apps", data={"client_name": "x", "redirect_uris": "https://x.example/"},
                                  headers=bearer("made-up"))
    assert refused.status_code == 429 and refused.json() == {"error": "Too many requests"}
    token_refused = await a.client.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert token_refused.status_code == 429
    # And another address is not affected
    elsewhere = httpx.AsyncClient(transport=httpx.ASGITransport(app=a.app, client=("203.0.113.7", 4000)),
                                  base_url=a.base)
    async with elsewhere:
        other = await elsewhere.post("/api/v1/apps", data={"client_name": "x", "redirect_uris": "https://x.example/"})
    assert other.status_code == 200 and other.headers["x-ratelimit-remaining"] == "299"


async def test_sign_ups_count_per_address(federation: Federation) -> None:
    a = await federation.add("a.test")   # registrations closed: each attempt is a 403, and still counts
    app = await register_app(a)
    response = await a.client.post("/oauth/token", auth=(app["client_id"], app["client_secret"]),
                                   data={"grant_type": "client_credentials", "scope": "write:accounts"})
    token = response.json()["access_token"]
    form = {"username": "cy", "password": "long enough password", "agreement": "true"}
    for n in range(SIGN_UP.limit):
        attempt = await a.client.post("/api/v1/accounts", data=form, headers=bearer(token))
        assert attempt.status_code == 403
        assert attempt.headers["x-ratelimit-limit"] == "5"
        assert attempt.headers["x-ratelimit-remaining"] == str(SIGN_UP.limit - n - 1)
    refused = await a.client.post("/api/v1/accounts", data=form, headers=bearer(token))
    assert refused.status_code == 429 and refused.headers["x-ratelimit-limit"] == "5"
    assert refused.headers["x-ratelimit-reset"] == _window_end(federation.clock.time(), SIGN_UP.window)


async def test_statuses_count_per_account_and_only_when_posted(federation: Federation) -> None:
    a, token = await _setup(federation)
    other = await token_with(a, "ada", "read write")
    ada = await get_actor(a.services.db, "ada")
    assert ada is not None
    now = federation.clock.time()
    # A status that fails validation does not count
    invalid = await a.client.post("/api/v1/statuses", data={"status": ""}, headers=bearer(token))
    assert invalid.status_code == 422
    assert ("statuses", str(ada.id), 0) in await _rows(a)
    # Given the member posted 299 statuses in this 3-hour window (with any token)
    await hit_all(a.services.db, [STATUSES.counter(str(ada.id))] * (STATUSES.limit - 1), now)
    last = await a.client.post("/api/v1/statuses", data={"status": "the 300th"}, headers=bearer(token))
    assert last.status_code == 200
    assert _limits(last) == ("300", "0", _window_end(now, STATUSES.window))
    # When another token of the member posts: refused with the account's headers
    refused = await a.client.post("/api/v1/statuses", data={"status": "one more"}, headers=bearer(other))
    assert refused.status_code == 429 and refused.json() == {"error": "Too many requests"}
    assert _limits(refused) == ("300", "0", _window_end(now, STATUSES.window))
    assert ("statuses", str(ada.id), 300) in await _rows(a)     # the refusal did not count
    # Other writes of the token still work
    assert (await a.client.post("/api/v1/notifications/clear", headers=bearer(other))).status_code == 200
    # And after the window, posting works again
    federation.clock.set(now - now % STATUSES.window + STATUSES.window)
    again = await a.client.post("/api/v1/statuses", data={"status": "new window"}, headers=bearer(other))
    assert again.status_code == 200 and again.headers["x-ratelimit-remaining"] == "299"


async def test_reads_are_not_counted(federation: Federation) -> None:
    a, token = await _setup(federation)
    for _ in range(3):
        read = await a.client.get("/api/v1/notifications", headers=bearer(token))
        assert read.status_code == 200 and "x-ratelimit-limit" not in read.headers
    assert (await a.client.get("/api/v1/instance")).status_code == 200
    assert await _rows(a) == []


async def test_streaming_is_untouched_by_an_exhausted_token(federation: Federation) -> None:
    a, token = await _setup(federation)
    await hit_all(a.services.db, [PER_TOKEN.counter(_hash(token))] * PER_TOKEN.limit, federation.clock.time())
    assert (await a.client.post("/api/v1/notifications/clear", headers=bearer(token))).status_code == 429
    to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    from_app: asyncio.Queue[Any] = asyncio.Queue()
    scope = {"type": "websocket", "asgi": {"version": "3.0"}, "scheme": "ws", "http_version": "1.1",
             "path": "/api/v1/streaming", "raw_path": b"/api/v1/streaming", "root_path": "",
             "query_string": b"stream=user", "server": (a.host, 80), "client": ("127.0.0.1", 5000),
             "headers": [(b"host", a.host.encode()), (b"authorization", f"Bearer {token}".encode())],
             "subprotocols": [], "state": {}}
    task = asyncio.create_task(a.app(scope, to_app.get, from_app.put))
    await to_app.put({"type": "websocket.connect"})
    assert (await asyncio.wait_for(from_app.get(), 5))["type"] == "websocket.accept"
    await to_app.put({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait_for(task, 5)


async def test_ended_windows_are_pruned(federation: Federation) -> None:
    a, token = await _setup(federation)
    other = await token_with(a, "ada", "read write")
    assert (await a.client.post("/api/v1/notifications/clear", headers=bearer(token))).status_code == 200
    assert [r[0] for r in await _rows(a)] == ["writes_token"]
    federation.clock.advance(PER_TOKEN.window * 2)
    assert (await a.client.post("/api/v1/notifications/clear", headers=bearer(other))).status_code == 200
    assert await _rows(a) == [("writes_token", _hash(other), 1)]


def test_ipv6_addresses_count_by_their_64() -> None:
    def address(host: str) -> str:
        return client_address(Request({"type": "http", "client": (host, 1), "headers": []}))

    assert address("2001:db8:1:2:aaaa::1") == address("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::"
    assert address("192.0.2.7") == "192.0.2.7"


async def test_a_token_in_the_body_counts_for_the_account_too(federation: Federation) -> None:
    # Given ada has posted 299 statuses in this window
    a, token = await _setup(federation)
    ada = await get_actor(a.services.db, "ada")
    assert ada is not None
    now = federation.clock.time()
    await hit_all(a.services.db, [STATUSES.counter(str(ada.id))] * (STATUSES.limit - 1), now)
    # When she posts with the token in the form body (not the header): the 300th counts, the 301st is refused
    last = await a.client.post("/api/v1/statuses", data={"status": "the 300th", "access_token": token})
    assert last.status_code == 200 and last.headers["x-ratelimit-remaining"] == "0"
    refused = await a.client.post("/api/v1/statuses", json={"status": "one more", "access_token": token})
    assert refused.status_code == 429 and refused.json() == {"error": "Too many requests"}
    assert ("statuses", str(ada.id), 300) in await _rows(a)


async def test_made_up_tokens_count_per_address(federation: Federation) -> None:
    # Given one address sending writes, each with a new made-up bearer token
    a, _ = await _setup(federation)
    answers = [await a.client.post("/api/v1/statuses", data={"status": "x"}, headers=bearer(f"made-up-{n}"))
               for n in range(3)]
    # Then each is refused (401) and counted once against the address, with no row per made-up token
    assert [r.status_code for r in answers] == [401] * 3
    assert [r.headers["x-ratelimit-remaining"] for r in answers] == ["299", "298", "297"]
    assert [(b, h) for b, _, h in await _rows(a)] == [("writes_address", 3)]
