"""Helpers every `fediverse-learn` command module shares: open the migrated database, print a line."""

from __future__ import annotations

import sys

from fediverse_learn.config import Config
from fediverse_learn.store.db import Database

__all__ = ["open_database", "out"]


async def open_database(config: Config) -> Database:
    """The configured database, which `init` must have created and migrated."""
    db = await Database.open(config.database_path)
    try:
        await db.check_schema()
    except BaseException:
        await db.close()
        raise
    return db


def out(line: str) -> None:
    sys.stdout.write(line + "\n")
