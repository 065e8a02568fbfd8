"""Status queries of the client API: timelines and account pages (id-paged), threads, viewer flags,
idempotency keys, edit history and the app a status was posted with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from fediverse_learn.store.db import Database, Row, Transaction
from fediverse_learn.store.objects import NOTE_COLUMNS, StoredNote, note_from_row
from fediverse_learn.store.reactions import BOOST_COLUMNS, Boost, boost_from_row

__all__ = [
    "AccountCounts",
    "Edit",
    "Page",
    "StatusFacts",
    "TimelineEntry",
    "Viewer",
    "ViewerFlags",
    "account_counts",
    "account_page",
    "descendants",
    "edits",
    "finish_idempotency",
    "follows_accepted",
    "home_page",
    "ids_by_uri",
    "public_page",
    "release_idempotency",
    "reserve_idempotency",
    "save_edit",
    "set_status_app",
    "status_facts",
    "tag_page",
]

IDEMPOTENCY_TTL = 3600.0


@dataclass(frozen=True)
class Page:
    """Mastodon's id paging: results older than max_id, newer than since_id (newest first) or just newer than
    min_id (the page right after it, still returned newest first)."""

    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = 20

    def clause(self, column: str = "id") -> tuple[str, list[Any], str]:
        """(SQL conditions starting with AND, parameters, ORDER BY direction)."""
        sql, params = "", []
        for value, op in ((self.max_id, "<"), (self.since_id, ">"), (self.min_id, ">")):
            if value is not None:
                sql += f" AND {column} {op} ?"
                params.append(value)
        return sql, params, "ASC" if self.min_id is not None else "DESC"

    def bounds(self, column: str) -> tuple[list[str], dict[str, int]]:
        """(SQL conditions on `column`, their named parameters)."""
        conditions, values = [], {}
        for name, value, op in (("max_id", self.max_id, "<"), ("since_id", self.since_id, ">"),
                                ("min_id", self.min_id, ">")):
            if value is not None:
                conditions.append(f"{column} {op} :{name}")
                values[name] = value
        return conditions, values


@dataclass(frozen=True)
class Viewer:
    """A signed-in member reading a timeline: actors.id, actor uri, and the time (mutes expire)."""

    id: int
    uri: str
    now: float


TimelineEntry = StoredNote | Boost
"""A timeline holds statuses and boosts (reblogs), ordered together by their ids."""

# How many candidates a newest-first scan by id reads before it gives up on the followed accounts being
# frequent among all statuses, and asks their index instead (see _Source).
WINDOW = 2_000

_NOTE = ", ".join(f"o.{c.strip()}" for c in NOTE_COLUMNS.split(","))
_FOLLOWED = ("SELECT followee_uri FROM follows WHERE follower_uri = :me AND state = 'accepted'"
             " UNION ALL SELECT :me")
# followed accounts whose boosts the member turned off (Mastodon's follow `reblogs=false`); usually none
_NO_BOOSTS = "SELECT followee_uri FROM follows WHERE follower_uri = :me AND show_reblogs = 0"
_HIDDEN = ("SELECT target_uri FROM mutes WHERE actor_id = :viewer_id AND (expires_at IS NULL OR expires_at > :now)"
           " UNION ALL SELECT target_uri FROM blocks WHERE actor_uri = :me"
           " UNION ALL SELECT actor_uri FROM blocks WHERE target_uri = :me")
_MAY_SEE = ("(o.visibility IN ('public', 'unlisted') OR (o.visibility = 'private' AND EXISTS (SELECT 1 FROM follows"
            " WHERE follower_uri = :viewer AND followee_uri = o.author_uri AND state = 'accepted'))"
            " OR o.author_uri = :viewer OR instr(o.addressing, :quoted_viewer) > 0)")


@dataclass(frozen=True)
class _Source:
    """One kind of timeline entry, read newest first (oldest first after min_id) by `key`.

    `sql` selects the entries, with {hint}, {range} and {order} to fill. With an `edge` query (the key
    WINDOW candidates away from where the page starts), it is read in two steps: within the window with
    `dense` (a scan by key that filters: fast when matches are frequent), then beyond it with `sparse` (an
    index of the few matches, sorted: fast when they are rare, which is why the window came up short).
    Without one, `dense` reads everything."""

    key: str
    sql: str
    dense: str
    edge: str | None = None
    sparse: str = ""

    async def read(self, db: Database, page: Page, params: dict[str, Any]) -> list[Row]:
        conditions, values = page.bounds(self.key)
        order = "ASC" if page.min_id is not None else "DESC"
        args = {**params, **values, "limit": page.limit}
        if self.edge is None:
            return await self._rows(db, self.dense, conditions, order, args)
        edge = await db.fetchval(self.edge.format(range=" AND ".join(conditions) or "1", order=order),
                                 {**values, "window": WINDOW})
        if edge is None:   # fewer candidates than the window: scan them all
            return await self._rows(db, self.dense, conditions, order, args)
        inside, beyond = (">=", "<") if order == "DESC" else ("<=", ">")
        rows = await self._rows(db, self.dense, [*conditions, f"{self.key} {inside} :edge"], order,
                                {**args, "edge": edge})
        if len(rows) < page.limit:
            rows += await self._rows(db, self.sparse, [*conditions, f"{self.key} {beyond} :edge"], order,
                                     {**args, "edge": edge, "limit": page.limit - len(rows)})
        return rows

    async def _rows(self, db: Database, hint: str, conditions: list[str], order: str,
                    args: dict[str, Any]) -> list[Row]:
        sql = self.sql.format(hint=hint, range=" AND ".join(conditions) or "1", order=order)
        return await db.fetchall(sql, args)


# Mastodon's home rule for replies: one by a followed account shows when it answers the member, itself or an
# account the member follows (a reply to a stranger is half a conversation); a reply to a post we don't have
# shows, since whom it answers is unknown.
_REPLY_SHOWN = ("NOT EXISTS (SELECT 1 FROM objects AS p WHERE p.uri = o.in_reply_to_uri"
                f" AND p.author_uri != o.author_uri AND p.author_uri NOT IN ({_FOLLOWED}))")


def _home_notes() -> _Source:
    return _Source(
        key="o.id",
        sql=(f"SELECT {_NOTE} FROM objects AS o {{hint}} WHERE {{range}} AND o.deleted_at IS NULL"
             f" AND o.author_uri IN ({_FOLLOWED}) AND o.author_uri NOT IN ({_HIDDEN})"
             " AND (o.visibility != 'direct' OR o.author_uri = :me OR instr(o.addressing, :quoted_viewer) > 0)"
             f" AND (o.in_reply_to_uri IS NULL OR o.author_uri = :me OR {_REPLY_SHOWN})"
             " ORDER BY o.id {order} LIMIT :limit"),
        dense="NOT INDEXED", sparse="INDEXED BY objects_author",
        edge="SELECT id AS o_id FROM objects AS o WHERE {range} ORDER BY o.id {order} LIMIT 1 OFFSET :window",
    )


def _boosts(where: str, *, dense: str, edge: bool = True, sparse: str = "") -> _Source:
    """Boosts of notes still stored, with their own ids (reactions.status_id)."""
    return _Source(
        key="r.status_id",
        sql=(f"SELECT {BOOST_COLUMNS} FROM reactions AS r {{hint}} CROSS JOIN objects AS o ON o.uri = r.object_uri"
             f" WHERE r.kind = 'announce' AND {{range}} AND o.deleted_at IS NULL AND {where}"
             " ORDER BY r.status_id {order} LIMIT :limit"),
        dense=dense, sparse=sparse,
        edge=("SELECT r.status_id FROM reactions AS r INDEXED BY reactions_boosts WHERE r.kind = 'announce'"
              " AND {range} ORDER BY r.status_id {order} LIMIT 1 OFFSET :window") if edge else None,
    )


# A boost shows in home once, and only for a status that is not there already: Mastodon leaves a boost out
# of a home feed when the status, or an earlier boost of it, is among the feed's newest 40 entries; here a
# boost of a status by the member or a followed account, or a later boost of the same status, is left out.
_HOME_BOOSTS = (
    f"r.actor_uri IN ({_FOLLOWED}) AND r.actor_uri NOT IN ({_HIDDEN}) AND r.actor_uri NOT IN ({_NO_BOOSTS})"
    f" AND o.author_uri NOT IN ({_HIDDEN})"
    f" AND o.author_uri NOT IN ({_FOLLOWED}) AND {_MAY_SEE}"
    " AND NOT EXISTS (SELECT 1 FROM reactions AS e INDEXED BY reactions_object WHERE e.object_uri = o.uri"
    f" AND e.kind = 'announce' AND e.status_id < r.status_id AND +e.actor_uri IN ({_FOLLOWED})"
    f" AND +e.actor_uri NOT IN ({_HIDDEN}) AND +e.actor_uri NOT IN ({_NO_BOOSTS}))"
)
_HOME = (
    _home_notes(),
    _boosts(_HOME_BOOSTS, dense="INDEXED BY reactions_boosts", sparse="INDEXED BY reactions_booster"),
)


async def _merged(db: Database, sources: tuple[_Source, ...], page: Page,
                  params: dict[str, Any]) -> list[TimelineEntry]:
    """The page of entries of several sources, newest first."""
    entries: list[TimelineEntry] = []
    for source in sources:
        rows = await source.read(db, page, params)
        entries += [boost_from_row(r) if source.key == "r.status_id" else note_from_row(r) for r in rows]
    entries.sort(key=lambda e: e.id, reverse=page.min_id is None)
    entries = entries[:page.limit]
    return entries[::-1] if page.min_id is not None else entries


def _viewer_params(viewer: Viewer | None) -> dict[str, Any]:
    if viewer is None:   # nobody signed in: nothing hidden, nothing addressed to them
        return {"me": "", "viewer": "", "viewer_id": 0, "now": 0.0, "quoted_viewer": "\x00"}
    return {"me": viewer.uri, "viewer": viewer.uri, "viewer_id": viewer.id, "now": viewer.now,
            "quoted_viewer": _quoted(viewer.uri)}


def _quoted(uri: str) -> str:
    return orjson.dumps(uri).decode()


async def home_page(db: Database, viewer: Viewer, page: Page) -> list[TimelineEntry]:
    """Own statuses and those of accounts followed (followers-only ones included; direct only if addressed),
    and their boosts; muted and blocked accounts left out, with their boosts and boosts of their statuses."""
    return await _merged(db, _HOME, page, _viewer_params(viewer))


async def public_page(db: Database, page: Page, *, local: bool | None,
                      viewer: Viewer | None = None) -> list[StoredNote]:
    """Public statuses (all, local or remote), no boosts (as Mastodon); the viewer's muted and blocked
    accounts left out."""
    where = f"o.visibility = 'public' AND o.deleted_at IS NULL AND o.author_uri NOT IN ({_HIDDEN})"
    hint = "NOT INDEXED"
    if local is not None:
        where += " AND o.local_actor_id IS NOT NULL" if local else " AND o.local_actor_id IS NULL"
        hint = "INDEXED BY objects_local" if local else hint
    source = _Source(key="o.id", dense=hint, sql=(f"SELECT {_NOTE} FROM objects AS o {{hint}} WHERE {{range}}"
                                                  f" AND {where} ORDER BY o.id {{order}} LIMIT :limit"))
    return [e for e in await _merged(db, (source,), page, _viewer_params(viewer)) if isinstance(e, StoredNote)]


async def tag_page(db: Database, tag: str, page: Page, *, local: bool | None,
                   viewer: Viewer | None = None) -> list[StoredNote]:
    """Public statuses with a hashtag (case-insensitive, by object_tags), newest first, no boosts; the
    viewer's muted and blocked accounts left out."""
    where = f"o.visibility = 'public' AND o.deleted_at IS NULL AND o.author_uri NOT IN ({_HIDDEN})"
    if local is not None:
        where += " AND o.local_actor_id IS NOT NULL" if local else " AND o.local_actor_id IS NULL"
    source = _Source(key="t.object_id", dense="", sql=(
        f"SELECT {_NOTE} FROM object_tags AS t CROSS JOIN objects AS o ON o.id = t.object_id"
        f" WHERE t.name = lower(:tag) AND {{range}} AND {where} ORDER BY t.object_id {{order}} LIMIT :limit"))
    params = {**_viewer_params(viewer), "tag": tag.lstrip("#")}
    return [e for e in await _merged(db, (source,), page, params) if isinstance(e, StoredNote)]


async def account_page(db: Database, author_uri: str, viewer_uri: str | None, page: Page, *,
                       exclude_replies: bool = False, tagged: str | None = None,
                       pinned_by: int | None = None, exclude_reblogs: bool = False) -> list[TimelineEntry]:
    """An author's statuses that the viewer may see (followers-only for their followers, direct if addressed),
    and their boosts unless `exclude_reblogs` (or only pinned or tagged statuses are asked for)."""
    where = "o.author_uri = :author AND o.deleted_at IS NULL"
    params: dict[str, Any] = {"author": author_uri, "viewer": viewer_uri or "",
                              "quoted_viewer": _quoted(viewer_uri) if viewer_uri else "\x00"}
    if viewer_uri != author_uri:
        where += f" AND {_MAY_SEE}"
    if exclude_replies:
        where += " AND o.in_reply_to_uri IS NULL"
    if tagged:
        where += " AND o.id IN (SELECT object_id FROM object_tags WHERE name = lower(:tag))"
        params["tag"] = tagged.lstrip("#")
    if pinned_by is not None:
        where += " AND o.uri IN (SELECT object_uri FROM pins WHERE actor_id = :pinned_by)"
        params["pinned_by"] = pinned_by
    sources = [_Source(key="o.id", dense="INDEXED BY objects_author", sql=(
        f"SELECT {_NOTE} FROM objects AS o {{hint}} WHERE {{range}} AND {where}"
        " ORDER BY o.id {order} LIMIT :limit"))]
    if not (exclude_reblogs or tagged or pinned_by is not None):
        sources.append(_boosts(f"r.actor_uri = :author AND {_MAY_SEE}", dense="INDEXED BY reactions_booster",
                               edge=False))
    return await _merged(db, tuple(sources), page, params)


async def descendants(db: Database, uri: str, limit: int = 200) -> list[StoredNote]:
    """Replies to a status, and replies to them (40 levels at most), oldest first."""
    rows = await db.fetchall(
        "WITH RECURSIVE thread(uri, depth) AS (SELECT ?, 0 UNION SELECT o.uri, t.depth + 1 FROM objects o"
        " JOIN thread t ON o.in_reply_to_uri = t.uri WHERE t.depth < 40)"
        f" SELECT {NOTE_COLUMNS} FROM objects WHERE uri IN (SELECT uri FROM thread WHERE depth > 0)"
        " AND deleted_at IS NULL ORDER BY id LIMIT ?", (uri, limit))
    return [note_from_row(r) for r in rows]


async def follows_accepted(db: Database, follower_uri: str, followee_uri: str) -> bool:
    return await db.fetchone("SELECT 1 FROM follows WHERE follower_uri = ? AND followee_uri = ? AND state = 'accepted'",
                             (follower_uri, followee_uri)) is not None


async def ids_by_uri(db: Database, uri: str) -> tuple[int, str] | None:
    """(id, author uri) of a stored status."""
    row = await db.fetchone("SELECT id, author_uri FROM objects WHERE uri = ? AND deleted_at IS NULL", (uri,))
    return (int(row["id"]), str(row["author_uri"])) if row is not None else None


@dataclass(frozen=True)
class ViewerFlags:
    favourited: bool = False
    reblogged: bool = False
    bookmarked: bool = False
    pinned: bool = False


@dataclass(frozen=True)
class StatusFacts:
    """What a Status shows besides its note: counts, the viewer's flags, the app it was posted with."""

    replies: int
    reblogs: int
    favourites: int
    flags: ViewerFlags
    app_id: int | None


async def status_facts(db: Database, uris: list[str], viewer_id: int | None,
                       viewer_uri: str | None) -> dict[str, StatusFacts]:
    """StatusFacts of several statuses in one query (a page of a timeline)."""
    rows = await db.fetchall(
        "SELECT j.value AS uri,"
        " (SELECT count(*) FROM objects WHERE in_reply_to_uri = j.value AND deleted_at IS NULL"
        "  AND visibility IN ('public', 'unlisted')) AS replies,"
        " (SELECT count(*) FROM reactions WHERE object_uri = j.value AND kind = 'announce') AS reblogs,"
        " (SELECT count(*) FROM reactions WHERE object_uri = j.value AND kind = 'like') AS favourites,"
        " EXISTS (SELECT 1 FROM reactions WHERE kind = 'like' AND actor_uri = :me AND object_uri = j.value) AS f,"
        " EXISTS (SELECT 1 FROM reactions WHERE kind = 'announce' AND actor_uri = :me AND object_uri = j.value) AS r,"
        " EXISTS (SELECT 1 FROM bookmarks WHERE actor_id = :id AND object_uri = j.value) AS b,"
        " EXISTS (SELECT 1 FROM pins WHERE actor_id = :id AND object_uri = j.value) AS p,"
        " (SELECT app_id FROM status_meta WHERE object_uri = j.value) AS app_id"
        " FROM json_each(:uris) AS j",
        {"uris": orjson.dumps(uris).decode(), "me": viewer_uri or "", "id": viewer_id or 0})
    return {r["uri"]: StatusFacts(r["replies"], r["reblogs"], r["favourites"],
                                  ViewerFlags(bool(r["f"]), bool(r["r"]), bool(r["b"]), bool(r["p"])), r["app_id"])
            for r in rows}


@dataclass(frozen=True)
class AccountCounts:
    """The counts of an Account entity, and the remote_actors row id of a remote actor."""

    followers: int
    following: int
    statuses: int
    last_status_at: float | None
    remote_id: int | None


async def account_counts(db: Database, uris: list[str]) -> dict[str, AccountCounts]:
    """AccountCounts of several actors in one query (the authors of a page of a timeline); statuses: those we
    hold by each, not deleted, and when the newest was published."""
    rows = await db.fetchall(
        "SELECT j.value AS uri,"
        " (SELECT count(*) FROM follows WHERE followee_uri = j.value AND state = 'accepted') AS followers,"
        " (SELECT count(*) FROM follows WHERE follower_uri = j.value AND state = 'accepted') AS following,"
        " (SELECT count(*) FROM objects WHERE author_uri = j.value AND deleted_at IS NULL) AS statuses,"
        " (SELECT max(published) FROM objects WHERE author_uri = j.value AND deleted_at IS NULL) AS last,"
        " (SELECT id FROM remote_actors WHERE uri = j.value) AS remote_id"
        " FROM json_each(:uris) AS j", {"uris": orjson.dumps(uris).decode()})
    return {r["uri"]: AccountCounts(r["followers"], r["following"], r["statuses"], r["last"], r["remote_id"])
            for r in rows}


# --- idempotency keys -------------------------------------------------------------------------------------

async def reserve_idempotency(db: Database, actor_id: int, key: str, now: float) -> tuple[bool, int | None]:
    """(True, None) if this request may publish; else (False, the status id of the first request, or None
    while it is still publishing). Keys older than an hour are forgotten."""
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM idempotency_keys WHERE created_at < ?", (now - IDEMPOTENCY_TTL,))
        inserted = await tx.insert(
            "INSERT INTO idempotency_keys (actor_id, key, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (actor_id, key, now))
        if inserted is not None:
            return True, None
        row = await tx.fetchone("SELECT object_id FROM idempotency_keys WHERE actor_id = ? AND key = ?",
                                (actor_id, key))
    return False, (row["object_id"] if row is not None else None)


async def finish_idempotency(db: Database, actor_id: int, key: str, object_id: int) -> None:
    await db.execute("UPDATE idempotency_keys SET object_id = ? WHERE actor_id = ? AND key = ?",
                     (object_id, actor_id, key))


async def release_idempotency(db: Database, actor_id: int, key: str) -> None:
    await db.execute("DELETE FROM idempotency_keys WHERE actor_id = ? AND key = ? AND object_id IS NULL",
                     (actor_id, key))


# --- edits and apps ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Edit:
    content_html: str
    summary: str | None
    sensitive: bool
    created_at: float


async def save_edit(db: Database | Transaction, note: StoredNote) -> None:
    """Keep the version of a status that an edit is about to replace."""
    await db.execute(
        "INSERT INTO status_edits (object_uri, content_html, summary, sensitive, created_at) VALUES (?, ?, ?, ?, ?)",
        (note.uri, note.content_html, note.summary, int(note.sensitive), note.updated or note.published))


async def edits(db: Database, uri: str) -> list[Edit]:
    """Earlier versions of a status, oldest first."""
    rows = await db.fetchall("SELECT content_html, summary, sensitive, created_at FROM status_edits"
                             " WHERE object_uri = ? ORDER BY id", (uri,))
    return [Edit(r["content_html"], r["summary"], bool(r["sensitive"]), r["created_at"]) for r in rows]


async def set_status_app(db: Database, uri: str, app_id: int | None) -> None:
    await db.execute("INSERT INTO status_meta (object_uri, app_id) VALUES (?, ?)"
                     " ON CONFLICT (object_uri) DO UPDATE SET app_id = excluded.app_id", (uri, app_id))
