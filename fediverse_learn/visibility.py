"""Visibility <-> addressing, exactly as Mastodon maps them (public, unlisted, private, direct)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from fediverse_learn.vocab import PUBLIC, is_public

__all__ = ["VISIBILITIES", "addressing_for", "may_see", "visibility_of"]

VISIBILITIES = ("public", "unlisted", "private", "direct")


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def addressing_for(visibility: str, followers_uri: str, mentioned: Sequence[str]) -> tuple[list[str], list[str]]:
    """The (to, cc) of a post with this visibility, its author's followers collection and mentioned actors.

    public: to Public, cc followers + mentions; unlisted: to followers, cc Public + mentions;
    private (followers-only): to followers, cc mentions; direct: to mentions only."""
    mentions = _unique(m for m in mentioned if m != followers_uri and not is_public(m))
    if visibility == "public":
        return [PUBLIC], [followers_uri, *mentions]
    if visibility == "unlisted":
        return [followers_uri], [PUBLIC, *mentions]
    if visibility == "private":
        return [followers_uri], mentions
    if visibility == "direct":
        return mentions, []
    raise ValueError(f"unknown visibility {visibility!r}")


def visibility_of(to: Iterable[str], cc: Iterable[str], followers_uri: str | None) -> str:
    """The visibility an addressing means, as Mastodon reads it: Public in `to` -> public; Public in `cc` ->
    unlisted; the author's followers collection addressed -> private; anything else -> direct.

    Unlike Mastodon we also read followers in `cc` (without Public) as private: those followers did receive it."""
    to_list, cc_list = list(to), list(cc)
    if any(is_public(a) for a in to_list):
        return "public"
    if any(is_public(a) for a in cc_list):
        return "unlisted"
    if followers_uri is not None and (followers_uri in to_list or followers_uri in cc_list):
        return "private"
    return "direct"


def may_see(
    visibility: str, viewer: str | None, author_uri: str, addressed: Iterable[str], *, follows_author: bool
) -> bool:
    """Whether `viewer` (an actor uri, None when anonymous) may see a post: public and unlisted posts anyone;
    private ones their author, the actors they address or mention, and the author's accepted followers
    (`follows_author`); direct ones only their author and the actors they address or mention."""
    if visibility in ("public", "unlisted"):
        return True
    if viewer is None:
        return False
    if viewer == author_uri or viewer in set(addressed):
        return True
    return visibility == "private" and follows_author
