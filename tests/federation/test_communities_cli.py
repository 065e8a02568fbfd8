"""The community commands: add with settings and moderators, set, moderator add|remove|list, join requests."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fediverse_learn.cli import main
from fediverse_learn.config import load_config
from fediverse_learn.store.communities import community_named, get_settings
from fediverse_learn.store.db import Database
from fediverse_learn.store.follows import set_follow


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    assert main(["--config", str(path), "write-config", "--local"]) == 0
    assert main(["--config", str(path), "init"]) == 0
    assert main(["--config", str(path), "member", "add", "ada"]) == 0
    assert main(["--config", str(path), "member", "add", "bea"]) == 0
    return path


def run(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--config", str(config), *args])
    out, err = capsys.readouterr()
    return code, out, err


def settings_of(config: Path, name: str) -> tuple[str, bool, str, str]:
    async def read() -> tuple[str, bool, str, str]:
        db = await Database.open(load_config(config).database_path)
        try:
            community = await community_named(db, name)
            assert community is not None
            found = await get_settings(db, community)
            return found.membership, found.posting_restricted_to_mods, found.rules, community.summary
        finally:
            await db.close()
    return asyncio.run(read())


def test_community_add_records_settings_and_moderators(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(config, capsys, "community", "add", "maths", "--display-name", "Maths", "--moderator", "ada",
                       "--membership", "approval", "--restricted", "yes", "--summary", "Ideas", "--rules", "Be kind")
    assert code == 0 and "@maths@127.0.0.1:8080" in out
    assert settings_of(config, "maths") == ("approval", True, "Be kind", "Ideas")
    code, out, _ = run(config, capsys, "community", "moderator", "list", "maths")
    assert out.splitlines() == ["http://127.0.0.1:8080/users/ada"]
    assert run(config, capsys, "community", "list")[1].splitlines() == ["maths\tMaths"]


def test_community_add_with_an_unknown_moderator_fails_and_adds_nothing(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(config, capsys, "community", "add", "maths", "--moderator", "nobody")
    assert code == 1 and "no member named 'nobody'" in err
    assert run(config, capsys, "community", "list")[1] == ""
    # and a community cannot take a member's name
    code, _, err = run(config, capsys, "community", "add", "ada")
    assert code == 1 and "already taken" in err


def test_community_set_changes_only_what_is_given(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(config, capsys, "community", "add", "maths", "--rules", "Be kind")
    assert run(config, capsys, "community", "set", "maths", "--membership", "approval")[0] == 0
    assert settings_of(config, "maths") == ("approval", False, "Be kind", "")
    assert run(config, capsys, "community", "set", "maths", "--restricted", "yes", "--membership", "open")[0] == 0
    assert settings_of(config, "maths") == ("open", True, "Be kind", "")
    code, _, err = run(config, capsys, "community", "set", "ada", "--restricted", "no")
    assert code == 1 and "no community named 'ada'" in err


def test_community_moderators_are_added_and_removed(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(config, capsys, "community", "add", "maths", "--moderator", "ada")
    assert run(config, capsys, "community", "moderator", "add", "maths", "bea")[0] == 0
    assert run(config, capsys, "community", "moderator", "add", "maths", "https://lemmy.test/u/carol")[0] == 0
    assert run(config, capsys, "community", "moderator", "remove", "maths", "ada")[0] == 0
    _, out, _ = run(config, capsys, "community", "moderator", "list", "maths")
    assert out.splitlines() == ["http://127.0.0.1:8080/users/bea", "https://lemmy.test/u/carol"]
    assert run(config, capsys, "community", "requests", "maths") == (0, "", "")


def test_join_requests_are_listed_and_answered_by_a_moderator(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(config, capsys, "community", "add", "maths", "--membership", "approval", "--moderator", "ada")
    bea, maths = "http://127.0.0.1:8080/users/bea", "http://127.0.0.1:8080/users/maths"

    async def ask(follower: str) -> None:   # bea's Follow arrived and waits for a moderator
        db = await Database.open(load_config(config).database_path)
        try:
            async with db.transaction() as tx:
                await set_follow(tx, follower, maths, "pending", f"{follower}/activities/1", 0.0)
        finally:
            await db.close()

    asyncio.run(ask(bea))
    assert run(config, capsys, "community", "requests", "maths")[1].splitlines() == [bea]
    code, _, err = run(config, capsys, "community", "accept", "maths", "bea", "--moderator", "bea")
    assert code == 1 and "not a moderator" in err
    code, out, _ = run(config, capsys, "community", "accept", "maths", "bea", "--moderator", "ada")
    assert code == 0 and out.strip() == f"accepted {bea} in maths"
    assert run(config, capsys, "community", "requests", "maths")[1] == ""
    code, _, err = run(config, capsys, "community", "reject", "maths", "bea")
    assert code == 1 and "no pending request" in err
