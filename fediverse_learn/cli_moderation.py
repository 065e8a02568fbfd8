"""Commands of `fediverse-learn` for moderation, registrations and domain policy (issue 6)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeAlias

from fediverse_learn import moderation, registrations
from fediverse_learn.cli_common import out as _out
from fediverse_learn.config import Config
from fediverse_learn.errors import DomainBlocked, FediverseLearnError, FetchError, NotFound, ValidationError
from fediverse_learn.policy import SEVERITIES
from fediverse_learn.services import Services
from fediverse_learn.store.actors import get_actor
from fediverse_learn.store.admin_queries import reopen_report
from fediverse_learn.store.domains import DomainPolicy, list_rules
from fediverse_learn.store.moderation import list_log, list_reports
from fediverse_learn.store.registrations import list_invites, list_sign_ups
from fediverse_learn.webfinger import parse_handle

__all__ = ["COMMANDS", "add_commands", "add_domain_commands", "add_member_commands"]

Command = Callable[[argparse.Namespace, Config], Coroutine[Any, Any, int]]
SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_commands(sub: SubParsers) -> None:
    """Register this module's subcommands (names must not clash with fediverse_learn/cli.py's)."""
    report = sub.add_parser("report", help="the moderation queue").add_subparsers(dest="action", required=True)
    report.add_parser("list", help="open reports").add_argument("--all", action="store_true",
                                                                help="resolved reports too")
    resolve = report.add_parser("resolve", help="act on a report and close it")
    resolve.add_argument("id", type=int)
    resolve.add_argument("--action", required=True, choices=moderation.ACTIONS)
    resolve.add_argument("--comment", default="", help="why (kept in the moderation log)")
    report.add_parser("reopen", help="open a resolved report again").add_argument("id", type=int)

    invite = sub.add_parser("invite", help="invite links").add_subparsers(dest="action", required=True)
    create = invite.add_parser("create", help="print a new invite code and link")
    create.add_argument("--max-uses", type=int, default=None)
    create.add_argument("--expires-in", type=float, default=None, metavar="DAYS")
    invite.add_parser("list", help="active invites").add_argument("--all", action="store_true")
    invite.add_parser("revoke", help="revoke an invite").add_argument("code")

    moderate = sub.add_parser("moderate", help="act on an account or a post, read the moderation log")
    actions = moderate.add_subparsers(dest="action", required=True)
    for action in ("warn", "silence", "unsilence", "suspend", "unsuspend"):
        p = actions.add_parser(action, help=f"{action} an account")
        p.add_argument("target", help="member or community name, user@host, or actor URI")
        p.add_argument("--comment", default="")
    delete = actions.add_parser("delete-post", help="delete a post (ours federates as Delete)")
    delete.add_argument("target", metavar="uri")
    delete.add_argument("--comment", default="")
    log = actions.add_parser("log", help="the moderation log, newest first")
    log.add_argument("--limit", type=int, default=50)
    log.add_argument("--target", default=None)


def add_domain_commands(domain: SubParsers) -> None:
    """The `domain` actions (cli.py's `domain` parser calls this)."""
    block = domain.add_parser("block", help="block a domain (covers its subdomains and every port)")
    block.add_argument("domain")
    block.add_argument("--severity", choices=SEVERITIES, default="suspend")
    block.add_argument("--reject-media", action="store_true")
    block.add_argument("--reject-reports", action="store_true")
    block.add_argument("--obfuscate", action="store_true", help="hide the name in the public list")
    block.add_argument("--public-comment", default="")
    block.add_argument("--private-comment", default="")
    for action, text in (("unblock", "lift a block"), ("allow", "allow a domain (allowlist mode)"),
                         ("disallow", "remove an allow")):
        domain.add_parser(action, help=text).add_argument("domain")
    domain.add_parser("list", help="every block and allow")
    domain.add_parser("import", help="block the domains of a Mastodon domain-block CSV").add_argument("file")
    domain.add_parser("export", help="write the blocks as Mastodon's CSV").add_argument("file", nargs="?")


def add_member_commands(member: SubParsers) -> None:
    """The registration actions of `member` (cli.py's `member` parser calls this)."""
    member.add_parser("import", help="create members from a CSV roster (name, display_name, role, email)"
                      ).add_argument("file")
    member.add_parser("pending", help="sign-ups awaiting approval")
    member.add_parser("approve", help="approve a pending sign-up").add_argument("name")
    reject = member.add_parser("reject", help="reject a pending sign-up")
    reject.add_argument("name")
    reject.add_argument("--comment", default="")
    role = member.add_parser("role", help="give a member a role")
    role.add_argument("name")
    role.add_argument("role", choices=registrations.ROLES)


@asynccontextmanager
async def _services(config: Config) -> AsyncIterator[Services]:
    from fediverse_learn.app import build_services  # noqa: PLC0415  (quick commands start fast)

    services = await build_services(config)
    try:
        yield services
    finally:
        await services.aclose()


def _when(t: float | None) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M") if t is not None else "-"


def _one_line(text: str) -> str:
    return " ".join(text.split())


async def _read(path: str) -> str:
    try:
        return await asyncio.to_thread(Path(path).read_text, encoding="utf-8")
    except OSError as exc:
        raise FediverseLearnError(f"{path}: cannot read: {exc.strerror}") from None


async def _target(services: Services, text: str) -> str:
    """The actor uri a moderator means: a member or community name, `user@host`, or an actor uri."""
    text = text.strip()
    if text.startswith(("https://", "http://")):
        return text
    if "@" in text.lstrip("@"):
        try:
            return (await services.resolver.actor_by_handle(str(parse_handle(text)))).uri
        except (FetchError, DomainBlocked) as exc:
            raise ValidationError(f"cannot find {text}: {exc}") from exc
    actor = await get_actor(services.db, text.lstrip("@"), include_removed=True)
    if actor is None or actor.is_instance:
        raise NotFound(f"no member or community named {text!r}")
    return services.uris.actor(actor.name)


# --- domain ------------------------------------------------------------------------------------------------

async def _domain(args: argparse.Namespace, config: Config) -> int:
    async with _services(config) as services:
        action = args.action
        if action == "block":
            # getattr: cli.py's plain `domain block DOMAIN` parser has none of the options
            options = {k: getattr(args, k) for k in ("severity", "reject_media", "reject_reports", "obfuscate",
                                                    "public_comment", "private_comment") if hasattr(args, k)}
            purged = await moderation.block_domain(services, args.domain, **options)
            counts = ", ".join(f"{v} {k}" for k, v in purged.as_dict().items() if v) if purged else ""
            _out(f"block: {args.domain}" + (f" (removed {counts})" if counts else ""))
        elif action == "unblock":
            await moderation.unblock_domain(services, args.domain)
            _out(f"unblock: {args.domain}")
        elif action == "allow":
            await moderation.allow_domain(services, args.domain)
            _out(f"allow: {args.domain}")
        elif action == "disallow":
            await moderation.disallow_domain(services, args.domain)
            _out(f"disallow: {args.domain}")
        elif action == "list":
            for p in await list_rules(services.db):
                _out(_rule_line(p))
        elif action == "import":
            return await _domain_import(services, args.file)
        elif action == "export":
            text = await moderation.export_domain_blocks(services)
            if args.file:
                await asyncio.to_thread(Path(args.file).write_text, text, encoding="utf-8")
            else:
                sys.stdout.write(text)
    return 0


def _rule_line(p: DomainPolicy) -> str:
    """domain, kind, severity (blocks); then flags and public comment, only when a block has any."""
    if p.kind == "allow":
        return f"{p.domain}\tallow\t"
    flags = ",".join(f for f, on in (("reject_media", p.reject_media), ("reject_reports", p.reject_reports),
                                     ("obfuscate", p.obfuscate)) if on)
    extra = f"\t{flags}\t{_one_line(p.public_comment)}" if flags or p.public_comment else ""
    return f"{p.domain}\tblock\t{p.severity}{extra}"


async def _domain_import(services: Services, path: str) -> int:
    result = await moderation.import_domain_blocks(services, await _read(path), source=Path(path).name)
    for domain in result.added:
        _out(f"blocked {domain}")
    for domain in result.skipped:
        _out(f"skipped {domain}: already covered by a block")
    for problem in result.problems:
        sys.stderr.write(f"fediverse-learn: {path}: {problem}\n")
    _out(f"{len(result.added)} blocked, {len(result.skipped)} skipped, {len(result.problems)} not readable")
    return 1 if result.problems else 0


# --- member ------------------------------------------------------------------------------------------------

async def _member(args: argparse.Namespace, config: Config) -> int:
    async with _services(config) as services:
        if args.action == "import":
            result = await registrations.import_roster(services, await _read(args.file))
            for name in result.created:
                _out(f"created {name}")
            for name in result.existing:
                _out(f"exists {name}")
            for problem in result.problems:
                sys.stderr.write(f"fediverse-learn: {args.file}: {problem}\n")
            _out(f"{len(result.created)} created, {len(result.existing)} existed, {len(result.problems)} refused")
            return 1 if result.problems else 0
        if args.action == "pending":
            for s in await list_sign_ups(services.db):
                _out("\t".join((s.name, _when(s.created_at), s.email or "", _one_line(s.reason))))
        elif args.action == "approve":
            actor = await registrations.approve_sign_up(services, args.name)
            _out(f"approved @{actor.name}@{config.instance.domain}")
        elif args.action == "reject":
            await registrations.reject_sign_up(services, args.name, comment=getattr(args, "comment", ""))
            _out(f"rejected {args.name}")
        elif args.action == "role":
            before = await registrations.set_member_role(services, args.name, args.role)
            _out(f"{args.name}: {before} -> {args.role}")
    return 0


# --- report, invite, moderate ------------------------------------------------------------------------------

async def _report(args: argparse.Namespace, config: Config) -> int:
    async with _services(config) as services:
        if args.action == "list":
            for r in await list_reports(services.db, resolved=None if args.all else False):
                state = f"resolved: {r.action_taken}" if r.resolved_at is not None else "open"
                forwarded = " (forwarded)" if r.forwarded_as else ""
                _out("\t".join((str(r.id), _when(r.created_at), r.reporter_uri, r.target_uri,
                                f"{len(r.object_uris)} posts", state + forwarded, _one_line(r.comment))))
        elif args.action == "reopen":
            if await reopen_report(services.db, args.id, None, services.clock.time()) is None:
                raise NotFound(f"no report {args.id}")
            _out(f"report {args.id} reopened")
        else:
            report = await moderation.resolve_report(services, args.id, args.action, comment=args.comment)
            _out(f"report {report.id} resolved: {report.action_taken}")
    return 0


async def _invite(args: argparse.Namespace, config: Config) -> int:
    async with _services(config) as services:
        now = services.clock.time()
        if args.action == "create":
            invite = await registrations.create_invite(services, max_uses=args.max_uses,
                                                       expires_in_days=args.expires_in)
            _out(f"{invite.code}\t{registrations.invite_link(services.uris, invite.code)}")
        elif args.action == "list":
            for i in await list_invites(services.db):
                if args.all or i.state(now) == "active":
                    uses = f"{i.uses}/{i.max_uses if i.max_uses is not None else '-'}"
                    _out("\t".join((i.code, i.state(now), uses, _when(i.expires_at))))
        else:
            await registrations.revoke(services, args.code)
            _out(f"revoked {args.code}")
    return 0


async def _moderate(args: argparse.Namespace, config: Config) -> int:
    async with _services(config) as services:
        if args.action == "log":
            for e in await list_log(services.db, target=args.target, limit=args.limit):
                _out("\t".join((_when(e.created_at), e.moderator or "cli", e.action, e.target,
                                _one_line(e.comment))))
            return 0
        comment = args.comment
        if args.action == "delete-post":
            await moderation.delete_post(services, args.target, comment=comment)
            _out(f"deleted {args.target}")
            return 0
        target = await _target(services, args.target)
        if args.action == "warn":
            await moderation.warn_account(services, target, comment=comment)
        elif args.action in ("silence", "unsilence"):
            await moderation.silence_account(services, target, silenced=args.action == "silence", comment=comment)
        elif args.action == "suspend":
            await moderation.suspend_account(services, target, comment=comment)
        else:
            await moderation.unsuspend_account(services, target, comment=comment)
        _out(f"{args.action}: {target}")
    return 0


COMMANDS: dict[str, Command] = {
    "report": _report,
    "invite": _invite,
    "moderate": _moderate,
    **{f"domain {a}": _domain for a in ("block", "unblock", "allow", "disallow", "list", "import", "export")},
    **{f"member {a}": _member for a in ("import", "pending", "approve", "reject", "role")},
}
