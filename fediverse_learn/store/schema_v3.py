"""Schema migration 3: learning communities: Group settings, moderators, bans, threads (issue 4)."""

from __future__ import annotations

__all__ = ["SQL"]

# A community is an `actors` row of kind 'group'; its membership setting is that row's
# manually_approves_followers (open: 0, approval: 1) and its summary that row's summary.
SQL = """
CREATE TABLE community_settings (           -- a missing row means the defaults
    actor_id INTEGER PRIMARY KEY REFERENCES actors(id),
    posting_restricted_to_mods INTEGER NOT NULL DEFAULT 0,
    rules TEXT NOT NULL DEFAULT '',
    updated_at REAL NOT NULL
);

CREATE TABLE community_moderators (         -- local members or remote actors, by actor uri
    community_id INTEGER NOT NULL REFERENCES actors(id),
    actor_uri TEXT NOT NULL,
    added_at REAL NOT NULL,
    PRIMARY KEY (community_id, actor_uri)
);

CREATE TABLE community_bans (
    community_id INTEGER NOT NULL REFERENCES actors(id),
    actor_uri TEXT NOT NULL,
    activity_uri TEXT,                      -- the Block that banned, when it came as one
    reason TEXT NOT NULL DEFAULT '',
    expires_at REAL,
    created_at REAL NOT NULL,
    PRIMARY KEY (community_id, actor_uri)
);

CREATE TABLE community_posts (              -- posts a community accepted and announced
    community_id INTEGER NOT NULL REFERENCES actors(id),
    object_uri TEXT NOT NULL,
    root_uri TEXT NOT NULL,                 -- the top-level post of its thread
    author_uri TEXT NOT NULL,
    accepted_at REAL NOT NULL,
    PRIMARY KEY (community_id, object_uri)
);
CREATE INDEX community_posts_object ON community_posts (object_uri);
CREATE INDEX community_posts_root ON community_posts (community_id, root_uri);

CREATE TABLE community_threads (            -- moderation state of a thread, keyed by its top-level post
    community_id INTEGER NOT NULL REFERENCES actors(id),
    root_uri TEXT NOT NULL,
    locked_at REAL,
    featured_at REAL,
    PRIMARY KEY (community_id, root_uri)
);

CREATE TABLE community_announces (          -- each thing a community announced, once per shape
    community_id INTEGER NOT NULL REFERENCES actors(id),
    inner_uri TEXT NOT NULL,                -- the wrapped activity, or the boosted note for 'object'
    shape TEXT NOT NULL CHECK (shape IN ('activity', 'object')),
    announce_uri TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (community_id, inner_uri, shape)
);

CREATE TABLE host_software (                -- NodeInfo software per remote host: picks the Announce shape
    host TEXT PRIMARY KEY,
    software TEXT NOT NULL DEFAULT '',      -- '' when NodeInfo could not be read
    group_aware INTEGER NOT NULL DEFAULT 0,
    checked_at REAL NOT NULL
);
"""
