"""Migration 2 keeps the tokens made before it (by `fediverse-learn token`) working."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fediverse_learn.store.actors import lookup_token
from fediverse_learn.store.db import Database
from fediverse_learn.store.migrations import MIGRATIONS
from fediverse_learn.store.oauth import find_token


async def test_tokens_survive_migration_2(tmp_path: Path) -> None:
    # Given a database at version 1 with a member and a CLI token (its SHA-256 stored)
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        conn.executescript(MIGRATIONS[0] + "PRAGMA user_version = 1;")
        conn.execute("INSERT INTO actors (id, name, kind, private_key_pem, public_key_pem, created_at)"
                     " VALUES (7, 'ada', 'person', 'k', 'k', 0)")
        conn.execute("INSERT INTO tokens (actor_id, token_hash, scopes, created_at) VALUES (7,"
                     " '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824', 'read write', 0)")
    conn.close()
    db = await Database.open(tmp_path / "db.sqlite3")
    try:
        # When the later migrations run
        assert (await db.migrate())[0] == 2
        # Then the token ("hello") still works, for the C2S outbox and for the client API
        found = await lookup_token(db, "hello")
        assert found is not None and found[0].name == "ada"
        token = await find_token(db, "hello", 1.0)
        assert token is not None and token.actor_id == 7 and token.app_id is None
    finally:
        await db.close()
