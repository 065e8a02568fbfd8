"""Federation and member-safety policy as pure functions: domain rules, blocklist CSV, DM and reply rules."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from fediverse_learn.errors import ValidationError

__all__ = [
    "BLOCKLIST_HEADER",
    "DM_POLICIES",
    "REPLY_POLICIES",
    "SEVERITIES",
    "Blocklist",
    "BlocklistEntry",
    "direct_message_allowed",
    "domain_covers",
    "format_blocklist_csv",
    "host_allowed",
    "normalize_domain",
    "parse_blocklist_csv",
    "reply_allowed",
    "strongest_severity",
    "validate_domain",
]

# Mastodon's severities, weakest first: noop (only the flags, e.g. reject_media), silence (limit: accepted but
# kept off public timelines), suspend (no federation at all; existing content purged).
SEVERITIES = ("noop", "silence", "suspend")
BLOCKLIST_HEADER = ("#domain", "#severity", "#reject_media", "#reject_reports", "#public_comment", "#obfuscate")
REPLY_POLICIES = ("anyone", "followers", "mentioned")
DM_POLICIES = ("anyone", "followed", "none")

_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_TRUE = frozenset({"true", "1", "yes", "t", "y"})
_FALSE = frozenset({"false", "0", "no", "f", "n", ""})
MAX_COMMENT = 1_000


def normalize_domain(host: str) -> str:
    """A host name without port, lowercased, IDNA-encoded, one trailing dot stripped."""
    h = host.strip().lower()
    if h.startswith("["):
        h = h[1:].split("]", 1)[0]
    elif h.count(":") == 1:
        h = h.split(":", 1)[0]
    h = h.removesuffix(".")
    try:
        return h.encode("idna").decode("ascii")
    except UnicodeError:
        return h


def validate_domain(text: str) -> str:
    """The normalised domain a moderator typed (`school.example`, `*.school.example`, `school.example:8443`);
    ValidationError for anything else (a URL, a handle, an obfuscated `sch**l.example`)."""
    d = normalize_domain(text).removeprefix("*.")
    if any(c in text for c in "/@") or not d or len(d) > 253 or not _DOMAIN.fullmatch(d):
        raise ValidationError(f"not a domain: {text.strip()[:100]!r}")
    return d


def domain_covers(rule: str, host: str) -> bool:
    """A rule for `school.example` covers `school.example`, `a.school.example` and every port of them."""
    rule_d = normalize_domain(rule)
    host_d = normalize_domain(host)
    return host_d == rule_d or host_d.endswith("." + rule_d)


def host_allowed(host: str, mode: str, blocked: Iterable[str], allowed: Iterable[str]) -> bool:
    """Blocklist mode: any host not covered by a block. Allowlist mode: only hosts covered by an allow
    (and never a blocked one: an allow is no exemption from a block)."""
    if any(domain_covers(rule, host) for rule in blocked):
        return False
    if mode == "allowlist":
        return any(domain_covers(rule, host) for rule in allowed)
    return True


def strongest_severity(host: str, blocks: Mapping[str, str]) -> str | None:
    """The most severe of the blocks (domain -> severity) covering `host`, None if none does.

    Mastodon lets the most specific rule win but refuses to create a weaker rule under a stronger one; taking
    the strongest covering rule gives the same answer for every rule set Mastodon can hold, and is never
    weaker than intended for the rest."""
    found = [SEVERITIES.index(sev) for domain, sev in blocks.items()
             if sev in SEVERITIES and domain_covers(domain, host)]
    return SEVERITIES[max(found)] if found else None


# --- Mastodon's domain-block CSV ------------------------------------------------------------------------

@dataclass(frozen=True)
class BlocklistEntry:
    domain: str
    severity: str = "suspend"
    reject_media: bool = False
    reject_reports: bool = False
    public_comment: str = ""
    obfuscate: bool = False


@dataclass(frozen=True)
class Blocklist:
    entries: tuple[BlocklistEntry, ...]
    problems: tuple[str, ...] = field(default=())   # "line N: why", one per line that was not read


def _flag(value: str | None, default: bool) -> bool:
    v = (value or "").strip().lower()
    if not v:
        return default
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ValidationError(f"not true or false: {v[:20]!r}")


def _entry(row: Mapping[str, str | None]) -> BlocklistEntry:
    severity = (row.get("#severity") or "suspend").strip().lower()
    severity = "silence" if severity == "limit" else severity
    if severity not in SEVERITIES:
        raise ValidationError(f"unknown severity {severity[:20]!r} (suspend, silence, noop)")
    return BlocklistEntry(
        domain=validate_domain(row.get("#domain") or ""),
        severity=severity,
        reject_media=_flag(row.get("#reject_media"), False),
        reject_reports=_flag(row.get("#reject_reports"), False),
        public_comment=(row.get("#public_comment") or "").strip()[:MAX_COMMENT],
        obfuscate=_flag(row.get("#obfuscate"), False),
    )


def parse_blocklist_csv(text: str) -> Blocklist:
    """Read Mastodon's domain-block export (header `#domain,#severity,...`; columns found by name, only
    `#domain` required; `domain` without `#` is read too) or a plain list of domains, one per line.

    Every readable line becomes an entry (a domain listed twice: the last line wins); each other line is
    reported as a problem, never the whole file refused."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    first = [c.strip().lower() for c in rows[0]] if rows else []
    if "#domain" in first or "domain" in first:
        names = ["#" + c.lstrip("#") if c else "" for c in first]
        body = list(enumerate(rows[1:], start=2))
    else:
        names = ["#domain"]
        body = list(enumerate(rows, start=1))
    entries: dict[str, BlocklistEntry] = {}
    problems: list[str] = []
    for number, row in body:
        if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        try:
            entry = _entry(dict(zip(names, row, strict=False)))
        except ValidationError as exc:
            problems.append(f"line {number}: {exc}")
            continue
        entries.pop(entry.domain, None)
        entries[entry.domain] = entry
    return Blocklist(tuple(entries.values()), tuple(problems))


def format_blocklist_csv(entries: Iterable[BlocklistEntry]) -> str:
    """Mastodon's export: the `#domain,...` header, then one line per block (booleans as true/false)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(BLOCKLIST_HEADER)
    for e in entries:
        writer.writerow([e.domain, e.severity, _bool(e.reject_media), _bool(e.reject_reports), e.public_comment,
                         _bool(e.obfuscate)])
    return out.getvalue()


def _bool(value: bool) -> str:
    return "true" if value else "false"


# --- protecting young members -------------------------------------------------------------------------------

def direct_message_allowed(policy: str, *, sender_is_local: bool, member_follows_sender: bool) -> bool:
    """Whether a member with this `remote_direct_messages` policy accepts a direct message from the sender.

    anyone: every sender; followed: local senders and remote accounts the member follows; none: local
    senders only. Members of the same instance are governed by the instance itself, so they always may."""
    if sender_is_local or policy == "anyone":
        return True
    if policy == "followed":
        return member_follows_sender
    return False


def reply_allowed(policy: str, *, replier_is_author: bool, replier_mentioned: bool,
                  replier_follows_author: bool) -> bool:
    """Whether a reply to a member's post is accepted under the member's `reply_policy`.

    anyone: every replier; followers: the member's accepted followers and those the post mentions;
    mentioned: only those the post mentions. The author may always reply to themselves."""
    if replier_is_author or replier_mentioned or policy == "anyone":
        return True
    if policy == "followers":
        return replier_follows_author
    return False
