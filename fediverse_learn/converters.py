"""Converters named by direction, from AS2 documents to frozen internal dataclasses (re-exported here)."""

from __future__ import annotations

from fediverse_learn.converters_actor import (
    ACTOR_TYPES,
    RemoteActor,
    RemoteKey,
    actor_from_ap,
    key_from_ap,
)
from fediverse_learn.converters_note import NOTE_TYPES, RemoteNote, note_from_ap

__all__ = [
    "ACTOR_TYPES",
    "NOTE_TYPES",
    "RemoteActor",
    "RemoteKey",
    "RemoteNote",
    "actor_from_ap",
    "key_from_ap",
    "note_from_ap",
]
