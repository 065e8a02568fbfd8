"""`member add --password-stdin` and `member password`: members get argon2 passwords they can sign in with."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from fediverse_learn.app import initialize
from fediverse_learn.cli_accounts import COMMANDS
from fediverse_learn.config import Config
from fediverse_learn.errors import FediverseLearnError
from fediverse_learn.passwords import verify_password
from fediverse_learn.store.db import Database
from fediverse_learn.store.oauth import member_password
from tests.support.instances import make_config


async def _config(tmp_path: Path) -> Config:
    config = make_config("a.test", tmp_path)
    await initialize(config)
    return config


async def _hash(config: Config, name: str) -> str | None:
    db = await Database.open(config.database_path)
    try:
        found = await member_password(db, name)
    finally:
        await db.close()
    assert found is not None
    return found[1]


def _add_args(name: str, *, password_stdin: bool) -> argparse.Namespace:
    return argparse.Namespace(name=name, display_name="", admin=False, password_stdin=password_stdin)


async def test_member_add_reads_one_password_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    config = await _config(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret password\nignored\n"))
    assert await COMMANDS["member add"](_add_args("ada", password_stdin=True), config) == 0
    assert "added member @ada@a.test" in capsys.readouterr().out
    assert verify_password(await _hash(config, "ada"), "s3cret password")


async def test_member_add_without_the_flag_has_no_password(tmp_path: Path) -> None:
    config = await _config(tmp_path)
    assert await COMMANDS["member add"](_add_args("ada", password_stdin=False), config) == 0
    assert await _hash(config, "ada") is None


async def test_short_password_is_refused_before_the_member_exists(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    config = await _config(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    with pytest.raises(FediverseLearnError, match="at least"):
        await COMMANDS["member add"](_add_args("ada", password_stdin=True), config)
    db = await Database.open(config.database_path)
    try:
        assert await member_password(db, "ada") is None
    finally:
        await db.close()


async def test_member_password_sets_a_new_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = await _config(tmp_path)
    await COMMANDS["member add"](_add_args("ada", password_stdin=False), config)
    monkeypatch.setattr("sys.stdin", io.StringIO("a brand new one\n"))
    assert await COMMANDS["member password"](argparse.Namespace(name="ada"), config) == 0
    assert verify_password(await _hash(config, "ada"), "a brand new one")
    monkeypatch.setattr("sys.stdin", io.StringIO("a brand new one\n"))
    with pytest.raises(FediverseLearnError, match="no member"):
        await COMMANDS["member password"](argparse.Namespace(name="nobody"), config)
