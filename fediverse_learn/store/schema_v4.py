"""Schema migration 4: institutional control: moderation, registrations, invites, roles (issue 6)."""

from __future__ import annotations

__all__ = ["SQL"]

SQL = """
-- Domain policies: Mastodon's block fields, and a block and an allow of one domain may coexist (an allow is
-- no exemption from a block; unblocking must not drop the allow).
CREATE TABLE domain_policies_v4 (
    domain TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('block', 'allow')),
    severity TEXT NOT NULL DEFAULT 'suspend' CHECK (severity IN ('suspend', 'silence', 'noop')),
    reject_media INTEGER NOT NULL DEFAULT 0,
    reject_reports INTEGER NOT NULL DEFAULT 0,
    obfuscate INTEGER NOT NULL DEFAULT 0,
    public_comment TEXT NOT NULL DEFAULT '',
    private_comment TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL,
    PRIMARY KEY (domain, kind)
);
INSERT INTO domain_policies_v4 (domain, kind, severity, public_comment, private_comment, created_at)
    SELECT domain, kind,
           CASE WHEN severity IN ('suspend', 'silence', 'noop') THEN severity
                WHEN severity = 'limit' THEN 'silence' ELSE 'suspend' END,
           public_comment, private_comment, created_at
    FROM domain_policies;
DROP TABLE domain_policies;
ALTER TABLE domain_policies_v4 RENAME TO domain_policies;

-- Reports: how they were resolved, and the Flag a member's report was forwarded as.
ALTER TABLE reports ADD COLUMN category TEXT NOT NULL DEFAULT 'other';
ALTER TABLE reports ADD COLUMN action_taken TEXT;
ALTER TABLE reports ADD COLUMN resolved_by TEXT;
ALTER TABLE reports ADD COLUMN forwarded_as TEXT;
CREATE INDEX reports_open ON reports (resolved_at, id);

CREATE TABLE account_sanctions (            -- moderators' silence/suspend of an account, local or remote
    actor_uri TEXT PRIMARY KEY,
    silenced_at REAL,
    suspended_at REAL,
    updated_at REAL NOT NULL
);

CREATE TABLE moderation_log (               -- every moderation and admin action, never edited
    id INTEGER PRIMARY KEY,
    moderator TEXT,                         -- the moderator's actor uri; NULL: the command line
    action TEXT NOT NULL,
    target TEXT NOT NULL,                   -- an actor or note uri, a domain, a member name, an invite code
    report_id INTEGER,
    comment TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '{}',      -- JSON: what the action changed
    created_at REAL NOT NULL
);
CREATE INDEX moderation_log_target ON moderation_log (target, id);

CREATE TABLE invites (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    created_by TEXT,                        -- actor uri; NULL: the command line
    max_uses INTEGER,                       -- NULL: unlimited
    uses INTEGER NOT NULL DEFAULT 0,
    expires_at REAL,                        -- NULL: never
    revoked_at REAL,
    created_at REAL NOT NULL
);

CREATE TABLE sign_ups (                     -- registrations: pending approval, approved, rejected
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    password_hash TEXT,                     -- kept only while pending
    email TEXT,
    reason TEXT NOT NULL DEFAULT '',
    invite_id INTEGER REFERENCES invites(id),
    state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
    actor_id INTEGER REFERENCES actors(id),
    created_at REAL NOT NULL,
    decided_at REAL,
    decided_by TEXT
);
CREATE UNIQUE INDEX sign_ups_pending_name ON sign_ups (name) WHERE state = 'pending';

CREATE TABLE member_settings (              -- protecting young members; no row: the instance defaults
    actor_id INTEGER PRIMARY KEY REFERENCES actors(id) ON DELETE CASCADE,
    email TEXT,
    default_visibility TEXT NOT NULL CHECK (default_visibility IN ('public', 'unlisted', 'private', 'direct')),
    reply_policy TEXT NOT NULL CHECK (reply_policy IN ('anyone', 'followers', 'mentioned')),
    remote_direct_messages TEXT NOT NULL CHECK (remote_direct_messages IN ('anyone', 'followed', 'none')),
    updated_at REAL NOT NULL
);
"""
