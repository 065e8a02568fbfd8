"""Invite links open a sign-up page that creates the member; without an invite it stays closed."""

from __future__ import annotations

import dataclasses
import re

from fediverse_learn.registrations import create_invite, invite_link
from fediverse_learn.store.actors import get_actor
from tests.support.instances import Federation


async def test_invite_link_page_signs_up_a_member_once(federation: Federation) -> None:
    # Given an instance in invite mode (the default) and a one-use invite
    a = await federation.add("a.test")
    cfg = a.services.config
    a.services.config = dataclasses.replace(cfg, instance=dataclasses.replace(cfg.instance, registrations="invite"))
    invite = await create_invite(a.services, max_uses=1)
    path = invite_link(a.services.uris, invite.code).removeprefix("http://a.test")
    # When a pupil opens the link and submits the form
    page = await a.client.get(path)
    assert page.status_code == 200 and 'name="username"' in page.text
    done = await a.client.post(path, data={"username": "pupil_1", "password": "correct horse battery",
                                           "agreement": "1"})
    # Then the member exists and the page tells them how to sign in
    assert done.status_code == 200, done.text
    assert "@pupil_1@a.test" in done.text
    assert await get_actor(a.services.db, "pupil_1") is not None
    # And the used-up invite refuses a second sign-up with a clear message
    again = await a.client.post(path, data={"username": "pupil_2", "password": "correct horse battery",
                                            "agreement": "1"})
    assert again.status_code == 422 and re.search(r"invite", again.text)
    assert await get_actor(a.services.db, "pupil_2") is None


async def test_signup_without_invite_is_closed_unless_registrations_are_open(federation: Federation) -> None:
    a = await federation.add("a.test")
    assert (await a.client.get("/signup")).status_code == 404
    assert (await a.client.post("/signup", data={"username": "x", "password": "y" * 10})).status_code == 404


async def test_signup_page_limits_attempts_per_address(federation: Federation) -> None:
    # Given an instance with open sign-ups
    a = await federation.add("a.test")
    cfg = a.services.config
    a.services.config = dataclasses.replace(cfg, instance=dataclasses.replace(cfg.instance, registrations="open"))
    # When one address submits the form more often than the sign-up limit allows
    answers = [await a.client.post("/signup", data={"username": f"bot_{n}", "password": "correct horse battery",
                                                    "agreement": "1"}) for n in range(6)]
    # Then the first five create members and the sixth gets 429 with Mastodon's headers, creating nobody
    assert [r.status_code for r in answers] == [200] * 5 + [429]
    assert answers[-1].headers["x-ratelimit-remaining"] == "0" and "retry-after" in answers[-1].headers
    assert await get_actor(a.services.db, "bot_5") is None
    # And after the window a new attempt is counted afresh
    federation.clock.advance(30 * 60)
    again = await a.client.post("/signup", data={"username": "bot_6", "password": "correct horse battery",
                                                 "agreement": "1"})
    assert again.status_code == 200
