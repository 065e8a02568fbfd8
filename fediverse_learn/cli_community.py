"""Commands of `fediverse-learn` for communities: add (with settings), set, moderators, join requests."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Coroutine
from typing import Any

from fediverse_learn.cli_common import open_database as _open
from fediverse_learn.cli_common import out as _out
from fediverse_learn.clock import SystemClock
from fediverse_learn.communities import SCOPES, Membership, Scope
from fediverse_learn.config import Config
from fediverse_learn.errors import FediverseLearnError
from fediverse_learn.keys import generate_key_pair
from fediverse_learn.names import validate_name
from fediverse_learn.store import actors as actor_store
from fediverse_learn.store import communities as community_store
from fediverse_learn.store.db import Database
from fediverse_learn.store.follows import list_followers
from fediverse_learn.uris import Uris
from fediverse_learn.vocab import http_url

__all__ = ["COMMANDS", "add_commands"]

Command = Callable[[argparse.Namespace, Config], Coroutine[Any, Any, int]]

_YES_NO = {"yes": True, "no": False}


def _subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise LookupError(f"{parser.prog} has no subcommands")


def _settings_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    parser.add_argument("--membership", choices=("open", "approval"), default="open" if defaults else None,
                        help="open: anyone may join at once; approval: a moderator accepts each request")
    parser.add_argument("--restricted", choices=("yes", "no"), default="no" if defaults else None,
                        help="yes: only moderators start threads (an announcement channel)")
    parser.add_argument("--summary", default="" if defaults else None, help="the community's description")
    parser.add_argument("--rules", default="" if defaults else None, help="the community's rules")
    parser.add_argument("--scope", choices=SCOPES, default="public" if defaults else None,
                        help="local: our members only; allowlist: also servers an instance allow rule covers;"
                             " public: anyone we federate with")


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register this module's subcommands under `community` (whose `add` and `list` cli.py defines)."""
    community = _subcommands(sub.choices["community"])
    _settings_options(community.choices["add"], defaults=True)
    settings = community.add_parser("set", help="change a community's settings")
    settings.add_argument("name")
    settings.add_argument("--display-name")
    _settings_options(settings, defaults=False)
    moderator = community.add_parser("moderator", help="list, add or remove a community's moderators")
    moderator_actions = moderator.add_subparsers(dest="moderator_action", required=True)
    for action in ("add", "remove"):
        parser = moderator_actions.add_parser(action)
        parser.add_argument("name", help="the community")
        parser.add_argument("member", help="a member's name, or a remote actor's URL")
    moderator_actions.add_parser("list").add_argument("name", help="the community")
    requests = community.add_parser("requests", help="list the pending join requests of a community")
    requests.add_argument("name")
    for action, verb in (("accept", "accept"), ("reject", "refuse")):
        answer = community.add_parser(action, help=f"{verb} a pending join request (the community answers it)")
        answer.add_argument("name", help="the community")
        answer.add_argument("actor", help="the requester: an actor URL (as `requests` lists it) or a member's name")
        answer.add_argument("--moderator", help="answer as this moderator (default: as the instance admin)")


def _uris(config: Config) -> Uris:
    return Uris(config.instance.base_url, config.instance.domain)


async def _actor_uri(db: Database, uris: Uris, who: str) -> str:
    """A member's actor uri by name (or our URL), or a remote actor's URL as given."""
    if (url := http_url(who)) is not None and not uris.is_local(url):
        return url
    name = who.rsplit("/", 1)[-1] if url is not None else who
    member = await actor_store.get_actor(db, name)
    if member is None or member.kind != "person":
        raise FediverseLearnError(f"no member named {name!r}")
    return uris.actor(member.name)


async def _community(db: Database, name: str) -> actor_store.LocalActor:
    community = await community_store.community_named(db, name)
    if community is None:
        raise FediverseLearnError(f"no community named {name!r}")
    return community


async def _add(args: argparse.Namespace, config: Config) -> int:
    db = await _open(config)
    try:
        name = validate_name(args.name)
        uris = _uris(config)
        moderators = [await _actor_uri(db, uris, who) for who in args.moderator]
        membership: Membership = args.membership
        scope: Scope = args.scope
        await community_store.create_community(
            db, name=name, keys=await generate_key_pair(), now=SystemClock().time(),
            display_name=args.display_name, summary=args.summary, moderators=moderators, membership=membership,
            posting_restricted_to_mods=_YES_NO[args.restricted], rules=args.rules, scope=scope)
        _out(f"added community @{name}@{config.instance.domain}")
    finally:
        await db.close()
    return 0


async def _set(args: argparse.Namespace, config: Config) -> int:
    db = await _open(config)
    try:
        community = await _community(db, args.name)
        restricted = None if args.restricted is None else _YES_NO[args.restricted]
        async with db.transaction() as tx:
            await community_store.save_settings(
                tx, community.id, SystemClock().time(), membership=args.membership,
                posting_restricted_to_mods=restricted, rules=args.rules, summary=args.summary,
                display_name=args.display_name, scope=args.scope)
        _out(f"updated community {community.name}")
    finally:
        await db.close()
    return 0


async def _moderator(args: argparse.Namespace, config: Config) -> int:
    db = await _open(config)
    try:
        community = await _community(db, args.name)
        if args.moderator_action == "list":
            for uri in await community_store.list_moderators(db, community.id):
                _out(uri)
            return 0
        uri = await _actor_uri(db, _uris(config), args.member)
        async with db.transaction() as tx:
            if args.moderator_action == "add":
                changed = await community_store.add_moderator(tx, community.id, uri, SystemClock().time())
            else:
                changed = await community_store.remove_moderator(tx, community.id, uri)
        verb = "added" if args.moderator_action == "add" else "removed"
        _out(f"{verb} moderator {uri} of {community.name}" if changed else f"nothing to do: {uri} unchanged")
    finally:
        await db.close()
    return 0


async def _requests(args: argparse.Namespace, config: Config) -> int:
    db = await _open(config)
    try:
        community = await _community(db, args.name)
        for follower in await list_followers(db, _uris(config).actor(community.name), "pending"):
            _out(follower)
    finally:
        await db.close()
    return 0


async def _answer(args: argparse.Namespace, config: Config) -> int:
    from fediverse_learn.app import build_services  # noqa: PLC0415  (quick commands start fast)
    from outbox.community_actions import answer_join  # noqa: PLC0415

    services = await build_services(config)
    try:
        community = await _community(services.db, args.name)
        moderator = None
        if args.moderator is not None:
            moderator = await actor_store.get_actor(services.db, args.moderator)
            if moderator is None or moderator.kind != "person":
                raise FediverseLearnError(f"no member named {args.moderator!r}")
        follower = await _actor_uri(services.db, services.uris, args.actor)
        await answer_join(services, community, moderator, follower, accept=args.action == "accept")
        _out(f"{args.action}ed {follower} in {community.name}")
    finally:
        await services.aclose()
    return 0


# Top-level command name (or "command action") -> handler; add_commands registers their parsers.
COMMANDS: dict[str, Command] = {
    "community add": _add,
    "community set": _set,
    "community moderator": _moderator,
    "community requests": _requests,
    "community accept": _answer,
    "community reject": _answer,
}
