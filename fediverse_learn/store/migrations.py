"""Versioned schema migrations; `PRAGMA user_version` records how many have been applied. Append, never edit."""

from __future__ import annotations

from fediverse_learn.store import schema_v2, schema_v3, schema_v4, schema_v5, schema_v6

__all__ = ["MIGRATIONS"]

# Times are REAL seconds since the epoch (UTC). JSON columns hold orjson text.
_V1 = """
CREATE TABLE actors (                       -- local actors: members (person), communities (group), instance
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('person', 'group', 'application')),
    display_name TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL DEFAULT 'member',
    private_key_pem TEXT NOT NULL,
    public_key_pem TEXT NOT NULL,
    manually_approves_followers INTEGER NOT NULL DEFAULT 0,
    discoverable INTEGER NOT NULL DEFAULT 1,
    indexable INTEGER NOT NULL DEFAULT 1,
    password_hash TEXT,
    created_at REAL NOT NULL,
    removed_at REAL
);

CREATE TABLE tokens (
    id INTEGER PRIMARY KEY,
    actor_id INTEGER NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at REAL NOT NULL,
    revoked_at REAL
);

CREATE TABLE remote_actors (
    id INTEGER PRIMARY KEY,
    uri TEXT NOT NULL UNIQUE,
    domain TEXT NOT NULL,
    username TEXT NOT NULL,
    type TEXT NOT NULL,
    inbox TEXT NOT NULL,
    shared_inbox TEXT,
    followers TEXT,
    data TEXT NOT NULL,                     -- the converted RemoteActor, as JSON
    fetched_at REAL NOT NULL,
    gone_at REAL
);
CREATE INDEX remote_actors_handle ON remote_actors (username, domain);

CREATE TABLE remote_keys (
    key_id TEXT PRIMARY KEY,
    owner_uri TEXT NOT NULL,
    public_key_pem TEXT NOT NULL,
    fetched_at REAL NOT NULL
);
CREATE INDEX remote_keys_owner ON remote_keys (owner_uri);

CREATE TABLE fetch_failures (               -- negative cache: failed key/actor fetches are not retried at once
    url TEXT PRIMARY KEY,
    failed_at REAL NOT NULL,
    reason TEXT NOT NULL
);

CREATE TABLE objects (                      -- notes, local and remote
    id INTEGER PRIMARY KEY,                 -- time-sortable (see ids.py); API ids
    uri TEXT NOT NULL UNIQUE,
    local_actor_id INTEGER REFERENCES actors(id),
    author_uri TEXT NOT NULL,
    type TEXT NOT NULL,
    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'unlisted', 'private', 'direct')),
    content_html TEXT NOT NULL DEFAULT '',
    source TEXT,
    source_type TEXT,
    summary TEXT,
    name TEXT,
    sensitive INTEGER NOT NULL DEFAULT 0,
    language TEXT,
    url TEXT,
    in_reply_to_uri TEXT,
    context_uri TEXT,
    audience_uri TEXT,
    addressing TEXT NOT NULL DEFAULT '{}',   -- {"to": [...], "cc": [...]}
    tags TEXT NOT NULL DEFAULT '[]',         -- AS2 tag array (Hashtag, Mention)
    published REAL NOT NULL,
    updated REAL,
    deleted_at REAL
);
CREATE INDEX objects_author ON objects (author_uri, id);
CREATE INDEX objects_reply ON objects (in_reply_to_uri, published);
CREATE INDEX objects_context ON objects (context_uri, published);

CREATE TABLE activities (                   -- activities we authored (outbox, Location of C2S posts)
    id INTEGER PRIMARY KEY,
    uri TEXT NOT NULL UNIQUE,
    actor_id INTEGER NOT NULL REFERENCES actors(id),
    type TEXT NOT NULL,
    object_uri TEXT,
    public INTEGER NOT NULL DEFAULT 0,
    document TEXT NOT NULL,
    published REAL NOT NULL
);
CREATE INDEX activities_actor ON activities (actor_id, id);

CREATE TABLE follows (                      -- both directions; a row per (follower, followee)
    id INTEGER PRIMARY KEY,
    follower_uri TEXT NOT NULL,
    followee_uri TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'accepted')),
    activity_uri TEXT,
    created_at REAL NOT NULL,
    UNIQUE (follower_uri, followee_uri)
);
CREATE INDEX follows_followee ON follows (followee_uri, state);

CREATE TABLE reactions (                    -- Like and Announce, local and remote
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('like', 'announce')),
    actor_uri TEXT NOT NULL,
    object_uri TEXT NOT NULL,
    activity_uri TEXT NOT NULL UNIQUE,
    published REAL NOT NULL,
    UNIQUE (kind, actor_uri, object_uri)
);
CREATE INDEX reactions_object ON reactions (object_uri, kind);

CREATE TABLE blocks (
    id INTEGER PRIMARY KEY,
    actor_uri TEXT NOT NULL,
    target_uri TEXT NOT NULL,
    activity_uri TEXT,
    created_at REAL NOT NULL,
    UNIQUE (actor_uri, target_uri)
);

CREATE TABLE tombstones (                   -- deleted objects and actors never come back
    uri TEXT PRIMARY KEY,
    deleted_at REAL NOT NULL
);

CREATE TABLE early_undos (                  -- Delete/Undo that arrived before their target
    target_uri TEXT NOT NULL,
    actor_uri TEXT NOT NULL,
    received_at REAL NOT NULL,
    PRIMARY KEY (target_uri, actor_uri)
);

CREATE TABLE inbox_queue (                  -- verified incoming activities, durable before 202
    id INTEGER PRIMARY KEY,
    activity_id TEXT NOT NULL UNIQUE,
    actor_uri TEXT NOT NULL,
    recipient TEXT,                         -- the local actor name for personal inboxes, NULL for /inbox
    body BLOB NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    lease_until REAL,
    last_error TEXT,
    received_at REAL NOT NULL
);
CREATE INDEX inbox_queue_due ON inbox_queue (state, next_attempt_at);

CREATE TABLE deliveries (                   -- one row per (activity, inbox): the durable outgoing queue
    id INTEGER PRIMARY KEY,
    activity_uri TEXT NOT NULL,
    actor_id INTEGER NOT NULL REFERENCES actors(id),
    inbox_url TEXT NOT NULL,
    host TEXT NOT NULL,
    body BLOB NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    lease_until REAL,
    last_error TEXT,
    created_at REAL NOT NULL,
    UNIQUE (activity_uri, inbox_url)
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);

CREATE TABLE hosts (                        -- delivery health per remote host
    host TEXT PRIMARY KEY,
    failure_days TEXT NOT NULL DEFAULT '[]',
    unavailable INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL
);

CREATE TABLE domain_policies (              -- blocks (severity) and allows
    domain TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('block', 'allow')),
    severity TEXT NOT NULL DEFAULT 'suspend',
    public_comment TEXT NOT NULL DEFAULT '',
    private_comment TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
);

CREATE TABLE reports (                      -- moderation queue: incoming Flags and members' reports
    id INTEGER PRIMARY KEY,
    activity_uri TEXT UNIQUE,
    reporter_uri TEXT NOT NULL,
    target_uri TEXT NOT NULL,
    object_uris TEXT NOT NULL DEFAULT '[]',
    comment TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    resolved_at REAL
);

CREATE TABLE moves (
    id INTEGER PRIMARY KEY,
    actor_uri TEXT NOT NULL,
    target_uri TEXT NOT NULL,
    accepted INTEGER NOT NULL,
    received_at REAL NOT NULL
);
"""

MIGRATIONS: tuple[str, ...] = (
    _V1, schema_v2.SQL, schema_v3.SQL, schema_v4.SQL, schema_v5.SQL, schema_v6.SQL,
)
