"""Schema migration 6: fast client API timelines, boosts with their own status ids, a hashtag index, follow
options (issue 5)."""

from __future__ import annotations

__all__ = ["SQL"]

# A note's hashtags, lower case without '#', from the Hashtag entries of objects.tags (kept by the triggers
# below whoever writes objects; malformed JSON counts as no tags rather than failing the write).
_NAME = ("CASE WHEN e.type = 'object' AND json_extract(e.value, '$.type') = 'Hashtag'"
         " THEN json_extract(e.value, '$.name') END")
_TAGS_OF = f"""
    SELECT DISTINCT lower(ltrim({_NAME}, '#')), {{row}}.id
    FROM {{table}}json_each(CASE WHEN json_valid({{row}}.tags) THEN {{row}}.tags ELSE '[]' END) AS e
    WHERE typeof({_NAME}) = 'text' AND ltrim({_NAME}, '#') != ''"""

SQL = f"""
-- A member's options for an account they follow (Mastodon's follow `notify` and `reblogs`): a `status`
-- notification for each new post; its boosts in the home timeline.
ALTER TABLE follows ADD COLUMN notify INTEGER NOT NULL DEFAULT 0;
ALTER TABLE follows ADD COLUMN show_reblogs INTEGER NOT NULL DEFAULT 1;

-- Status counts and last status of an account (account_counts) without reading the rows.
CREATE INDEX objects_author_live ON objects (author_uri, deleted_at, published);
-- The local public timeline: newest local statuses first, without scanning remote ones.
CREATE INDEX objects_local ON objects (id) WHERE local_actor_id IS NOT NULL;
-- Whom a member follows (home timelines read it several times a request) without reading the rows.
CREATE INDEX follows_following ON follows (follower_uri, state, followee_uri, show_reblogs);

-- Boosts become timeline entries: status_id is the reblog's own API id, time-sortable like objects.id
-- (ids.py). For our own Announces it is the id of the `activities` row (its URL); for remote ones a fresh id
-- at receipt. Likes have none.
ALTER TABLE reactions ADD COLUMN status_id INTEGER;
UPDATE reactions SET status_id = (SELECT a.id FROM activities a WHERE a.uri = reactions.activity_uri)
    WHERE kind = 'announce';
UPDATE reactions SET status_id = (CAST(published * 1000 AS INTEGER) << 16) | ((id & 32767) << 1) | 1
    WHERE kind = 'announce' AND status_id IS NULL;
CREATE INDEX reactions_boosts ON reactions (status_id) WHERE kind = 'announce';
CREATE INDEX reactions_booster ON reactions (actor_uri, status_id) WHERE kind = 'announce';

CREATE TABLE object_tags (                  -- hashtag timeline index, derived from objects.tags
    name TEXT NOT NULL,
    object_id INTEGER NOT NULL,
    PRIMARY KEY (name, object_id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO object_tags (name, object_id) {_TAGS_OF.format(row="o", table="objects AS o, ")};
CREATE TRIGGER object_tags_insert AFTER INSERT ON objects BEGIN
    INSERT OR IGNORE INTO object_tags (name, object_id) {_TAGS_OF.format(row="NEW", table="")};
END;
CREATE INDEX object_tags_object ON object_tags (object_id);   -- for the triggers below
CREATE TRIGGER object_tags_update AFTER UPDATE OF tags ON objects WHEN OLD.tags IS NOT NEW.tags BEGIN
    DELETE FROM object_tags WHERE object_id = OLD.id;
    INSERT OR IGNORE INTO object_tags (name, object_id) {_TAGS_OF.format(row="NEW", table="")};
END;
CREATE TRIGGER object_tags_delete AFTER DELETE ON objects BEGIN
    DELETE FROM object_tags WHERE object_id = OLD.id;
END;

-- An Undo takes back the notifications its activity caused (by who caused them), and timelines leave out
-- those who block the member (by whom they block).
CREATE INDEX notifications_from ON notifications (from_uri);
CREATE INDEX blocks_target ON blocks (target_uri);
"""
