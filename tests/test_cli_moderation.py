"""The moderation, registration and domain-policy commands: run in-process through their own parsers (fast),
and once through `python -m fediverse_learn` (the hook into cli.py)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from fediverse_learn.app import initialize
from fediverse_learn.cli_moderation import COMMANDS, add_commands, add_domain_commands, add_member_commands
from fediverse_learn.config import Config
from fediverse_learn.errors import FediverseLearnError
from fediverse_learn.store.db import Database
from tests.support.instances import make_config


def parser() -> argparse.ArgumentParser:
    """The parsers as cli.py assembles them: `domain` and `member` actions plus this module's commands."""
    p = argparse.ArgumentParser(prog="fediverse-learn")
    sub = p.add_subparsers(dest="command", required=True)
    add_domain_commands(sub.add_parser("domain").add_subparsers(dest="action", required=True))
    add_member_commands(sub.add_parser("member").add_subparsers(dest="action", required=True))
    add_commands(sub)
    return p


async def run(config: Config, *argv: str) -> int:
    args = parser().parse_args(argv)
    command = COMMANDS.get(f"{args.command} {args.action}") or COMMANDS[args.command]
    return await command(args, config)


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("fediverse_learn.registrations.hash_password",
                        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash)


@pytest.fixture
async def config(tmp_path: Path) -> Config:
    cfg = make_config("a.test", tmp_path / "a")
    await initialize(cfg)
    return cfg


def lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().out.splitlines()


async def test_domain_block_list_export_import_unblock(config: Config, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert await run(config, "domain", "block", "spam.test", "--public-comment", "Spam") == 0
    assert await run(config, "domain", "block", "loud.test", "--severity", "silence", "--reject-media",
                     "--obfuscate") == 0
    assert await run(config, "domain", "allow", "partner.test") == 0
    capsys.readouterr()
    await run(config, "domain", "list")
    assert lines(capsys) == ["loud.test\tblock\tsilence\treject_media,obfuscate\t",
                             "partner.test\tallow\t", "spam.test\tblock\tsuspend\t\tSpam"]
    exported = tmp_path / "blocks.csv"
    await run(config, "domain", "export", str(exported))
    assert exported.read_text().splitlines() == [
        "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate",
        "loud.test,silence,true,false,,true", "spam.test,suspend,false,false,Spam,false"]
    # Another server imports the file; a second import skips what is blocked; a bad line makes it exit 1
    other = make_config("b.test", tmp_path / "b")
    await initialize(other)
    capsys.readouterr()
    assert await run(other, "domain", "import", str(exported)) == 0
    assert lines(capsys)[-1] == "2 blocked, 0 skipped, 0 not readable"
    exported.write_text(exported.read_text() + "bad*name,suspend\n")
    assert await run(other, "domain", "import", str(exported)) == 1
    assert lines(capsys)[-1] == "0 blocked, 2 skipped, 1 not readable"
    await run(other, "domain", "export")
    assert lines(capsys)[1:] == exported.read_text().splitlines()[1:3]
    assert await run(config, "domain", "unblock", "spam.test") == 0
    with pytest.raises(FediverseLearnError):
        await run(config, "domain", "unblock", "spam.test")


async def test_plain_domain_block_args_from_the_first_parser_still_work(config: Config) -> None:
    # cli.py's parser before the options were added: only the positional domain
    args = argparse.Namespace(command="domain", action="block", domain="spam.test")
    assert await COMMANDS["domain block"](args, config) == 0


async def test_invites_members_and_roles(config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    await run(config, "invite", "create", "--max-uses", "3", "--expires-in", "7")
    code, link = lines(capsys)[0].split("\t")
    assert link == f"http://a.test/invite/{code}"
    await run(config, "invite", "list")
    assert [line.split("\t")[:3] for line in lines(capsys)] == [[code, "active", "0/3"]]
    await run(config, "invite", "revoke", code)
    await run(config, "invite", "list")
    assert lines(capsys) == [f"revoked {code}"]
    await run(config, "invite", "list", "--all")
    assert [line.split("\t")[:2] for line in lines(capsys)] == [[code, "revoked"]]
    roster = tmp_path / "roster.csv"
    roster.write_text("name,display_name,role\nada,Ada,admin\nbea,Bea,\nBad Name,x,\n")
    assert await run(config, "member", "import", str(roster)) == 1
    out = capsys.readouterr()
    assert out.out.splitlines() == ["created ada", "created bea", "2 created, 0 existed, 1 refused"]
    assert "line 4: invalid name" in out.err
    assert await run(config, "member", "role", "bea", "moderator") == 0
    assert lines(capsys) == ["bea: member -> moderator"]
    await run(config, "moderate", "log")
    assert [line.split("\t")[2] for line in lines(capsys)] == [
        "set_role", "import_member", "import_member", "revoke_invite", "create_invite"]


async def test_pending_sign_ups_are_approved_or_rejected(config: Config, capsys: pytest.CaptureFixture[str]) -> None:
    from fediverse_learn.app import build_services
    from fediverse_learn.registrations import register

    approval = dataclasses.replace(config, instance=dataclasses.replace(config.instance, registrations="approval"))
    services = await build_services(approval)
    try:
        await register(services, "ada", "a long password", None, "teacher")
        await register(services, "bea", "a long password", None, "")
    finally:
        await services.aclose()
    await run(config, "member", "pending")
    assert [line.split("\t")[0] for line in lines(capsys)] == ["ada", "bea"]
    await run(config, "member", "approve", "ada")
    await run(config, "member", "reject", "bea")
    assert lines(capsys) == ["approved @ada@a.test", "rejected bea"]


async def test_reports_are_listed_and_resolved(config: Config, capsys: pytest.CaptureFixture[str]) -> None:
    db = await Database.open(config.database_path)
    try:
        await db.execute("INSERT INTO actors (name, kind, private_key_pem, public_key_pem, created_at)"
                         " VALUES ('ada', 'person', '', '', 0)")
        await db.execute("INSERT INTO reports (activity_uri, reporter_uri, target_uri, comment, created_at)"
                         " VALUES ('http://b.test/flag/1', 'http://b.test/actor', 'http://a.test/users/ada',"
                         " 'rude\nreplies', 0)")
    finally:
        await db.close()
    await run(config, "report", "list")
    assert lines(capsys) == ["1\t1970-01-01 00:00\thttp://b.test/actor\thttp://a.test/users/ada\t0 posts\topen\t"
                             "rude replies"]
    await run(config, "report", "resolve", "1", "--action", "warn", "--comment", "first time")
    await run(config, "report", "list")
    assert lines(capsys) == ["report 1 resolved: warn"]
    await run(config, "report", "list", "--all")
    assert lines(capsys)[0].split("\t")[5] == "resolved: warn"
    await run(config, "moderate", "silence", "ada", "--comment", "cool off")
    await run(config, "moderate", "log", "--target", "http://a.test/users/ada")
    assert [line.split("\t")[1:] for line in lines(capsys)[1:]] == [
        ["cli", "silence", "http://a.test/users/ada", "cool off"],
        ["cli", "resolve_report", "http://a.test/users/ada", "first time"],
        ["cli", "warn", "http://a.test/users/ada", "first time"]]


async def test_commands_are_hooked_into_the_console_script(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[instance]\nbase_url = "http://a.test"\n[federation]\nallow_http = true\n')

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "fediverse_learn", "--config", str(config), *args],
                              capture_output=True, text=True, timeout=60, check=False,
                              env={**os.environ, "FEDIVERSE_LEARN_LOG": "WARNING"})

    assert cli("init").returncode == 0
    created = cli("invite", "create", "--max-uses", "1")
    assert created.returncode == 0, created.stderr
    assert created.stdout.split("\t")[1].startswith("http://a.test/invite/")
    blocked = cli("domain", "block", "spam.test")
    assert (blocked.returncode, blocked.stdout) == (0, "block: spam.test\n")
    failed = cli("report", "resolve", "7", "--action", "warn")
    assert failed.returncode == 1 and failed.stderr.strip() == "fediverse-learn: no report 7"
