"""Account queries of the client API: remote account ids, status counts, profile edits, relationships."""

from __future__ import annotations

from dataclasses import dataclass

from fediverse_learn.store.db import Database

__all__ = [
    "ProfileEdit",
    "RelationshipFacts",
    "follow_page",
    "relationship_facts",
    "remote_actor_id",
    "remote_actor_uri",
    "summary_source",
    "update_profile",
]


async def remote_actor_id(db: Database, uri: str) -> int | None:
    """The row id of a cached remote actor (stable: refreshes update the row in place)."""
    row = await db.fetchone("SELECT id FROM remote_actors WHERE uri = ?", (uri,))
    return int(row["id"]) if row is not None else None


async def remote_actor_uri(db: Database, row_id: int) -> str | None:
    row = await db.fetchone("SELECT uri FROM remote_actors WHERE id = ? AND gone_at IS NULL", (row_id,))
    return str(row["uri"]) if row is not None else None


async def summary_source(db: Database, actor_id: int) -> str | None:
    return await db.fetchval("SELECT summary_source FROM actors WHERE id = ?", (actor_id,))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class ProfileEdit:
    """Profile fields to change; None leaves a field as it is."""

    display_name: str | None = None
    summary_html: str | None = None
    summary_source: str | None = None
    locked: bool | None = None
    discoverable: bool | None = None
    indexable: bool | None = None


async def update_profile(db: Database, actor_id: int, edit: ProfileEdit) -> None:
    changes: list[tuple[str, object]] = [
        (column, value if not isinstance(value, bool) else int(value))
        for column, value in (
            ("display_name", edit.display_name), ("summary", edit.summary_html),
            ("summary_source", edit.summary_source), ("manually_approves_followers", edit.locked),
            ("discoverable", edit.discoverable), ("indexable", edit.indexable),
        ) if value is not None
    ]
    if changes:
        assignments = ", ".join(f"{column} = ?" for column, _ in changes)
        await db.execute(f"UPDATE actors SET {assignments} WHERE id = ?", (*[v for _, v in changes], actor_id))


@dataclass(frozen=True)
class RelationshipFacts:
    following: str | None       # the state of my follow of them: "accepted", "pending" or None
    followed_by: str | None     # the state of their follow of me
    blocking: bool
    blocked_by: bool
    muting: bool
    muting_notifications: bool
    notifying: bool = False     # my follow's options (Mastodon's `notify` and `reblogs`)
    showing_reblogs: bool = True


async def relationship_facts(db: Database, me_id: int, me_uri: str, them_uri: str) -> RelationshipFacts:
    row = await db.fetchone(
        "SELECT"
        " (SELECT state FROM follows WHERE follower_uri = :me AND followee_uri = :them) AS following,"
        " (SELECT notify FROM follows WHERE follower_uri = :me AND followee_uri = :them) AS notifying,"
        " (SELECT show_reblogs FROM follows WHERE follower_uri = :me AND followee_uri = :them) AS reblogs,"
        " (SELECT state FROM follows WHERE follower_uri = :them AND followee_uri = :me) AS followed_by,"
        " EXISTS (SELECT 1 FROM blocks WHERE actor_uri = :me AND target_uri = :them) AS blocking,"
        " EXISTS (SELECT 1 FROM blocks WHERE actor_uri = :them AND target_uri = :me) AS blocked_by,"
        " (SELECT notifications FROM mutes WHERE actor_id = :me_id AND target_uri = :them) AS muting",
        {"me": me_uri, "them": them_uri, "me_id": me_id})
    assert row is not None
    return RelationshipFacts(
        following=row["following"], followed_by=row["followed_by"], blocking=bool(row["blocking"]),
        blocked_by=bool(row["blocked_by"]), muting=row["muting"] is not None, muting_notifications=bool(row["muting"]),
        notifying=bool(row["notifying"]), showing_reblogs=row["reblogs"] is None or bool(row["reblogs"]))


async def follow_page(db: Database, *, followers_of: str | None = None, following_of: str | None = None,
                      max_id: int | None = None, since_id: int | None = None, min_id: int | None = None,
                      limit: int = 40) -> list[tuple[int, str]]:
    """(follows.id, actor uri) of an actor's accepted followers or followees, newest first, id-paged."""
    params: list[object]
    if followers_of is not None:
        where, params, column = "followee_uri = ?", [followers_of], "follower_uri"
    else:
        where, params, column = "follower_uri = ?", [following_of], "followee_uri"
    for value, op in ((max_id, "<"), (since_id, ">"), (min_id, ">")):
        if value is not None:
            where += f" AND id {op} ?"
            params.append(value)
    order = "ASC" if min_id is not None else "DESC"
    rows = await db.fetchall(f"SELECT id, {column} AS uri FROM follows WHERE {where} AND state = 'accepted'"
                             f" ORDER BY id {order} LIMIT ?", (*params, limit))
    found = [(int(r["id"]), str(r["uri"])) for r in rows]
    return found[::-1] if order == "ASC" else found
