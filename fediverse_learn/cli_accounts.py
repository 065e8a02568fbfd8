"""Commands of `fediverse-learn` for members' sign-in (issue 5): `member add ... --password-stdin` and
`member password NAME`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from fediverse_learn.cli_common import open_database as _open
from fediverse_learn.clock import SystemClock
from fediverse_learn.config import Config
from fediverse_learn.errors import FediverseLearnError
from fediverse_learn.keys import generate_key_pair
from fediverse_learn.names import validate_name
from fediverse_learn.passwords import check_password_rules, hash_password
from fediverse_learn.store import actors as actor_store
from fediverse_learn.store.oauth import set_password_hash

__all__ = ["COMMANDS", "add_commands"]

Command = Callable[[argparse.Namespace, Config], Coroutine[Any, Any, int]]


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Nothing to register: `member add --password-stdin` and `member password` are parsed by cli.py."""


def _read_stdin_line() -> str:
    line = sys.stdin.readline()
    if not line:
        raise FediverseLearnError("no password on standard input")
    return line.rstrip("\r\n")


def _prompt_twice() -> str:
    first = getpass.getpass("New password: ")
    if getpass.getpass("Repeat it: ") != first:
        raise FediverseLearnError("the passwords do not match")
    return first


def _checked(password: str) -> str:
    problem = check_password_rules(password)
    if problem is not None:
        raise FediverseLearnError(problem)
    return password


async def _member_add(args: argparse.Namespace, config: Config) -> int:
    """`member add NAME [--display-name TEXT] [--admin] [--password-stdin]`."""
    name = validate_name(args.name)
    password = _checked(_read_stdin_line()) if getattr(args, "password_stdin", False) else None
    password_hash = await asyncio.to_thread(hash_password, password) if password is not None else None
    clock = SystemClock()
    db = await _open(config)
    try:
        actor = await actor_store.create_actor(db, name=name, kind="person", keys=await generate_key_pair(),
                                               now=clock.time(), display_name=args.display_name,
                                               role="admin" if args.admin else "member",
                                               discoverable=config.instance.members_discoverable,
                                               indexable=config.instance.members_discoverable)
        if password_hash is not None:
            await set_password_hash(db, actor.id, password_hash, clock.time())
    finally:
        await db.close()
    sys.stdout.write(f"added member @{name}@{config.instance.domain}\n")
    return 0


async def _member_password(args: argparse.Namespace, config: Config) -> int:
    """`member password NAME`: prompted twice on a terminal, else one line of standard input. Tokens that
    apps obtained with the old password stop working; tokens from `fediverse-learn token` stay."""
    password = _checked(_prompt_twice() if sys.stdin.isatty() else _read_stdin_line())
    password_hash = await asyncio.to_thread(hash_password, password)
    clock = SystemClock()
    db = await _open(config)
    try:
        actor = await actor_store.get_actor(db, args.name)
        if actor is None or actor.kind != "person":
            raise FediverseLearnError(f"no member named {args.name!r}")
        await set_password_hash(db, actor.id, password_hash, clock.time(), revoke_tokens=True)
    finally:
        await db.close()
    sys.stdout.write(f"password set for {actor.name}\n")
    return 0


# "command action" -> handler; cli.py looks these up before its own.
COMMANDS: dict[str, Command] = {"member add": _member_add, "member password": _member_password}
