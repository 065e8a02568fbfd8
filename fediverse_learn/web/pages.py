"""Plain server-rendered HTML pages (profiles, notes); every value escaped."""

from __future__ import annotations

from html import escape

from fediverse_learn.store.actors import LocalActor
from fediverse_learn.uris import Uris

__all__ = ["page", "profile_page"]


def page(title: str, body: str, *, alternate: str | None = None) -> str:
    link = (
        f'<link rel="alternate" type="application/activity+json" href="{escape(alternate, quote=True)}">'
        if alternate else ""
    )
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{escape(title)}</title>{link}"
        "<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;"
        "line-height:1.5}header p{color:#555}</style></head>\n"
        f"<body>{body}</body></html>\n"
    )


def profile_page(actor: LocalActor, uris: Uris, followers: int, following: int) -> str:
    handle = escape(f"@{uris.handle(actor.name)}")
    title = escape(actor.display_name or actor.name)
    kind = "Community" if actor.kind == "group" else "Member"
    body = (
        f"<header><h1>{title}</h1><p>{kind} · <span class=\"handle\">{handle}</span></p></header>"
        f"<section class=\"summary\">{actor.summary}</section>"
        f"<p>{followers} followers · {following} following</p>"
        f"<p>Follow {handle} from any fediverse server (Mastodon, GoToSocial, Lemmy…) by searching for the"
        " handle.</p>"
    )
    return page(f"{actor.display_name or actor.name} ({handle})", body, alternate=uris.actor(actor.name))
