"""Who may join and how members are protected: registration modes, invites, approval, roster import, roles."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from fediverse_learn.config import Config
from fediverse_learn.errors import InvalidName, NameTaken, NotFound, ValidationError
from fediverse_learn.keys import KeyPair, generate_key_pair
from fediverse_learn.names import validate_name
from fediverse_learn.passwords import check_password_rules, hash_password
from fediverse_learn.policy import DM_POLICIES, REPLY_POLICIES, direct_message_allowed, reply_allowed
from fediverse_learn.services import Services
from fediverse_learn.store.actors import LocalActor, get_actor, get_actor_by_id
from fediverse_learn.store.follows import get_follow
from fediverse_learn.store.moderation import log_action
from fediverse_learn.store.objects import StoredNote
from fediverse_learn.store.registrations import (
    Invite,
    MemberSettings,
    NewMember,
    SignUp,
    add_sign_up,
    consume_invite,
    decide_sign_up,
    get_invite,
    get_member_settings,
    insert_invite,
    insert_member,
    link_sign_up,
    name_in_use,
    pending_sign_up,
    record_sign_up,
    revoke_invite,
    save_member_settings,
    set_role,
)
from fediverse_learn.uris import Uris
from fediverse_learn.visibility import VISIBILITIES

__all__ = [
    "MODES",
    "ROLES",
    "InviteInvalid",
    "Registration",
    "RegistrationError",
    "RegistrationsClosed",
    "RosterImport",
    "approve_sign_up",
    "create_invite",
    "direct_message_recipients",
    "direct_message_refused",
    "has_role",
    "import_roster",
    "instance_defaults",
    "invite_link",
    "register",
    "reject_sign_up",
    "reply_accepted",
    "revoke",
    "set_member_role",
    "settings_of",
    "update_settings",
]

log = logging.getLogger(__name__)

MODES = ("closed", "invite", "approval", "open")
ROLES = ("member", "moderator", "admin")          # each role may do what the ones before it may
MAX_REASON = 1_000
DAY = 86_400.0


class RegistrationError(ValidationError):
    """A sign-up was refused (the API answers 422 with the message)."""


class RegistrationsClosed(RegistrationError):
    """`[instance] registrations = "closed"`: members are created by admins only."""


class InviteInvalid(RegistrationError):
    """The invite is unknown, revoked, expired or used up, or an invite is required and missing."""


@dataclass(frozen=True)
class Registration:
    name: str
    state: str                         # "active" (signed up) or "pending" (awaits approval)
    actor: LocalActor | None = None


def has_role(actor: LocalActor, role: str) -> bool:
    """Whether the member holds `role` or a stronger one (admin > moderator > member)."""
    held = ROLES.index(actor.role) if actor.role in ROLES else 0
    return held >= ROLES.index(role)


def _setting(config: Config, key: str, default: str | bool) -> str | bool:
    value: str | bool = getattr(config.instance, key, default)
    return value


def instance_defaults(config: Config) -> MemberSettings:
    """New members' settings from `[instance] default_visibility, reply_policy, remote_direct_messages`."""
    return MemberSettings(default_visibility=str(_setting(config, "default_visibility", "public")),
                          reply_policy=str(_setting(config, "reply_policy", "anyone")),
                          remote_direct_messages=str(_setting(config, "remote_direct_messages", "anyone")))


def _new_member(config: Config, name: str, keys: KeyPair, *, display_name: str = "", role: str = "member",
                password_hash: str | None = None, email: str | None = None) -> NewMember:
    return NewMember(name=name, keys=keys, settings=replace(instance_defaults(config), email=email),
                     display_name=display_name, role=role, password_hash=password_hash,
                     discoverable=bool(_setting(config, "members_discoverable", False)))


# --- invites -----------------------------------------------------------------------------------------------

def invite_link(uris: Uris, code: str) -> str:
    return f"{uris.base}/invite/{code}"


def new_invite_code() -> str:
    """16 URL-safe characters (about 96 random bits) that never start with `-`, which a command line would take
    for an option (`fediverse-learn invite revoke CODE`)."""
    return secrets.choice("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") + secrets.token_urlsafe(12)[1:]


async def create_invite(services: Services, *, creator: str | None = None, max_uses: int | None = None,
                        expires_in_days: float | None = None) -> Invite:
    """A new invite code (16 URL-safe characters); `max_uses`/`expires_in_days` None: no limit."""
    if max_uses is not None and max_uses < 1:
        raise ValidationError("max uses must be at least 1")
    if expires_in_days is not None and expires_in_days <= 0:
        raise ValidationError("an invite must expire in the future")
    now = services.clock.time()
    expires_at = now + expires_in_days * DAY if expires_in_days is not None else None
    invite = await insert_invite(services.db, new_invite_code(), creator, max_uses, expires_at, now)
    async with services.db.transaction() as tx:
        await log_action(tx, moderator=creator, action="create_invite", target=invite.code, now=now,
                         detail={"max_uses": max_uses, "expires_at": expires_at})
    return invite


async def revoke(services: Services, code: str, moderator: str | None = None) -> None:
    now = services.clock.time()
    async with services.db.transaction() as tx:
        if not await revoke_invite(tx, code, now):
            raise NotFound(f"no active invite {code!r}")
        await log_action(tx, moderator=moderator, action="revoke_invite", target=code, now=now)


async def _usable_invite(services: Services, code: str) -> Invite:
    invite = await get_invite(services.db, code.strip())
    state = invite.state(services.clock.time()) if invite is not None else "unknown"
    if invite is None or state != "active":
        raise InviteInvalid(f"this invite is {state}")
    return invite


# --- sign-up -----------------------------------------------------------------------------------------------

async def register(services: Services, name: str, password: str, invite_code: str | None, reason: str, *,
                   email: str | None = None, display_name: str = "") -> Registration:
    """Sign up under `[instance] registrations`: closed (refused), invite (a usable invite required), approval
    (queued for a moderator unless a usable invite is given), open. An invite is checked for expiry and uses
    and counted in the transaction that creates the member."""
    mode = services.config.instance.registrations
    if mode == "closed":
        raise RegistrationsClosed("registrations are closed on this server")
    name = validate_name(name.strip())
    problem = check_password_rules(password)
    if problem is not None:
        raise RegistrationError(problem)
    invite = await _usable_invite(services, invite_code) if invite_code else None
    if mode == "invite" and invite is None:
        raise InviteInvalid("an invite is needed to sign up on this server")
    if await name_in_use(services.db, name) is not None:
        raise NameTaken(f"the name {name!r} is already taken")
    password_hash = await asyncio.to_thread(hash_password, password)
    now = services.clock.time()
    if mode == "approval" and invite is None:
        await add_sign_up(services.db, name=name, password_hash=password_hash, email=email,
                          reason=reason.strip()[:MAX_REASON], invite_id=None, now=now)
        log.info("sign-up of %s awaits approval", name)
        return Registration(name, "pending")
    member = _new_member(services.config, name, await generate_key_pair(), display_name=display_name,
                         password_hash=password_hash, email=email)
    async with services.db.transaction() as tx:
        if invite is not None and not await consume_invite(tx, invite.id, now):
            raise InviteInvalid("this invite has just been used up or has expired")
        actor_id = await insert_member(tx, member, now)
        await record_sign_up(tx, name=name, email=email, reason=reason.strip()[:MAX_REASON],
                             invite_id=invite.id if invite else None, actor_id=actor_id, now=now)
    actor = await get_actor_by_id(services.db, actor_id)
    assert actor is not None
    log.info("%s signed up%s", name, f" with invite {invite.code}" if invite else "")
    return Registration(name, "active", actor)


async def _pending(services: Services, name: str) -> SignUp:
    sign_up = await pending_sign_up(services.db, name)
    if sign_up is None:
        raise NotFound(f"no sign-up of {name!r} awaits approval")
    return sign_up


async def approve_sign_up(services: Services, name: str, moderator: str | None = None) -> LocalActor:
    """Create the member a pending sign-up asked for."""
    sign_up = await _pending(services, name)
    member = _new_member(services.config, name, await generate_key_pair(), password_hash=sign_up.password_hash,
                         email=sign_up.email)
    now = services.clock.time()
    async with services.db.transaction() as tx:
        if not await decide_sign_up(tx, sign_up.id, "approved", None, moderator, now):   # frees the name
            raise NotFound(f"no sign-up of {name!r} awaits approval")
        actor_id = await insert_member(tx, member, now)
        await link_sign_up(tx, sign_up.id, actor_id)
        await log_action(tx, moderator=moderator, action="approve_sign_up", target=name, now=now)
    actor = await get_actor_by_id(services.db, actor_id)
    assert actor is not None
    return actor


async def reject_sign_up(services: Services, name: str, moderator: str | None = None, comment: str = "") -> None:
    sign_up = await _pending(services, name)
    now = services.clock.time()
    async with services.db.transaction() as tx:
        await decide_sign_up(tx, sign_up.id, "rejected", None, moderator, now)
        await log_action(tx, moderator=moderator, action="reject_sign_up", target=name, now=now, comment=comment)


# --- roster import -----------------------------------------------------------------------------------------

@dataclass
class RosterImport:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)       # "line N: why"


@dataclass(frozen=True)
class _RosterRow:
    line: int
    name: str
    display_name: str
    role: str
    email: str | None


_ROSTER_COLUMNS = ("name", "display_name", "role", "email")


def _roster_rows(text: str, result: RosterImport) -> list[_RosterRow]:
    """The readable rows of a roster (header `name,display_name,role,email`, or those columns in that order);
    bad names, roles and e-mail addresses and repeated names go to `result.problems`."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    header = [c.strip().lower() for c in rows[0]] if rows else []
    columns, start = (header, 2) if "name" in header else (list(_ROSTER_COLUMNS), 1)
    seen: dict[str, int] = {}
    found: list[_RosterRow] = []
    for number, cells in enumerate(rows[start - 1:], start=start):
        row = {k: v.strip() for k, v in zip(columns, cells, strict=False)}
        if not any(row.values()):
            continue
        try:
            name = validate_name(row.get("name", "").lower())
            role = row.get("role") or "member"
            if role not in ROLES:
                raise ValidationError(f"unknown role {role[:20]!r} ({', '.join(ROLES)})")
            email = row.get("email") or None
            if email is not None and ("@" not in email or any(c.isspace() for c in email)):
                raise ValidationError(f"not an e-mail address: {email[:60]!r}")
        except (InvalidName, ValidationError) as exc:
            result.problems.append(f"line {number}: {exc}")
            continue
        if name in seen:
            result.problems.append(f"line {number}: {name} repeats line {seen[name]}")
            continue
        seen[name] = number
        found.append(_RosterRow(number, name, row.get("display_name", "")[:100], role, email))
    return found


async def import_roster(services: Services, text: str, moderator: str | None = None) -> RosterImport:
    """Create a member per roster line; members that exist are left as they are (a re-run creates nothing
    twice), each bad or repeated line is reported and the rest created. Members get no password: they set
    one through an admin or a password reset."""
    result = RosterImport()
    for row in _roster_rows(text, result):
        taken = await name_in_use(services.db, row.name)
        existing = await get_actor(services.db, row.name)
        if existing is not None and existing.kind == "person":
            result.existing.append(row.name)
            continue
        if taken is not None:
            why = "awaits approval" if taken == "pending" else "is taken"
            result.problems.append(f"line {row.line}: the name {row.name} {why}")
            continue
        member = _new_member(services.config, row.name, await generate_key_pair(), display_name=row.display_name,
                             role=row.role, email=row.email)
        now = services.clock.time()
        try:
            async with services.db.transaction() as tx:
                await insert_member(tx, member, now)
                await log_action(tx, moderator=moderator, action="import_member", target=row.name, now=now,
                                 detail={"role": row.role})
        except NameTaken as exc:
            result.problems.append(f"line {row.line}: {exc}")
            continue
        result.created.append(row.name)
    return result


# --- roles and settings ------------------------------------------------------------------------------------

async def set_member_role(services: Services, name: str, role: str, moderator: str | None = None) -> str:
    """Give a member the role admin, moderator or member; returns the role they had."""
    if role not in ROLES:
        raise ValidationError(f"unknown role {role!r} ({', '.join(ROLES)})")
    now = services.clock.time()
    async with services.db.transaction() as tx:
        before = await set_role(tx, name, role)
        if before is None:
            raise NotFound(f"no member named {name!r}")
        await log_action(tx, moderator=moderator, action="set_role", target=name, now=now,
                         detail={"from": before, "to": role})
    return before


async def settings_of(services: Services, actor: LocalActor) -> MemberSettings:
    """A member's safety settings (the instance defaults when they have none of their own)."""
    return await get_member_settings(services.db, actor.id) or instance_defaults(services.config)


async def update_settings(services: Services, actor: LocalActor, *, default_visibility: str | None = None,
                          reply_policy: str | None = None, remote_direct_messages: str | None = None) -> MemberSettings:
    current = await settings_of(services, actor)
    checks = ((default_visibility, VISIBILITIES, "default_visibility"), (reply_policy, REPLY_POLICIES, "reply_policy"),
              (remote_direct_messages, DM_POLICIES, "remote_direct_messages"))
    for value, allowed, key in checks:
        if value is not None and value not in allowed:
            raise ValidationError(f"{key} must be one of {', '.join(allowed)}")
    updated = replace(current, default_visibility=default_visibility or current.default_visibility,
                      reply_policy=reply_policy or current.reply_policy,
                      remote_direct_messages=remote_direct_messages or current.remote_direct_messages)
    async with services.db.transaction() as tx:
        await save_member_settings(tx, actor.id, updated, services.clock.time())
    return updated


# --- the inbox's checks (called by inbox/handlers/create.py) -----------------------------------------------

async def _local_actor(services: Services, uri: str) -> LocalActor | None:
    ref = services.uris.parse(uri)
    if ref is None or ref.kind is not None or ref.collection is not None:
        return None
    actor = await get_actor(services.db, ref.name)
    return actor if actor is not None and not actor.is_instance else None


async def direct_message_recipients(services: Services, sender_uri: str, recipients: Iterable[str]) -> list[str]:
    """Of the actors a direct message addresses, the local ones who accept it from `sender_uri`: members under
    their `remote_direct_messages` setting, communities always (their own rules apply). Empty: drop it."""
    accepted: list[str] = []
    sender_is_local = services.uris.is_local(sender_uri)
    for uri in dict.fromkeys(recipients):
        actor = await _local_actor(services, uri)
        if actor is None:
            continue
        if actor.kind != "person":
            accepted.append(uri)
            continue
        follow = await get_follow(services.db, uri, sender_uri)
        if direct_message_allowed((await settings_of(services, actor)).remote_direct_messages,
                                  sender_is_local=sender_is_local,
                                  member_follows_sender=follow is not None and follow.state == "accepted"):
            accepted.append(uri)
    return accepted


async def direct_message_refused(services: Services, sender_uri: str, recipients: Iterable[str]) -> bool:
    """True when a direct message addresses local actors and none of them accepts it from `sender_uri` (the
    inbox drops it then); a message addressing nobody here is not judged."""
    recipients = list(recipients)
    addressed = [uri for uri in dict.fromkeys(recipients) if await _local_actor(services, uri) is not None]
    return bool(addressed) and not await direct_message_recipients(services, sender_uri, addressed)


async def reply_accepted(services: Services, replier_uri: str, parent: StoredNote) -> bool:
    """Whether a reply by `replier_uri` to `parent` is accepted under its local author's `reply_policy`
    (replies to remote posts are not ours to judge)."""
    author = await _local_actor(services, parent.author_uri) if parent.is_local else None
    if author is None or author.kind != "person":
        return True
    follow = await get_follow(services.db, replier_uri, parent.author_uri)
    mentioned = replier_uri in parent.to or replier_uri in parent.cc or any(
        t.get("href") == replier_uri for t in parent.tags if t.get("type") == "Mention")
    return reply_allowed((await settings_of(services, author)).reply_policy,
                         replier_is_author=replier_uri == parent.author_uri, replier_mentioned=mentioned,
                         replier_follows_author=follow is not None and follow.state == "accepted")
