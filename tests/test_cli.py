"""The command line: init, members, tokens, communities, domains; one-line errors with non-zero exits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fediverse_learn", "--config", str(config), *args],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "FEDIVERSE_LEARN_LOG": "WARNING"},
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    result = run(path, "write-config", "--local")
    assert result.returncode == 0, result.stderr
    return path


def test_write_config_local_creates_a_loadable_config_and_never_overwrites(config: Path) -> None:
    text = config.read_text()
    assert 'base_url = "http://127.0.0.1:8080"' in text
    assert "allow_http = true" in text
    config.write_text(text + "\n# mine\n")
    assert run(config, "write-config", "--local").returncode == 0
    assert config.read_text().endswith("# mine\n")


def test_init_is_idempotent(config: Path) -> None:
    first = run(config, "init")
    assert first.returncode == 0, first.stderr
    assert "applied migrations" in first.stdout
    second = run(config, "init")
    assert second.returncode == 0
    assert "applied migrations" not in second.stdout
    assert (config.parent / "data" / "fediverse-learn.sqlite3").exists()


def test_member_add_list_remove(config: Path) -> None:
    run(config, "init")
    added = run(config, "member", "add", "ada", "--display-name", "Ada Lovelace")
    assert added.returncode == 0, added.stderr
    assert "@ada@127.0.0.1:8080" in added.stdout
    listed = run(config, "member", "list")
    assert listed.stdout.splitlines() == ["ada\tmember\tAda Lovelace"]
    assert run(config, "member", "remove", "ada").returncode == 0
    assert run(config, "member", "list").stdout == ""


@pytest.mark.parametrize("name", ["Ada", "a-b", "x" * 31, "", "actor"])
def test_member_add_bad_name_is_one_line_error(config: Path, name: str) -> None:
    run(config, "init")
    result = run(config, "member", "add", name)
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1
    assert "invalid name" in result.stderr


def test_member_add_taken_name_fails(config: Path) -> None:
    run(config, "init")
    run(config, "member", "add", "ada")
    result = run(config, "member", "add", "ada")
    assert result.returncode == 1
    assert result.stderr == "fediverse-learn: the name 'ada' is already taken\n"
    community = run(config, "community", "add", "ada")
    assert community.returncode == 1 and "already taken" in community.stderr


def test_unknown_member_errors(config: Path) -> None:
    run(config, "init")
    for args in (("member", "remove", "zed"), ("token", "zed")):
        result = run(config, *args)
        assert result.returncode == 1
        assert result.stderr.count("\n") == 1 and "zed" in result.stderr


def test_token_prints_only_the_token(config: Path) -> None:
    run(config, "init")
    run(config, "member", "add", "ada")
    result = run(config, "token", "ada")
    assert result.returncode == 0
    token = result.stdout.strip()
    assert result.stdout == token + "\n" and len(token) >= 40
    db = (config.parent / "data" / "fediverse-learn.sqlite3").read_bytes()
    assert token.encode() not in db   # stored hashed


def test_community_add_and_list(config: Path) -> None:
    run(config, "init")
    run(config, "member", "add", "ada")
    result = run(config, "community", "add", "maths", "--display-name", "Maths", "--moderator", "ada")
    assert result.returncode == 0, result.stderr
    assert run(config, "community", "list").stdout == "maths\tMaths\n"
    bad = run(config, "community", "add", "physics", "--moderator", "nobody")
    assert bad.returncode == 1 and "nobody" in bad.stderr


def test_domain_block_allow_list(config: Path) -> None:
    run(config, "init")
    assert run(config, "domain", "block", "Evil.Example.").returncode == 0
    assert run(config, "domain", "allow", "partner.example").returncode == 0
    assert run(config, "domain", "list").stdout == "evil.example\tblock\tsuspend\npartner.example\tallow\t\n"
    run(config, "domain", "unblock", "evil.example")
    assert run(config, "domain", "list").stdout == "partner.example\tallow\t\n"


def test_commands_before_init_say_so(config: Path) -> None:
    result = run(config, "member", "list")
    assert result.returncode == 1
    assert "run `fediverse-learn init`" in result.stderr


def test_bad_config_exits_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[instance]\nbase_url = "https://x.example"\nbogus = 1\n')
    result = run(path, "init")
    assert result.returncode == 1
    assert result.stderr == f"fediverse-learn: {path}: [instance] bogus: unknown key\n"
