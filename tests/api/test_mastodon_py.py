"""The headline test: Mastodon.py, a real client library, signs in and posts, reads and pages through a
real server (uvicorn on loopback)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests
from mastodon import Mastodon

from tests.api.live import live_instance
from tests.api.support import form_fields

REDIRECT = "https://app.example/callback"
SCOPES = ["read", "write", "follow"]


def _authorize(base: str, url: str, username: str, password: str) -> str:
    """What a member does in the browser: open the page, sign in, approve; the app reads the code."""
    assert url.startswith(f"{base}/oauth/authorize?")
    with requests.Session() as browser:
        page = browser.get(url, timeout=10)
        assert page.status_code == 200
        consent = browser.post(f"{base}/oauth/authorize", data={
            **form_fields(page.text), "username": username, "password": password}, timeout=10)
        assert consent.status_code == 200, consent.text
        done = browser.post(f"{base}/oauth/authorize", data={**form_fields(consent.text), "decision": "approve"},
                            allow_redirects=False, timeout=10)
    assert done.status_code == 302
    location = urlsplit(done.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["st4te"]
    return query["code"][0]


def test_mastodon_py_signs_in_posts_and_reads(tmp_path: Path) -> None:
    with live_instance(tmp_path, {"ada": "correct horse battery"}) as base:
        # Given an app registered by Mastodon.py and a member who signs in through the authorization-code flow
        client_id, client_secret = Mastodon.create_app("Learning app", scopes=SCOPES, redirect_uris=REDIRECT,
                                                       api_base_url=base)
        api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base,
                       ratelimit_method="throw")
        url = api.auth_request_url(redirect_uris=REDIRECT, scopes=SCOPES, state="st4te", allow_http=True)
        code = _authorize(base, url, "ada", "correct horse battery")
        api.log_in(code=code, redirect_uri=REDIRECT, scopes=SCOPES, allow_http=True)
        assert api.verify_minimum_version("4.0.0", cached=False)

        # When she reads her account, posts, replies, edits, favourites and boosts
        me = api.account_verify_credentials()
        assert me.username == "ada" and me.acct == "ada"
        first = api.status_post("Photosynthesis, part one #biology", visibility="public")
        assert first.content.startswith("<p>Photosynthesis") and first.tags[0].name == "biology"
        assert first.application.name == "Learning app"
        reply = api.status_post("and part two", in_reply_to_id=first.id)
        assert reply.in_reply_to_id == first.id
        edited = api.status_update(first.id, "Photosynthesis, part one (edited)")
        assert "edited" in edited.content and edited.edited_at is not None
        assert len(api.status_history(first.id)) == 2
        assert api.status_favourite(first.id).favourited is True
        boost = api.status_reblog(first.id)
        assert boost.reblog.id == first.id and boost.reblog.reblogged is True
        context = api.status_context(first.id)
        assert [s.id for s in context.descendants] == [reply.id]

        # Then the home timeline pages back through everything with fetch_next
        for n in range(3):
            api.status_post(f"note {n}")
        seen = []
        page = api.timeline_home(limit=2)
        while page:
            seen += [s.id for s in page]
            page = api.fetch_next(page)
        assert len(seen) == 5 and seen == sorted(seen, reverse=True)

        # And deleting returns the status with its source text, for delete-and-redraft
        deleted = api.status_delete(reply.id)
        assert deleted.text == "and part two"
        assert reply.id not in [s.id for s in api.timeline_home()]
        assert api.status(first.id).replies_count == 0

        # And she bookmarks, searches, keeps her reading position, and has no notifications of her own doings
        assert api.status_bookmark(first.id).bookmarked is True
        assert [s.id for s in api.bookmarks()] == [first.id]
        found = api.search_v2("note 1", result_type="statuses")
        assert [s.content for s in found.statuses] == ["<p>note 1</p>"]
        assert [a.acct for a in api.search_v2("ad", result_type="accounts").accounts] == ["ada"]
        api.markers_set(["home"], [first.id])
        assert api.markers_get(["home"])["home"].last_read_id == str(first.id)
        assert api.notifications() == []
