"""Commands of `fediverse-learn` for moderation, registrations and domain policy (issue 6)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Coroutine
from typing import Any

from fediverse_learn.config import Config

__all__ = ["COMMANDS", "add_commands"]

Command = Callable[[argparse.Namespace, Config], Coroutine[Any, Any, int]]

# Top-level command name -> handler; add_commands registers their parsers.
COMMANDS: dict[str, Command] = {}


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register this module's subcommands (names must not clash with fediverse_learn/cli.py's)."""
