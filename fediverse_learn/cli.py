"""The `fediverse-learn` command: init, serve, members, communities, tokens, domain policy."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import orjson

from fediverse_learn import cli_accounts, cli_community, cli_moderation
from fediverse_learn.cli_common import open_database as _open
from fediverse_learn.cli_common import out as _out
from fediverse_learn.clock import SystemClock
from fediverse_learn.config import Config, load_config
from fediverse_learn.errors import FediverseLearnError
from fediverse_learn.local_config import write_local_config
from fediverse_learn.store import actors as actor_store

__all__ = ["main"]

Command = Callable[[argparse.Namespace, Config], Coroutine[Any, Any, int]]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fediverse-learn", description="A learning commons on the fediverse.")
    p.add_argument("--config", default=os.environ.get("FEDIVERSE_LEARN_CONFIG", "config.toml"),
                   help="configuration file (default: $FEDIVERSE_LEARN_CONFIG or ./config.toml)")
    sub = p.add_subparsers(dest="command", required=True)
    wc = sub.add_parser("write-config", help="write a config file from config.example.toml if there is none")
    wc.add_argument("--local", action="store_true", help="local trial settings: http on 127.0.0.1:8080")
    wc.add_argument("--port", type=int, default=8080)
    sub.add_parser("init", help="create the data directory, database and instance keys (idempotent)")
    sub.add_parser("serve", help="run the server and its workers")

    member = sub.add_parser("member", help="manage members").add_subparsers(dest="action", required=True)
    add = member.add_parser("add", help="add a member")
    add.add_argument("name")
    add.add_argument("--display-name", default="")
    add.add_argument("--admin", action="store_true")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the member's password from one line of standard input")
    member.add_parser("list", help="list members")
    member.add_parser("remove", help="remove a member").add_argument("name")
    member.add_parser("password", help="set a member's password (asked twice, or one line of standard input)"
                      ).add_argument("name")
    cli_moderation.add_member_commands(member)

    resolve = sub.add_parser("resolve", help="look up a remote actor by handle (WebFinger, signed fetch)")
    resolve.add_argument("handle", help="user@host")

    token = sub.add_parser("token", help="print a new bearer token for a member (scopes read write follow)")
    token.add_argument("name")

    community = sub.add_parser("community", help="manage communities").add_subparsers(dest="action",
                                                                                       required=True)
    cadd = community.add_parser("add", help="add a community")
    cadd.add_argument("name")
    cadd.add_argument("--display-name", default="")
    cadd.add_argument("--moderator", action="append", default=[])
    community.add_parser("list", help="list communities")

    domain = sub.add_parser("domain", help="federation policy per domain").add_subparsers(dest="action",
                                                                                          required=True)
    cli_moderation.add_domain_commands(domain)
    for extension in (cli_community, cli_moderation, cli_accounts):
        extension.add_commands(sub)
    return p


async def _init(args: argparse.Namespace, config: Config) -> int:
    from fediverse_learn.app import initialize

    applied = await initialize(config)
    _out(f"database {config.database_path} ready" + (f" (applied migrations {applied})" if applied else ""))
    return 0


async def _serve(args: argparse.Namespace, config: Config) -> int:
    from fediverse_learn.server import serve

    await serve(config)
    return 0


async def _member(args: argparse.Namespace, config: Config) -> int:
    clock = SystemClock()
    db = await _open(config)
    try:
        if args.action == "list":
            for actor in await actor_store.list_actors(db, "person"):
                _out(f"{actor.name}\t{actor.role}\t{actor.display_name}")
        elif args.action == "remove":
            await actor_store.remove_actor(db, args.name, "person", clock.time())
            _out(f"removed member {args.name}")
    finally:
        await db.close()
    return 0


async def _resolve(args: argparse.Namespace, config: Config) -> int:
    from fediverse_learn.app import build_services

    services = await build_services(config)
    try:
        actor = await services.resolver.actor_by_handle(args.handle)
    finally:
        await services.aclose()
    summary = {
        "uri": actor.uri, "handle": f"{actor.username}@{actor.domain}", "type": actor.type,
        "name": actor.name, "inbox": actor.inbox, "shared_inbox": actor.shared_inbox, "url": actor.url,
    }
    _out(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode("utf-8"))
    return 0


async def _token(args: argparse.Namespace, config: Config) -> int:
    db = await _open(config)
    try:
        actor = await actor_store.get_actor(db, args.name)
        if actor is None or actor.kind != "person":
            raise FediverseLearnError(f"no member named {args.name!r}")
        _out(await actor_store.create_token(db, actor, "read write follow", SystemClock().time()))
    finally:
        await db.close()
    return 0


async def _community(args: argparse.Namespace, config: Config) -> int:
    """`community list` (the other community commands live in cli_community.py)."""
    db = await _open(config)
    try:
        for actor in await actor_store.list_actors(db, "group"):
            _out(f"{actor.name}\t{actor.display_name}")
    finally:
        await db.close()
    return 0


_COMMANDS: dict[str, Command] = {
    "init": _init, "serve": _serve, "member": _member, "token": _token, "resolve": _resolve,
    "community": _community,
}


def _command(name: str, action: str | None) -> Command:
    """Extension modules may take over a whole command or one `command action` pair (e.g. "domain import")."""
    extensions: tuple[dict[str, Command], ...] = (
        cli_community.COMMANDS, cli_moderation.COMMANDS, cli_accounts.COMMANDS)
    for commands in extensions:
        for key in (f"{name} {action}", name):
            if key in commands:
                return commands[key]
    return _COMMANDS[name]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=os.environ.get("FEDIVERSE_LEARN_LOG", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        if args.command == "write-config":
            return write_local_config(Path(args.config), local=args.local, port=args.port)
        config = load_config(args.config)
        return asyncio.run(_command(args.command, getattr(args, "action", None))(args, config))
    except FediverseLearnError as exc:
        sys.stderr.write(f"fediverse-learn: {exc}\n")
        return 1
    except KeyboardInterrupt:
        return 130
