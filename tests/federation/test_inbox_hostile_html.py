"""Hostile HTML in a remote note arrives through the real inbox and is stored only in sanitised form."""

from __future__ import annotations

from fediverse_learn.store.objects import get_note
from tests.support.instances import Federation
from tests.support.remote import remote_actor

HOSTILE = (
    '<p>Fractions <script>alert(1)</script><img src=x onerror="alert(2)">'
    '<a href="javascript:alert(3)">click</a> <a href="https://ok.example/x" onclick="steal()">ok</a>'
    '<iframe src="https://evil.example"></iframe><style>body{display:none}</style>'
    '<span class="mention evil-class" style="color:red">@x</span></p>'
)


async def test_hostile_html_in_remote_note_is_sanitised_before_storage(federation: Federation) -> None:
    # Given a member and a remote Mastodon-shaped actor
    a = await federation.add("a.test")
    await a.add_member("ada")
    alice = remote_actor(federation, "mastodon.test", "alice")
    # When the actor sends a signed Create whose note carries scripts, handlers and javascript: links
    note = alice.note(HOSTILE)
    response = await alice.post(a.client, "http://a.test/inbox", alice.create(note))
    assert response.status_code == 202
    await federation.settle()
    # Then the note is stored, and only its sanitised form
    stored = await get_note(a.services.db, note["id"])
    assert stored is not None
    html = stored.content_html
    for bad in ("<script", "alert(1)", "onerror", "<img", "javascript:", "onclick", "<iframe", "<style",
                "display:none", "evil-class", "style="):
        assert bad not in html, (bad, html)
    assert "Fractions" in html and "click" in html
    assert 'href="https://ok.example/x"' in html
    assert 'class="mention"' in html
