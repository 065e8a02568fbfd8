"""Every client API endpoint of issue 5 against Mastodon's OAuth rules, from one table.

A row names the endpoint, the scopes Mastodon's controller passes to `doorkeeper_authorize!` (or, for endpoints
that also answer without a token, `authorize_if_got_token!`) -- any one of them is enough, as in Doorkeeper -- and
what success returns. Each row is called without a token, with tokens that hold none of its scopes (the row's
`wrong` token, and every other scope at once), and with each of its scopes alone. The three OAuth endpoints
authenticate the client instead: there "no token" is no client credentials and "wrong scope" a scope the app
was not registered for (or, for revoke, another app's token).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest
import pytest_asyncio

from fediverse_learn.api.scopes import READ_SCOPES, WRITE_SCOPES
from fediverse_learn.store.actors import create_actor
from tests.api.shapes import (
    ACCOUNT,
    CONTEXT,
    CREDENTIAL_ACCOUNT,
    CREDENTIAL_APPLICATION,
    DELETED_STATUS,
    INSTANCE_V1,
    INSTANCE_V2,
    MARKER,
    NOTIFICATION,
    OAUTH_METADATA,
    PREFERENCES,
    RELATIONSHIP,
    SEARCH,
    STATUS,
    STATUS_EDIT,
    STATUS_SOURCE,
    TOKEN,
    Exactly,
    ListOf,
    MapOf,
    Shape,
    assert_shape,
)
from tests.api.support import Socket, bearer, register_app, set_password, sign_in, token_with
from tests.support.instances import Federation, Instance
from tests.support.remote import key_pair_for

pytestmark = pytest.mark.asyncio(loop_scope="module")

# Mastodon's lists (app/controllers/api/**): any one scope of a list lets the call through.
READ_ACCOUNTS, WRITE_ACCOUNTS = ("read", "read:accounts"), ("write", "write:accounts")
READ_STATUSES, WRITE_STATUSES = ("read", "read:statuses"), ("write", "write:statuses")
READ_NOTIFICATIONS, WRITE_NOTIFICATIONS = ("read", "read:notifications"), ("write", "write:notifications")
FOLLOWS = ("follow", "write", "write:follows")
BEARER_SCOPES = ("read", "write", "follow", "push", "profile", *READ_SCOPES, *WRITE_SCOPES)
APP_FORM = {"client_name": "Table", "redirect_uris": "https://app.example/cb", "scopes": "read write follow"}
NOT_AUTHORIZED = {"error": "This action is outside the authorized scopes"}


@dataclass(frozen=True)
class Row:
    """One endpoint. `{name}` in the path, data and expected values is filled from the World: with its fixed
    objects for calls that must be refused (or only read), with fresh ones for calls that succeed."""

    method: str                       # an HTTP method, or WS for the streaming socket
    path: str
    scopes: tuple[str, ...] | None    # None: Mastodon checks no scope (a token is ignored)
    shape: Shape                      # what success returns (for WS: the payload of the first event)
    public: bool = False              # answers without a token
    wrong: str = ""                   # a token's scopes that must not be enough
    data: Mapping[str, str] = field(default_factory=dict)
    expect: Mapping[str, Any] = field(default_factory=dict)   # dotted path -> value success must carry
    given: tuple[str, ...] = ()       # fresh objects to make before a successful call
    client: bool = False              # OAuth client authentication instead of a bearer token

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


R = Row
TABLE: tuple[Row, ...] = (
    # apps_controller.rb has no token check; Doorkeeper serves /oauth/* to authenticated clients.
    R("POST", "/api/v1/apps", None, CREDENTIAL_APPLICATION, public=True, data=APP_FORM, expect={"name": "Table"}),
    R("GET", "/.well-known/oauth-authorization-server", None, OAUTH_METADATA, public=True),
    R("GET", "/oauth/authorize", ("read", "write follow"), TOKEN, client=True),    # the code, exchanged
    R("POST", "/oauth/token", ("read", "write follow"), TOKEN, client=True),
    R("POST", "/oauth/revoke", ("read",), Exactly({}), client=True),
    # instances_controller.rb (v1, v2), custom_emojis_controller.rb: no token check at all.
    R("GET", "/api/v1/instance", None, INSTANCE_V1, public=True, expect={"uri": "a.test"}),
    R("GET", "/api/v1/instance/", None, INSTANCE_V1, public=True, expect={"uri": "a.test"}),
    R("GET", "/api/v2/instance", None, INSTANCE_V2, public=True, expect={"domain": "a.test"}),
    R("GET", "/api/v2/instance/", None, INSTANCE_V2, public=True, expect={"domain": "a.test"}),
    R("GET", "/api/v1/custom_emojis", None, Exactly([]), public=True),
    # accounts/credentials_controller.rb, accounts_controller.rb, accounts/*_controller.rb
    R("GET", "/api/v1/accounts/verify_credentials", ("profile", *READ_ACCOUNTS), CREDENTIAL_ACCOUNT,
      wrong="write follow push", expect={"id": "{ada}"}),
    R("PATCH", "/api/v1/accounts/update_credentials", WRITE_ACCOUNTS, CREDENTIAL_ACCOUNT,
      wrong="read profile write:statuses", data={"display_name": "Ada L."}, expect={"display_name": "Ada L."}),
    R("GET", "/api/v1/accounts/lookup?acct=bob", READ_ACCOUNTS, ACCOUNT, public=True, wrong="write read:statuses",
      expect={"id": "{bob}"}),
    R("GET", "/api/v1/accounts/{bob}", READ_ACCOUNTS, ACCOUNT, public=True, wrong="write profile",
      expect={"username": "bob"}),
    R("GET", "/api/v1/accounts/{bob}/statuses", READ_STATUSES, ListOf(STATUS), public=True,
      wrong="write read:accounts", expect={"0.account.id": "{bob}"}),
    R("GET", "/api/v1/accounts/{bob}/followers", READ_ACCOUNTS, ListOf(ACCOUNT), public=True,
      wrong="write read:follows", expect={"0.id": "{ada}"}),
    R("GET", "/api/v1/accounts/{bob}/following", READ_ACCOUNTS, ListOf(ACCOUNT), public=True,
      wrong="follow read:follows", expect={"0.id": "{carol}"}),
    R("POST", "/api/v1/accounts/{stranger}/follow", FOLLOWS, RELATIONSHIP, wrong="read write:blocks write:mutes",
      expect={"id": "{stranger}", "following": True}),
    R("POST", "/api/v1/accounts/{followed}/unfollow", FOLLOWS, RELATIONSHIP, wrong="read write:accounts",
      expect={"id": "{followed}", "following": False}),
    R("GET", "/api/v1/accounts/relationships?id[]={bob}", ("read", "read:follows"), ListOf(RELATIONSHIP),
      wrong="write read:accounts", expect={"0.id": "{bob}", "0.following": True}),
    R("POST", "/api/v1/accounts/{stranger}/block", ("follow", "write", "write:blocks"), RELATIONSHIP,
      wrong="read write:mutes write:follows", expect={"id": "{stranger}", "blocking": True}),
    R("POST", "/api/v1/accounts/{blocked}/unblock", ("follow", "write", "write:blocks"), RELATIONSHIP,
      wrong="read write:mutes", expect={"id": "{blocked}", "blocking": False}),
    R("POST", "/api/v1/accounts/{stranger}/mute", ("follow", "write", "write:mutes"), RELATIONSHIP,
      wrong="read write:blocks write:follows", expect={"id": "{stranger}", "muting": True}),
    R("POST", "/api/v1/accounts/{muted}/unmute", ("follow", "write", "write:mutes"), RELATIONSHIP,
      wrong="read write:blocks", expect={"id": "{muted}", "muting": False}),
    # statuses_controller.rb and statuses/*_controller.rb
    R("POST", "/api/v1/statuses", WRITE_STATUSES, STATUS, wrong="read write:media write:accounts",
      data={"status": "posted"}, expect={"content": "<p>posted</p>"}),
    R("GET", "/api/v1/statuses/{status}", READ_STATUSES, STATUS, public=True, wrong="write read:accounts",
      expect={"id": "{status}"}),
    R("DELETE", "/api/v1/statuses/{own}", WRITE_STATUSES, DELETED_STATUS, wrong="read write:favourites",
      expect={"id": "{own}", "text": "mine"}),
    R("PUT", "/api/v1/statuses/{own}", WRITE_STATUSES, STATUS, wrong="read write:accounts",
      data={"status": "edited"}, expect={"id": "{own}", "content": "<p>edited</p>"}),
    R("GET", "/api/v1/statuses/{thread}/context", READ_STATUSES, CONTEXT, public=True, wrong="write read:accounts",
      expect={"descendants.0.in_reply_to_id": "{thread}"}),
    R("POST", "/api/v1/statuses/{status}/favourite", ("write", "write:favourites"), STATUS,
      wrong="read write:statuses write:bookmarks", expect={"id": "{status}", "favourited": True}),
    R("POST", "/api/v1/statuses/{favourited}/unfavourite", ("write", "write:favourites"), STATUS,
      wrong="read write:statuses", expect={"id": "{favourited}", "favourited": False}),
    R("POST", "/api/v1/statuses/{status}/reblog", WRITE_STATUSES, STATUS, wrong="read write:favourites",
      expect={"reblog.id": "{status}", "reblogged": True}),
    R("POST", "/api/v1/statuses/{reblogged}/unreblog", WRITE_STATUSES, STATUS, wrong="read write:favourites",
      expect={"id": "{reblogged}", "reblogged": False}),
    R("POST", "/api/v1/statuses/{status}/bookmark", ("write", "write:bookmarks"), STATUS,
      wrong="read write:statuses write:favourites", expect={"id": "{status}", "bookmarked": True}),
    R("POST", "/api/v1/statuses/{bookmarked}/unbookmark", ("write", "write:bookmarks"), STATUS,
      wrong="read write:statuses", expect={"id": "{bookmarked}", "bookmarked": False}),
    R("POST", "/api/v1/statuses/{own}/pin", WRITE_ACCOUNTS, STATUS, wrong="read write:statuses",
      expect={"id": "{own}", "pinned": True}),
    R("POST", "/api/v1/statuses/{pinned}/unpin", WRITE_ACCOUNTS, STATUS, wrong="read write:statuses",
      expect={"id": "{pinned}", "pinned": False}),
    R("GET", "/api/v1/statuses/{own}/source", READ_STATUSES, STATUS_SOURCE, wrong="write read:accounts",
      expect={"id": "{own}", "text": "mine"}),
    R("GET", "/api/v1/statuses/{own}/history", READ_STATUSES, ListOf(STATUS_EDIT), public=True,
      wrong="write read:accounts", expect={"0.content": "<p>mine</p>"}),
    # timelines/*_controller.rb (public and tag: with timeline previews enabled, as here)
    R("GET", "/api/v1/timelines/home", READ_STATUSES, ListOf(STATUS), wrong="write read:notifications"),
    R("GET", "/api/v1/timelines/public", READ_STATUSES, ListOf(STATUS), public=True, wrong="write read:accounts"),
    R("GET", "/api/v1/timelines/tag/fediverse", READ_STATUSES, ListOf(STATUS), public=True,
      wrong="write read:search", expect={"0.id": "{thread}"}),
    # notifications_controller.rb
    R("GET", "/api/v1/notifications", READ_NOTIFICATIONS, ListOf(NOTIFICATION), wrong="write read:statuses",
      given=("notification",), expect={"0.type": "mention"}),
    R("GET", "/api/v1/notifications/{notification}", READ_NOTIFICATIONS, NOTIFICATION, wrong="write read:statuses",
      expect={"id": "{notification}", "type": "mention"}),
    R("POST", "/api/v1/notifications/{notification}/dismiss", WRITE_NOTIFICATIONS, Exactly({}),
      wrong="read write:statuses"),
    R("POST", "/api/v1/notifications/clear", WRITE_NOTIFICATIONS, Exactly({}), wrong="read write:statuses",
      given=("notification",)),
    # follow_requests_controller.rb
    R("GET", "/api/v1/follow_requests", ("follow", "read", "read:follows"), ListOf(ACCOUNT),
      wrong="write read:accounts", given=("requester",)),
    R("POST", "/api/v1/follow_requests/{requester}/authorize", FOLLOWS, RELATIONSHIP, wrong="read write:accounts",
      expect={"id": "{requester}", "followed_by": True}),
    R("POST", "/api/v1/follow_requests/{requester}/reject", FOLLOWS, RELATIONSHIP, wrong="read write:accounts",
      expect={"id": "{requester}", "followed_by": False, "requested_by": False}),
    # v2/search_controller.rb, markers_controller.rb, bookmarks_controller.rb, favourites_controller.rb,
    # v2/filters_controller.rb, preferences_controller.rb
    R("GET", "/api/v2/search?q=bob", ("read", "read:search"), SEARCH, public=True, wrong="write read:accounts",
      expect={"accounts.0.id": "{bob}"}),
    R("GET", "/api/v1/markers?timeline[]=home", READ_STATUSES, MapOf(MARKER), wrong="write read:notifications",
      expect={"home.last_read_id": "{thread}"}),
    R("POST", "/api/v1/markers", WRITE_STATUSES, MapOf(MARKER), wrong="read write:notifications",
      data={"home[last_read_id]": "{thread}"}, expect={"home.last_read_id": "{thread}"}),
    R("GET", "/api/v1/bookmarks", ("read", "read:bookmarks"), ListOf(STATUS), wrong="write read:favourites",
      given=("bookmarked",), expect={"0.bookmarked": True}),
    R("GET", "/api/v1/favourites", ("read", "read:favourites"), ListOf(STATUS), wrong="write read:bookmarks",
      given=("favourited",), expect={"0.favourited": True}),
    R("GET", "/api/v2/filters", ("read", "read:filters"), Exactly([]), wrong="write read:accounts"),
    R("GET", "/api/v1/preferences", READ_ACCOUNTS, PREFERENCES, wrong="write profile read:statuses",
      expect={"posting:default:visibility": "public"}),
    # streaming/index.js checkScopes: `read`, or read:statuses (read:notifications for user:notification)
    R("WS", "/api/v1/streaming?stream=user", READ_STATUSES, STATUS, wrong="write follow push",
      expect={"event": "update"}),
    R("WS", "/api/v1/streaming?stream=user:notification", READ_NOTIFICATIONS, NOTIFICATION,
      wrong="read:statuses write", expect={"event": "notification"}),
)

# Where this server answers otherwise than Mastodon's controllers (see the issue 5 report): case id -> reason.
GAPS: dict[str, str] = {}   # case id -> why the server still differs from Mastodon (strict xfail)


def _case(row: Row, variant: str, *values: Any) -> Any:
    case_id = f"{row.id} {variant}"
    marks = [pytest.mark.xfail(strict=True, reason=GAPS[case_id])] if case_id in GAPS else []
    return pytest.param(row, *values, id=case_id, marks=marks)


def _refusals() -> Iterator[Any]:
    for row in TABLE:
        if row.client:
            yield _case(row, "wrong", "admin:read")
        elif row.scopes is not None:
            yield _case(row, "wrong", row.wrong)
            yield _case(row, "all-but", " ".join(s for s in BEARER_SCOPES if s not in row.scopes))


def _grants() -> Iterator[Any]:
    for row in TABLE:
        for scope in row.scopes or ("push",):     # a row without scopes ignores whatever token it gets
            yield _case(row, scope, scope)


# --- the world the table runs in ------------------------------------------------------------------------

PLACEHOLDER = re.compile(r"\{(\w+)\}")


class World:
    """One instance shared by every case: ada (who calls), bob (whom she follows, who follows carol and posted
    the thread she replied to, favourited and bookmarked), carol (whose follow request ada, locked, has not
    answered). Objects the successful calls change are made fresh for each of them."""

    def __init__(self, federation: Federation, a: Instance) -> None:
        self.federation, self.a = federation, a
        self.fixed: dict[str, str] = {}
        self.apps: list[dict[str, Any]] = []
        self._tokens: dict[tuple[str, str], str] = {}
        self._numbers = itertools.count(1)

    async def token(self, scopes: str, name: str = "ada") -> str:
        if (name, scopes) not in self._tokens:
            self._tokens[name, scopes] = await token_with(self.a, name, scopes)
        return self._tokens[name, scopes]

    async def api(self, method: str, path: str, name: str = "ada", **data: str) -> Any:
        token = await self.token("read write follow", name)
        response = await self.a.client.request(method, path, data=data or None, headers=bearer(token))
        assert response.status_code == 200, f"{method} {path}: {response.text}"
        return response.json()

    async def post(self, name: str, text: str) -> str:
        return str((await self.api("POST", "/api/v1/statuses", name, status=text))["id"])

    async def member(self) -> tuple[str, str]:
        """A fresh member's (id, name); they share one key pair: generating one each would be slow."""
        db, now = self.a.services.db, self.a.services.clock.time()
        actor = await create_actor(db, name=f"m{next(self._numbers)}", kind="person", keys=key_pair_for("members"),
                                   now=now)
        return str(actor.id), actor.name

    async def fresh(self, name: str) -> str:
        """A new object of the kind `{name}` stands for, made through the API as ada (or bob) would."""
        if name in ("ada", "bob", "carol", "thread"):
            return self.fixed[name]
        if name in ("stranger", "followed", "blocked", "muted", "requester"):
            account, member = await self.member()
            action = {"followed": "follow", "blocked": "block", "muted": "mute"}.get(name)
            if action:
                await self.api("POST", f"/api/v1/accounts/{account}/{action}")
            if name == "requester":
                await self.api("POST", f"/api/v1/accounts/{self.fixed['ada']}/follow", member)
            await self.federation.settle()
            return account
        if name == "notification":
            await self.post("bob", f"@ada ping {next(self._numbers)}")
            await self.federation.settle()
            return str((await self.api("GET", "/api/v1/notifications?limit=1"))[0]["id"])
        if name in ("own", "pinned"):
            status = await self.post("ada", "mine")
            if name == "pinned":
                await self.api("POST", f"/api/v1/statuses/{status}/pin")
            return status
        status = await self.post("bob", f"news {next(self._numbers)}")
        action = {"favourited": "favourite", "reblogged": "reblog", "bookmarked": "bookmark"}.get(name)
        if action:
            await self.api("POST", f"/api/v1/statuses/{status}/{action}")
        return status

    async def values(self, row: Row, fresh: bool) -> dict[str, str]:
        texts = [row.path, *row.data.values(), *(v for v in row.expect.values() if isinstance(v, str))]
        names = dict.fromkeys(n for text in texts for n in PLACEHOLDER.findall(text))
        if fresh:
            for name in row.given:
                await self.fresh(name)
        return {n: await self.fresh(n) if fresh else self.fixed[n] for n in names}


async def _world(federation: Federation) -> World:
    a = await federation.add("a.test")
    ada, bob, carol = [await a.add_member(name) for name in ("ada", "bob", "carol")]
    await set_password(a, "ada")
    world = World(federation, a)
    # Given ada follows bob, who starts a tagged thread mentioning her; she replies, favourites, bookmarks it
    await world.api("POST", f"/api/v1/accounts/{bob.id}/follow")
    await world.api("POST", f"/api/v1/accounts/{carol.id}/follow", "bob")
    await federation.settle()
    thread = await world.post("bob", "hello #fediverse @ada")
    await world.api("POST", "/api/v1/statuses", in_reply_to_id=thread, status="mine")
    for action in ("favourite", "bookmark"):
        await world.api("POST", f"/api/v1/statuses/{thread}/{action}")
    await world.api("POST", "/api/v1/markers", **{"home[last_read_id]": thread})
    # and approves followers by hand, with carol's request waiting
    await world.api("PATCH", "/api/v1/accounts/update_credentials", locked="true")
    await world.api("POST", f"/api/v1/accounts/{ada.id}/follow", "carol")
    await federation.settle()
    own = (await world.api("GET", f"/api/v1/accounts/{ada.id}/statuses?limit=1"))[0]["id"]
    notification = (await world.api("GET", "/api/v1/notifications?limit=1"))[0]["id"]
    world.fixed = {"ada": str(ada.id), "bob": str(bob.id), "carol": str(carol.id), "thread": thread,
                   "status": thread, "favourited": thread, "reblogged": thread, "bookmarked": thread,
                   "own": own, "pinned": own, "notification": notification,
                   **dict.fromkeys(("stranger", "followed", "blocked", "muted", "requester"), str(carol.id))}
    world.apps = [await register_app(a, scopes="read write follow push") for _ in range(2)]
    return world


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    federation = Federation(tmp_path_factory.mktemp("endpoint_auth"))
    try:
        yield await _world(federation)
    finally:
        await federation.aclose()


# --- calling a row ---------------------------------------------------------------------------------------

async def _call(world: World, row: Row, token: str | None, values: Mapping[str, str]) -> httpx.Response:
    data = {k: v.format_map(values) for k, v in row.data.items()}
    return await world.a.client.request(row.method, row.path.format_map(values), data=data or None,
                                        headers=bearer(token) if token else {})


async def _stream(world: World, row: Row, token: str | None) -> tuple[Socket, dict[str, Any]]:
    query = {k: v[0] for k, v in parse_qs(urlsplit(row.path).query).items()}
    socket = Socket(world.a, None, **query, **({"access_token": token} if token else {}))
    return socket, dict(await socket.connect())


async def _stream_refusal(world: World, row: Row, token: str | None) -> dict[str, Any]:
    """The first message of a socket that should be refused (one that was accepted is closed again)."""
    socket, message = await _stream(world, row, token)
    await (socket.close() if message["type"] == "websocket.accept" else socket.task)
    return message


def _at(value: Any, path: str) -> Any:
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def _assert_success(row: Row, body: Any, values: Mapping[str, str]) -> None:
    assert_shape(body, row.shape)
    for path, wanted in row.expect.items():
        assert _at(body, path) == (wanted.format_map(values) if isinstance(wanted, str) else wanted), path


def _client_form(app: dict[str, Any] | None, **form: str) -> dict[str, str]:
    return {**form, **({"client_id": app["client_id"], "client_secret": app["client_secret"]} if app else {})}


async def _app_token(world: World, app: dict[str, Any]) -> str:
    issued = await world.a.client.post("/oauth/token", data=_client_form(app, grant_type="client_credentials"))
    return str(issued.json()["access_token"])


async def _client_call(world: World, row: Row, app: dict[str, Any] | None, scope: str,
                       token: str | None = None) -> httpx.Response:
    """The OAuth endpoint as a client calls it: authorize with `scope`, a client_credentials token with `scope`,
    or revoke `token` (one of the first app's); `app` authenticates the call (None: no client credentials)."""
    client = world.a.client
    if row.path == "/oauth/authorize":
        return await client.get(row.path, params={
            "response_type": "code", "scope": scope,
            **({"client_id": app["client_id"], "redirect_uri": app["redirect_uris"][0]} if app else {})})
    if row.path == "/oauth/token":
        return await client.post(row.path, data=_client_form(app, grant_type="client_credentials", scope=scope))
    return await client.post(row.path, data=_client_form(app, token=token or await _app_token(world, world.apps[0])))


# --- the three tests -------------------------------------------------------------------------------------

@pytest.mark.parametrize("row", [pytest.param(row, id=row.id) for row in TABLE])
async def test_without_a_token(world: World, row: Row) -> None:
    if row.client:
        response = await _client_call(world, row, None, "read")
        if row.path == "/oauth/authorize":      # no client to send the error back to: a page (RFC 6749 4.1.2.1)
            assert response.status_code == 400 and "location" not in response.headers
        else:
            assert response.status_code == 401 and response.json()["error"] == "invalid_client"
        return
    values = await world.values(row, fresh=False)
    if row.method == "WS":
        message = await _stream_refusal(world, row, None)
        assert message == {"type": "websocket.close", "code": 1008, "reason": "The access token is invalid"}
        return
    response = await _call(world, row, None, values)
    if row.public:
        assert response.status_code == 200, response.text
        _assert_success(row, response.json(), values)
    else:
        assert response.status_code == 401, response.text
        assert response.json() == {"error": "The access token is invalid"}
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge


@pytest.mark.parametrize(("row", "scopes"), list(_refusals()))
async def test_with_a_token_missing_the_scope(world: World, row: Row, scopes: str) -> None:
    if row.client:
        if row.path == "/oauth/revoke":           # another client's token
            response = await _client_call(world, row, world.apps[1], "read")
            assert response.status_code == 403 and response.json()["error"] == "unauthorized_client"
        elif row.path == "/oauth/authorize":      # a scope the app was not registered for: back to the app
            response = await _client_call(world, row, world.apps[0], scopes)
            assert response.status_code == 302, response.text
            assert parse_qs(urlsplit(response.headers["location"]).query)["error"] == ["invalid_scope"]
        else:
            response = await _client_call(world, row, world.apps[0], scopes)
            assert (response.status_code, response.json()["error"]) == (400, "invalid_scope")
        return
    token = await world.token(scopes)
    if row.method == "WS":
        message = await _stream_refusal(world, row, token)
        assert message == {"type": "websocket.close", "code": 1008, "reason": NOT_AUTHORIZED["error"]}
        return
    response = await _call(world, row, token, await world.values(row, fresh=False))
    assert (response.status_code, response.json()) == (403, NOT_AUTHORIZED)


@pytest.mark.parametrize(("row", "scope"), list(_grants()))
async def test_with_each_of_its_scopes(world: World, row: Row, scope: str) -> None:
    if row.client:
        await _succeed_as_client(world, row, scope)
        return
    values = await world.values(row, fresh=True)
    token = await world.token(scope)
    if row.method == "WS":
        socket, message = await _stream(world, row, token)
        assert message["type"] == "websocket.accept"
        await world.post("bob", "@ada are you there?")
        await world.federation.settle()
        event = await socket.event()
        await socket.close()
        assert event["stream"] == [parse_qs(urlsplit(row.path).query)["stream"][0]]
        assert_shape(orjson.loads(event["payload"]), row.shape)
        assert event["event"] == row.expect["event"]
        return
    response = await _call(world, row, token, values)
    assert response.status_code == 200, response.text
    _assert_success(row, response.json(), values)


async def _succeed_as_client(world: World, row: Row, scope: str) -> None:
    app, token = world.apps[0], await _app_token(world, world.apps[0])
    if row.path == "/oauth/authorize":
        code = await sign_in(world.a, app, "ada", scope=scope)
        response = await world.a.client.post("/oauth/token", data=_client_form(
            app, grant_type="authorization_code", code=code, redirect_uri=app["redirect_uris"][0]))
    else:
        working = await world.a.client.get("/api/v1/apps/verify_credentials", headers=bearer(token))
        assert working.status_code == 200
        response = await _client_call(world, row, app, scope, token)
    assert response.status_code == 200, response.text
    assert_shape(response.json(), row.shape)
    if row.path == "/oauth/revoke":
        gone = await world.a.client.get("/api/v1/apps/verify_credentials", headers=bearer(token))
        assert gone.status_code == 401
    else:
        assert response.json()["scope"] == scope
