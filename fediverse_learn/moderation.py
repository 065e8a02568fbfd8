"""Moderators' actions: domain blocks and allows, reports (filed, forwarded, resolved), account sanctions.

An edge-floor module (it publishes through `outbox`): the CLI and the admin API call it. Every action is
written to the moderation log in the transaction that performs it; `moderator` is the acting moderator's
actor uri, None for the command line.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fediverse_learn.documents import AS_CONTEXT, PUBLIC, SECURITY_CONTEXT
from fediverse_learn.errors import DomainBlocked, FetchError, NotFound, ValidationError
from fediverse_learn.events import publish_delete
from fediverse_learn.policy import (
    SEVERITIES,
    BlocklistEntry,
    domain_covers,
    format_blocklist_csv,
    parse_blocklist_csv,
    validate_domain,
)
from fediverse_learn.services import Services
from fediverse_learn.store.actors import LocalActor, get_actor, get_actor_by_id
from fediverse_learn.store.domains import DomainPolicy, list_rules, remove_rule, save_allow, save_block
from fediverse_learn.store.follows import list_following
from fediverse_learn.store.moderation import (
    Purge,
    ReportRecord,
    add_member_report,
    drop_remote_follows,
    follows_of,
    get_report,
    get_sanction,
    log_action,
    mark_forwarded,
    purge_actor,
    purge_domain,
    resolve_report_tx,
    revoke_tokens,
    set_sanction,
)
from fediverse_learn.store.notes_query import latest_activity
from fediverse_learn.store.objects import get_note, tombstone
from outbox.audience import Audience, resolve_audience
from outbox.compose import delete_note, reject_activity, undo_activity
from outbox.publish import kick_workers, publish_tx

__all__ = [
    "ACTIONS",
    "CATEGORIES",
    "DomainImport",
    "allow_domain",
    "block_domain",
    "delete_post",
    "disallow_domain",
    "export_domain_blocks",
    "file_report",
    "import_domain_blocks",
    "resolve_report",
    "silence_account",
    "suspend_account",
    "unblock_domain",
    "unsuspend_account",
    "warn_account",
]

log = logging.getLogger(__name__)

ACTIONS = ("none", "warn", "silence", "suspend", "delete-post")
CATEGORIES = ("spam", "legal", "violation", "other")       # Mastodon's report categories
MAX_REPORT_COMMENT = 1_000
MAX_REPORTED_POSTS = 100


# --- domains -----------------------------------------------------------------------------------------------

def _domain(services: Services, text: str) -> str:
    domain = validate_domain(text)
    if domain_covers(domain, services.uris.domain):
        raise ValidationError(f"{domain} covers this server's own domain")
    return domain


async def block_domain(services: Services, domain: str, *, severity: str = "suspend", reject_media: bool = False,
                       reject_reports: bool = False, public_comment: str = "", private_comment: str = "",
                       obfuscate: bool = False, moderator: str | None = None) -> Purge | None:
    """Block (or change the block of) a domain with one of Mastodon's severities. A suspension severs every
    follow both ways and purges the domain's content silently, as Mastodon does: nothing is sent to a
    suspended server, so no Undo or Reject could arrive. Returns what was purged (None below suspend)."""
    d = _domain(services, domain)
    if severity not in SEVERITIES:
        raise ValidationError(f"unknown severity {severity!r} ({', '.join(SEVERITIES)})")
    now = services.clock.time()
    policy = DomainPolicy(d, "block", severity, reject_media, reject_reports, obfuscate, public_comment.strip(),
                          private_comment.strip(), now)
    purged: Purge | None = None
    async with services.db.transaction() as tx:
        before = await save_block(tx, policy, now)
        if severity == "suspend":
            purged = await purge_domain(tx, d, f"{d} is suspended by the federation policy")
        detail: dict[str, Any] = {"severity": severity, "reject_media": reject_media, "reject_reports": reject_reports,
                                  "before": before.severity if before else None}
        if purged is not None:
            detail["purged"] = purged.as_dict()
        await log_action(tx, moderator=moderator, action="block_domain", target=d, now=now,
                         comment=private_comment.strip(), detail=detail)
    services.forget_domain_rules()
    log.info("blocked %s (%s)%s", d, severity, f": purged {purged.as_dict()}" if purged else "")
    return purged


async def unblock_domain(services: Services, domain: str, moderator: str | None = None) -> None:
    """Lift a block (purged content does not come back; new content may)."""
    d = validate_domain(domain)
    now = services.clock.time()
    async with services.db.transaction() as tx:
        if not await remove_rule(tx, d, "block"):
            raise NotFound(f"{d} is not blocked")
        await log_action(tx, moderator=moderator, action="unblock_domain", target=d, now=now)
    services.forget_domain_rules()


async def allow_domain(services: Services, domain: str, comment: str = "", moderator: str | None = None) -> bool:
    """Allow a domain (it matters in allowlist mode); False if it was allowed already."""
    d = _domain(services, domain)
    now = services.clock.time()
    async with services.db.transaction() as tx:
        added = await save_allow(tx, d, comment.strip(), now)
        if added:
            await log_action(tx, moderator=moderator, action="allow_domain", target=d, now=now, comment=comment)
    services.forget_domain_rules()
    return added


async def disallow_domain(services: Services, domain: str, moderator: str | None = None) -> Purge | None:
    """Remove an allow. In allowlist mode the domain is then no longer spoken to: its content is purged as
    for a suspension (hosts still covered by another allow are spared). Returns what was purged."""
    d = validate_domain(domain)
    now = services.clock.time()
    purged: Purge | None = None
    async with services.db.transaction() as tx:
        if not await remove_rule(tx, d, "allow"):
            raise NotFound(f"{d} is not allowed")
        if services.config.federation.mode == "allowlist":
            allowed = [p.domain for p in await list_rules(tx, "allow")]
            if not any(domain_covers(rule, d) for rule in allowed):
                purged = await purge_domain(tx, d, f"{d} is no longer allowed", spared=allowed)
        await log_action(tx, moderator=moderator, action="disallow_domain", target=d, now=now,
                         detail={"purged": purged.as_dict()} if purged else None)
    services.forget_domain_rules()
    return purged


@dataclass
class DomainImport:
    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)     # a block covering them existed already
    problems: list[str] = field(default_factory=list)    # "line N: why"


async def import_domain_blocks(services: Services, text: str, *, source: str = "a file",
                               moderator: str | None = None) -> DomainImport:
    """Block every domain of a Mastodon domain-block CSV (or plain list), as Mastodon's import does: domains
    already covered by a block are skipped, unreadable lines reported; the private comment names the source."""
    parsed = parse_blocklist_csv(text)
    result = DomainImport(problems=list(parsed.problems))
    existing = [p.domain for p in await list_rules(services.db, "block")]
    note = f"Imported from {source} on {datetime.fromtimestamp(services.clock.time(), UTC):%Y-%m-%d}"
    for entry in parsed.entries:
        if any(domain_covers(rule, entry.domain) for rule in existing):
            result.skipped.append(entry.domain)
            continue
        try:
            await block_domain(services, entry.domain, severity=entry.severity, reject_media=entry.reject_media,
                               reject_reports=entry.reject_reports, public_comment=entry.public_comment,
                               private_comment=note, obfuscate=entry.obfuscate, moderator=moderator)
        except ValidationError as exc:
            result.problems.append(f"{entry.domain}: {exc}")
            continue
        existing.append(entry.domain)
        result.added.append(entry.domain)
    return result


async def export_domain_blocks(services: Services) -> str:
    """Mastodon's domain-block CSV of every block that limits something (a bare noop block is left out)."""
    blocks = [p for p in await list_rules(services.db, "block")
              if p.severity != "noop" or p.reject_media or p.reject_reports]
    return format_blocklist_csv(BlocklistEntry(p.domain, p.severity, p.reject_media, p.reject_reports,
                                               p.public_comment, p.obfuscate) for p in blocks)


# --- reports -----------------------------------------------------------------------------------------------

async def _local(services: Services, uri: str) -> LocalActor | None:
    """The local member or community a uri names; NotFound for another local uri; None for a remote one."""
    if not services.uris.is_local(uri):
        return None
    ref = services.uris.parse(uri)
    actor = await get_actor(services.db, ref.name, include_removed=True) if ref and ref.kind is None else None
    if actor is None or actor.is_instance or ref is None or ref.collection is not None:
        raise NotFound(f"no local account {uri}")
    return actor


async def file_report(services: Services, reporter: LocalActor, target_uri: str, object_uris: Sequence[str],
                      comment: str, forward: bool, *, category: str = "other") -> ReportRecord:
    """Queue a member's report about an account (and some of its posts, stored here). When the account is
    remote and `forward` is set, the report is forwarded to its server as a `Flag` from the instance actor:
    the reporter stays anonymous."""
    if category not in CATEGORIES:
        raise ValidationError(f"unknown category {category!r} ({', '.join(CATEGORIES)})")
    local = await _local(services, target_uri)
    inbox: str | None = None
    if local is None:
        try:
            inbox = (await services.resolver.actor(target_uri)).inbox
        except (FetchError, DomainBlocked, ValidationError) as exc:
            raise ValidationError(f"cannot report {target_uri}: {exc}") from exc
    notes = [n for uri in dict.fromkeys(object_uris[:MAX_REPORTED_POSTS])
             if (n := await get_note(services.db, uri)) is not None and n.author_uri == target_uri]
    comment = comment.strip()[:MAX_REPORT_COMMENT]
    now = services.clock.time()
    flag: dict[str, Any] | None = None
    audience: Audience | None = None
    if forward and inbox is not None:
        flag = {"@context": AS_CONTEXT, "id": f"{services.uris.instance_actor()}#flags/{services.ids.next(now)}",
                "type": "Flag", "actor": services.uris.instance_actor(), "content": comment,
                "object": [target_uri, *(n.uri for n in notes)]}
        audience = await resolve_audience(services, services.instance, flag, [inbox])
    async with services.db.transaction() as tx:
        report_id = await add_member_report(tx, reporter_uri=services.uris.actor(reporter.name),
                                            target_uri=target_uri, object_uris=[n.uri for n in notes],
                                            comment=comment, category=category, now=now)
        if flag is not None and audience is not None:
            await publish_tx(tx, services, services.instance, flag, audience)
            await mark_forwarded(tx, report_id, flag["id"])
    if flag is not None:
        kick_workers(services)
    report = await get_report(services.db, report_id)
    assert report is not None
    log.info("report %d by %s about %s%s", report_id, reporter.name, target_uri, " (forwarded)" if flag else "")
    return report


async def resolve_report(services: Services, report_id: int, action: str, *, moderator: str | None = None,
                         comment: str = "") -> ReportRecord:
    """Act on a report (none, warn, silence, suspend the reported account, delete-post: the reported posts)
    and close it; the action and the closing are both logged."""
    if action not in ACTIONS:
        raise ValidationError(f"unknown action {action!r} ({', '.join(ACTIONS)})")
    report = await get_report(services.db, report_id)
    if report is None:
        raise NotFound(f"no report {report_id}")
    if report.resolved_at is not None:
        raise ValidationError(f"report {report_id} was resolved already ({report.action_taken})")
    kw: dict[str, Any] = {"moderator": moderator, "comment": comment, "report_id": report_id}
    if action == "warn":
        await warn_account(services, report.target_uri, **kw)
    elif action == "silence":
        await silence_account(services, report.target_uri, **kw)
    elif action == "suspend":
        await suspend_account(services, report.target_uri, **kw)
    elif action == "delete-post":
        if not report.object_uris:
            raise ValidationError(f"report {report_id} names no posts")
        for uri in report.object_uris:
            try:
                await delete_post(services, uri, **kw)
            except NotFound:
                log.info("report %d: %s is gone already", report_id, uri)
    now = services.clock.time()
    async with services.db.transaction() as tx:
        await resolve_report_tx(tx, report_id, action, moderator, now)
        await log_action(tx, moderator=moderator, action="resolve_report", target=report.target_uri, now=now,
                         report_id=report_id, comment=comment, detail={"action": action})
    resolved = await get_report(services.db, report_id)
    assert resolved is not None
    return resolved


# --- accounts ----------------------------------------------------------------------------------------------

async def warn_account(services: Services, target_uri: str, *, moderator: str | None = None, comment: str = "",
                       report_id: int | None = None) -> None:
    """A warning: recorded in the moderation log (the API shows it to a local member)."""
    await _local(services, target_uri)
    async with services.db.transaction() as tx:
        await log_action(tx, moderator=moderator, action="warn", target=target_uri, now=services.clock.time(),
                         report_id=report_id, comment=comment)


async def silence_account(services: Services, target_uri: str, *, silenced: bool = True, moderator: str | None = None,
                          comment: str = "", report_id: int | None = None) -> None:
    """Silence (or unsilence) an account: its posts stay off public timelines; nothing federates."""
    await _local(services, target_uri)
    now = services.clock.time()
    async with services.db.transaction() as tx:
        await set_sanction(tx, target_uri, now, silenced=silenced)
        await log_action(tx, moderator=moderator, action="silence" if silenced else "unsilence", target=target_uri,
                         now=now, report_id=report_id, comment=comment)


async def suspend_account(services: Services, target_uri: str, *, moderator: str | None = None, comment: str = "",
                          report_id: int | None = None) -> None:
    """Suspend an account. Local: signed out everywhere, its documents answer 410, and a `Delete` of the actor
    (signed with its key) goes to its followers' and followees' servers. Remote: its follows of our members
    are rejected and our members' follows of it undone (as Mastodon does), its posts and reactions purged,
    and what it sends from now on refused."""
    local = await _local(services, target_uri)
    already = await get_sanction(services.db, target_uri)
    if already is not None and already.suspended_at is not None:
        raise ValidationError(f"{target_uri} is suspended already")
    if local is not None:
        await _suspend_local(services, local, target_uri, moderator, comment, report_id)
    else:
        await _suspend_remote(services, target_uri, moderator, comment, report_id)
    kick_workers(services)


async def _suspend_local(services: Services, actor: LocalActor, actor_uri: str, moderator: str | None, comment: str,
                         report_id: int | None) -> None:
    now = services.clock.time()
    followees = [u for u in await list_following(services.db, actor_uri, limit=100_000)
                 if not services.uris.is_local(u)]
    delete = {"@context": [AS_CONTEXT, SECURITY_CONTEXT], "id": f"{actor_uri}#delete/{services.ids.next(now)}",
              "type": "Delete", "actor": actor_uri, "object": actor_uri, "to": [PUBLIC],
              "cc": [services.uris.followers(actor.name)], "bcc": followees}
    audience = await resolve_audience(services, actor, delete)
    async with services.db.transaction() as tx:
        await set_sanction(tx, actor_uri, now, suspended=True)
        tokens = await revoke_tokens(tx, actor.id, now)
        # Remote servers only: local follows stay, so that unsuspending restores the member here; follows
        # with remote actors go, as their servers drop them on the Delete.
        await publish_tx(tx, services, actor, delete, Audience(inboxes=audience.inboxes, local=()))
        severed = await drop_remote_follows(tx, actor_uri, f"{services.uris.base}/")
        await log_action(tx, moderator=moderator, action="suspend", target=actor_uri, now=now, report_id=report_id,
                         comment=comment, detail={"tokens_revoked": tokens, "follows_severed": severed,
                                                  "delete_sent_to": len(audience.inboxes)})
    log.info("suspended %s; Delete sent to %d inboxes", actor.name, len(audience.inboxes))


async def _suspend_remote(services: Services, target_uri: str, moderator: str | None, comment: str,
                          report_id: int | None) -> None:
    answers: list[tuple[LocalActor, dict[str, Any]]] = []
    try:
        inbox = (await services.resolver.actor(target_uri)).inbox
        answers = await _severing_activities(services, target_uri)
    except (FetchError, DomainBlocked, ValidationError) as exc:
        log.info("suspending %s without telling its server: %s", target_uri, exc)
    now = services.clock.time()
    async with services.db.transaction() as tx:
        for member, activity in answers:
            await publish_tx(tx, services, member, activity, Audience(inboxes=(inbox,), local=()))
        await set_sanction(tx, target_uri, now, suspended=True)
        purged = await purge_actor(tx, target_uri)
        await log_action(tx, moderator=moderator, action="suspend", target=target_uri, now=now, report_id=report_id,
                         comment=comment, detail={"purged": purged.as_dict(), "severed": len(answers)})


async def _severing_activities(services: Services, target_uri: str) -> list[tuple[LocalActor, dict[str, Any]]]:
    """Reject of each Follow of our members by the account, Undo of each Follow of it by our members."""
    found: list[tuple[LocalActor, dict[str, Any]]] = []
    for f in await follows_of(services.db, target_uri):
        ours = f.followee_uri if f.follower_uri == target_uri else f.follower_uri
        member = await _local(services, ours) if services.uris.is_local(ours) else None
        if member is None:
            continue
        if f.follower_uri == target_uri and f.activity_uri:
            follow = {"id": f.activity_uri, "type": "Follow", "actor": target_uri, "object": ours}
            found.append((member, reject_activity(services, member, follow)))
        elif f.follower_uri == ours:
            sent = await latest_activity(services.db, member.id, "Follow", target_uri)
            if sent is not None:
                found.append((member, undo_activity(services, member, sent.document)))
    return found


async def unsuspend_account(services: Services, target_uri: str, *, moderator: str | None = None,
                            comment: str = "") -> None:
    """Lift a suspension. Other servers were sent a Delete: they find a local member again the next time
    they meet them (follows on other servers do not come back)."""
    now = services.clock.time()
    async with services.db.transaction() as tx:
        before = await set_sanction(tx, target_uri, now, suspended=False)
        if before.suspended_at is None:
            raise ValidationError(f"{target_uri} is not suspended")
        await log_action(tx, moderator=moderator, action="unsuspend", target=target_uri, now=now, comment=comment)


async def delete_post(services: Services, uri: str, *, moderator: str | None = None, comment: str = "",
                      report_id: int | None = None) -> None:
    """Delete a post: ours through a federated Delete (as its author would), a remote one tombstoned here."""
    note = await get_note(services.db, uri)
    if note is None or note.deleted_at is not None:
        raise NotFound(f"no post {uri}")
    author = await get_actor_by_id(services.db, note.local_actor_id) if note.local_actor_id is not None else None
    if author is not None:
        await delete_note(services, author, note)
    now = services.clock.time()
    async with services.db.transaction() as tx:
        if author is None:
            await tombstone(tx, uri, now)
        await log_action(tx, moderator=moderator, action="delete_post", target=uri, now=now, report_id=report_id,
                         comment=comment, detail={"author": note.author_uri})
    publish_delete(services, note)
