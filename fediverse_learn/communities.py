"""Community rules as pure functions: who may post, which posts and moderation activities concern a community."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from fediverse_learn.policy import domain_covers, normalize_domain
from fediverse_learn.uris import Uris
from fediverse_learn.vocab import as_list, has_type, http_url, id_of, ids_of, is_public

__all__ = [
    "GROUP_AWARE_SOFTWARE",
    "MAX_TITLE",
    "SCOPES",
    "Membership",
    "PostRequest",
    "Scope",
    "Target",
    "addressed_uris",
    "classify_target",
    "is_group_aware",
    "local_names",
    "moderators_uri",
    "refusal",
    "scope_admits",
    "thread_context_uri",
    "title_from_content",
]

# NodeInfo `software.name`s of servers that understand a community's Announce(Create(Note)) (FEP-1b12) and
# thread their posts by `inReplyTo`/`audience`. Every other server gets Mastodon's Announce(Note) boost.
GROUP_AWARE_SOFTWARE = frozenset({"fediverse-learn", "lemmy", "mbin", "kbin", "piefed", "nodebb", "lotide"})
MAX_TITLE = 100           # characters of a title taken from a post's first line
_MAX_ADDRESSED = 200      # addressees and mentions looked at per post
_BLOCK_END = re.compile(r"(?i)<br\s*/?>|</p\s*>|</h[1-6]\s*>|</li\s*>|</blockquote\s*>|</pre\s*>")
_TAG = re.compile(r"<[^>]*>")

Membership = Literal["open", "approval"]
# Who a community is for: `local` our members only, `allowlist` our members and servers an instance `allow`
# rule covers (partner schools), `public` anyone the instance federates with.
Scope = Literal["local", "allowlist", "public"]
SCOPES: tuple[Scope, ...] = ("local", "allowlist", "public")


def scope_admits(scope: Scope, actor_host: str, our_domain: str, allowed_domains: Iterable[str]) -> bool:
    """Whether an actor on `actor_host` may join, and post in, a community of this scope. Our own members
    are always in scope; an allowlist community also admits hosts an instance allow rule covers."""
    if normalize_domain(actor_host) == normalize_domain(our_domain):
        return True
    if scope == "local":
        return False
    if scope == "allowlist":
        return any(domain_covers(rule, actor_host) for rule in allowed_domains)
    return True


def is_group_aware(software: str) -> bool:
    """True if a server running `software` (its NodeInfo name) is shown Announce(Create) rather than boosts."""
    return software.strip().lower() in GROUP_AWARE_SOFTWARE


def moderators_uri(uris: Uris, name: str) -> str:
    """A community's moderators collection (its `attributedTo`, as Lemmy publishes it)."""
    return uris.moderators(name)


def thread_context_uri(uris: Uris, name: str, note_id: int) -> str:
    """The FEP-7888 `context` of a thread owned here: the top-level note's `context` collection, under its
    local author, or under the community that accepted a top-level post from a server that set no context."""
    return uris.note_collection(name, note_id, "context")


def addressed_uris(activity: Mapping[str, Any], obj: Mapping[str, Any] | None) -> list[str]:
    """Every actor (or collection) a post is addressed to or mentions, in order, Public left out: to, cc and
    audience of the activity and its object, then Mention tags (a Mastodon composer can only mention)."""
    found: list[str] = []
    for doc in (activity, obj or {}):
        for field in ("to", "cc", "audience"):
            found += ids_of(as_list(doc.get(field))[:_MAX_ADDRESSED])
    for tag in as_list((obj or {}).get("tag"))[:_MAX_ADDRESSED]:
        if isinstance(tag, Mapping) and has_type(tag, "Mention") and (href := http_url(tag.get("href"))):
            found.append(href)
    return list(dict.fromkeys(u for u in found if http_url(u) is not None and not is_public(u)))


@dataclass(frozen=True)
class PostRequest:
    """What the community knows when a post arrives: who sent it and where it goes."""

    member: bool          # an accepted follower of the community
    moderator: bool
    banned: bool
    public: bool          # addressed to Public (public or unlisted)
    top_level: bool       # starts a thread
    restricted: bool      # the community only takes new threads from its moderators
    locked: bool          # the thread it replies in is locked
    in_scope: bool = True  # the author's server is within the community's scope (`scope_admits`)


def refusal(request: PostRequest) -> str | None:
    """Why a community does not share a post, or None when it does. Moderators may always post; locked
    threads take no replies and restricted communities no new threads, except from moderators."""
    if request.banned:
        return "the author is banned from the community"
    if not request.in_scope:
        return "the author's server is outside the community's scope"
    if not request.public:
        return "only public posts are shared"
    if request.moderator:
        return None
    if not request.member:
        return "the author is not a member (an accepted follower)"
    if request.restricted and request.top_level:
        return "only moderators may start threads"
    if request.locked and not request.top_level:
        return "the thread is locked"
    return None


def title_from_content(content_html: str, limit: int = MAX_TITLE) -> str | None:
    """The first non-empty line of a post's text, as the title group-aware servers show for a thread; None
    for an empty post. Markup is dropped, entities decoded, and a long line cut at a word with an ellipsis."""
    text = _BLOCK_END.sub("\n", content_html)
    text = html.unescape(_TAG.sub("", text))
    line = next((stripped for raw in text.splitlines() if (stripped := " ".join(raw.split()))), None)
    if line is None:
        return None
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + "…"


@dataclass(frozen=True)
class Target:
    """What a moderation activity's `target` names on our side: a community, or one of its collections."""

    community: str                                   # the local community's name
    collection: Literal["community", "featured", "moderators"]


def classify_target(uris: Uris, target: Any) -> Target | None:
    """The local community (and which of its collections) a `target` names; None for anything else. The
    community itself, its outbox and its followers all mean the community."""
    url = http_url(id_of(target))
    if url is None or not uris.is_local(url):
        return None
    if url.endswith("/moderators"):
        ref = uris.parse(url.removesuffix("/moderators"))
        if ref is None or ref.collection is not None or ref.kind is not None:
            return None
        return Target(ref.name, "moderators")
    ref = uris.parse(url)
    if ref is None or ref.kind is not None:
        return None
    if ref.collection == "featured":
        return Target(ref.name, "featured")
    if ref.collection in (None, "outbox", "followers"):
        return Target(ref.name, "community")
    return None


def local_names(uris: Uris, candidates: Iterable[str]) -> list[str]:
    """The names of local actors among `candidates` (actor URLs only, in order, without repeats)."""
    names: list[str] = []
    for uri in candidates:
        ref = uris.parse(uri)
        if ref is not None and ref.collection is None and ref.kind is None and ref.name not in names:
            names.append(ref.name)
    return names
