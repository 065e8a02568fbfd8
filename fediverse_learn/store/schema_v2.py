"""Schema migration 2: the Mastodon client API and OAuth 2 (issue 5)."""

from __future__ import annotations

__all__ = ["SQL"]

# Secrets (client secrets, codes, access and refresh tokens) are stored as SHA-256 hex digests only.
# Account ids of the API: a local actor's actors.id; a remote actor's remote_actors.id + 10**12 (api/ids.py).
SQL = """
CREATE TABLE oauth_apps (                   -- clients registered by POST /api/v1/apps
    id INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL UNIQUE,
    client_secret_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    website TEXT,
    redirect_uris TEXT NOT NULL,            -- newline separated
    scopes TEXT NOT NULL,                   -- space separated
    created_at REAL NOT NULL
);

CREATE TABLE oauth_grants (                 -- sign-in tickets (consent pending) and authorization codes
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('consent', 'code')),
    secret_hash TEXT NOT NULL UNIQUE,
    app_id INTEGER NOT NULL REFERENCES oauth_apps(id) ON DELETE CASCADE,
    actor_id INTEGER NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scopes TEXT NOT NULL,
    code_challenge TEXT,
    state TEXT,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    used_at REAL
);
CREATE INDEX oauth_grants_expiry ON oauth_grants (expires_at);

-- tokens gains its OAuth columns; actor_id becomes nullable (client_credentials tokens have no member).
CREATE TABLE tokens_v2 (
    id INTEGER PRIMARY KEY,
    actor_id INTEGER REFERENCES actors(id) ON DELETE CASCADE,
    app_id INTEGER REFERENCES oauth_apps(id) ON DELETE CASCADE,     -- NULL: made by `fediverse-learn token`
    token_hash TEXT NOT NULL UNIQUE,
    refresh_hash TEXT UNIQUE,
    scopes TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL,
    last_used_at REAL,
    revoked_at REAL
);
INSERT INTO tokens_v2 (id, actor_id, token_hash, scopes, created_at, revoked_at)
    SELECT id, actor_id, token_hash, scopes, created_at, revoked_at FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_v2 RENAME TO tokens;
CREATE INDEX tokens_actor ON tokens (actor_id);
CREATE INDEX tokens_app ON tokens (app_id);

ALTER TABLE actors ADD COLUMN summary_source TEXT;   -- the plain text a member typed as their bio

CREATE TABLE idempotency_keys (             -- POST /api/v1/statuses with Idempotency-Key (kept an hour)
    actor_id INTEGER NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    object_id INTEGER,                      -- NULL while the first request is still publishing
    created_at REAL NOT NULL,
    PRIMARY KEY (actor_id, key)
);

CREATE TABLE status_meta (                  -- API-only facts about our statuses
    object_uri TEXT PRIMARY KEY,
    app_id INTEGER REFERENCES oauth_apps(id) ON DELETE SET NULL
);

CREATE TABLE status_edits (                 -- earlier versions of edited statuses (for /history)
    id INTEGER PRIMARY KEY,
    object_uri TEXT NOT NULL,
    content_html TEXT NOT NULL,
    summary TEXT,
    sensitive INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE INDEX status_edits_object ON status_edits (object_uri, id);

CREATE TABLE bookmarks (
    id INTEGER PRIMARY KEY,
    actor_id INTEGER NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
    object_uri TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (actor_id, object_uri)
);

CREATE TABLE pins (
    actor_id INTEGER NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
    object_uri TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (actor_id, object_uri)
);

CREATE TABLE mutes (
    id INTEGER PRIMARY KEY,
    actor_id INTEGER NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
    target_uri TEXT NOT NULL,
    notifications INTEGER NOT NULL DEFAULT 1,
    expires_at REAL,
    created_at REAL NOT NULL,
    UNIQUE (actor_id, target_uri)
);

CREATE TABLE markers (
    actor_id INTEGER NOT NULL REFERENCES actors(id) ON DELETE CASCADE,
    timeline TEXT NOT NULL CHECK (timeline IN ('home', 'notifications')),
    last_read_id TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL,
    PRIMARY KEY (actor_id, timeline)
);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,                 -- time-sortable (ids.py): API ids
    actor_id INTEGER NOT NULL REFERENCES actors(id) ON DELETE CASCADE,   -- who is notified
    type TEXT NOT NULL,                     -- mention, follow, follow_request, favourite, reblog, status, update
    from_uri TEXT NOT NULL,                 -- who caused it
    object_uri TEXT,                        -- the status concerned, if any
    activity_uri TEXT,
    created_at REAL NOT NULL,
    dismissed_at REAL,
    UNIQUE (actor_id, type, from_uri, object_uri)
);
CREATE INDEX notifications_actor ON notifications (actor_id, id);

CREATE TABLE rate_limits (                  -- fixed windows per token or address and bucket
    bucket TEXT NOT NULL,
    subject TEXT NOT NULL,
    window_start REAL NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY (bucket, subject)
);
"""
