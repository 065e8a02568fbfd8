"""Statuses: post, read, edit, delete, context, source, history, favourite and boost; auth failures."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.support import bearer, token_with
from tests.support.instances import Federation, Instance


async def _setup(federation: Federation) -> tuple[Instance, str]:
    a = await federation.add("a.test")
    await a.add_member("ada")
    return a, await token_with(a, "ada", "read write")


async def _post(a: Instance, token: str, **data: Any) -> dict[str, Any]:
    response = await a.client.post("/api/v1/statuses", data={"status": "Hello #learning", **data},
                                   headers=bearer(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_post_returns_a_status(federation: Federation) -> None:
    a, token = await _setup(federation)
    status = await _post(a, token, spoiler_text="cw", visibility="unlisted", language="en")
    assert status["content"].startswith("<p>Hello ") and 'class="mention hashtag"' in status["content"]
    assert status["spoiler_text"] == "cw" and status["sensitive"] is True and status["visibility"] == "unlisted"
    assert status["language"] == "en" and status["account"]["username"] == "ada"
    assert status["tags"] == [{"name": "learning", "url": "http://a.test/tags/learning"}]
    assert status["uri"].startswith("http://a.test/users/ada/statuses/")
    assert status["media_attachments"] == [] and status["emojis"] == [] and status["card"] is None
    assert status["favourited"] is False and status["reblog"] is None and status["edited_at"] is None
    assert status["created_at"].endswith("Z")


async def test_post_auth_failures(federation: Federation) -> None:
    a, _ = await _setup(federation)
    assert (await a.client.post("/api/v1/statuses", data={"status": "x"})).status_code == 401
    read_only = await token_with(a, "ada", "read")
    response = await a.client.post("/api/v1/statuses", data={"status": "x"}, headers=bearer(read_only))
    assert response.status_code == 403
    assert response.json() == {"error": "This action is outside the authorized scopes"}
    granular = await token_with(a, "ada", "write:statuses")
    assert (await a.client.post("/api/v1/statuses", data={"status": "x"},
                                headers=bearer(granular))).status_code == 200


async def test_post_validation_is_422(federation: Federation) -> None:
    a, token = await _setup(federation)
    for data in ({"status": "  "}, {"status": "x", "visibility": "everyone"}, {"status": "x", "media_ids[]": "1"}):
        response = await a.client.post("/api/v1/statuses", data=data, headers=bearer(token))
        assert response.status_code == 422 and response.json()["error"].startswith("Validation failed")


async def test_idempotency_key_returns_the_same_status(federation: Federation) -> None:
    a, token = await _setup(federation)
    headers = {**bearer(token), "Idempotency-Key": "abc"}
    first = await a.client.post("/api/v1/statuses", json={"status": "once"}, headers=headers)
    again = await a.client.post("/api/v1/statuses", json={"status": "once"}, headers=headers)
    assert first.json()["id"] == again.json()["id"]
    count = await a.services.db.fetchval("SELECT count(*) FROM objects")
    assert count == 1


async def test_get_status_public_and_private(federation: Federation) -> None:
    a, token = await _setup(federation)
    public = await _post(a, token)
    private = await _post(a, token, visibility="private")
    anonymous = await a.client.get(f"/api/v1/statuses/{public['id']}")
    assert anonymous.status_code == 200 and "favourited" not in anonymous.json()
    assert (await a.client.get(f"/api/v1/statuses/{private['id']}")).status_code == 404
    own = await a.client.get(f"/api/v1/statuses/{private['id']}", headers=bearer(token))
    assert own.status_code == 200 and own.json()["visibility"] == "private"
    wrong_scope = await token_with(a, "ada", "write")
    assert (await a.client.get(f"/api/v1/statuses/{public['id']}",
                               headers=bearer(wrong_scope))).status_code == 403
    assert (await a.client.get(f"/api/v1/statuses/{public['id']}",
                               headers=bearer("bogus"))).status_code == 401
    assert (await a.client.get("/api/v1/statuses/123")).json() == {"error": "Record not found"}


async def test_reply_context_and_counts(federation: Federation) -> None:
    a, token = await _setup(federation)
    root = await _post(a, token)
    reply = await _post(a, token, status="a reply", in_reply_to_id=root["id"])
    assert reply["in_reply_to_id"] == root["id"] and reply["in_reply_to_account_id"] == root["account"]["id"]
    deeper = await _post(a, token, status="deeper", in_reply_to_id=reply["id"])
    context = (await a.client.get(f"/api/v1/statuses/{reply['id']}/context")).json()
    assert [s["id"] for s in context["ancestors"]] == [root["id"]]
    assert [s["id"] for s in context["descendants"]] == [deeper["id"]]
    assert (await a.client.get(f"/api/v1/statuses/{root['id']}")).json()["replies_count"] == 1


async def test_edit_source_and_history(federation: Federation) -> None:
    a, token = await _setup(federation)
    status = await _post(a, token, status="first words")
    edited = await a.client.put(f"/api/v1/statuses/{status['id']}", data={"status": "second words",
                                                                         "spoiler_text": "cw"},
                                headers=bearer(token))
    assert edited.status_code == 200
    assert "second words" in edited.json()["content"] and edited.json()["edited_at"] is not None
    source = await a.client.get(f"/api/v1/statuses/{status['id']}/source", headers=bearer(token))
    assert source.json() == {"id": status["id"], "text": "second words", "spoiler_text": "cw"}
    history = (await a.client.get(f"/api/v1/statuses/{status['id']}/history")).json()
    assert ["first" in h["content"] for h in history] == [True, False]
    assert (await a.client.get(f"/api/v1/statuses/{status['id']}/source")).status_code == 401
    no_write = await token_with(a, "ada", "read")
    assert (await a.client.put(f"/api/v1/statuses/{status['id']}", data={"status": "x"},
                               headers=bearer(no_write))).status_code == 403


async def test_only_the_author_edits_or_deletes(federation: Federation) -> None:
    a, token = await _setup(federation)
    await a.add_member("bob")
    bob = await token_with(a, "bob", "read write")
    status = await _post(a, token)
    assert (await a.client.delete(f"/api/v1/statuses/{status['id']}", headers=bearer(bob))).status_code == 404
    assert (await a.client.put(f"/api/v1/statuses/{status['id']}", data={"status": "mine now"},
                               headers=bearer(bob))).status_code == 404


async def test_delete_returns_the_status_with_its_text(federation: Federation) -> None:
    a, token = await _setup(federation)
    status = await _post(a, token, status="gone soon")
    assert (await a.client.delete(f"/api/v1/statuses/{status['id']}")).status_code == 401
    deleted = await a.client.delete(f"/api/v1/statuses/{status['id']}", headers=bearer(token))
    assert deleted.status_code == 200 and deleted.json()["text"] == "gone soon"
    assert (await a.client.get(f"/api/v1/statuses/{status['id']}")).status_code == 404


@pytest.mark.parametrize(("action", "undo", "scope", "field", "count"), [
    ("favourite", "unfavourite", "write:favourites", "favourited", "favourites_count"),
    ("reblog", "unreblog", "write:statuses", "reblogged", "reblogs_count"),
])
async def test_favourite_and_reblog_round_trip(federation: Federation, action: str, undo: str, scope: str,
                                               field: str, count: str) -> None:
    a, token = await _setup(federation)
    await a.add_member("bob")
    bob = await token_with(a, "bob", f"read {scope}")
    status = await _post(a, token)
    assert (await a.client.post(f"/api/v1/statuses/{status['id']}/{action}")).status_code == 401
    wrong = await token_with(a, "bob", "read")
    assert (await a.client.post(f"/api/v1/statuses/{status['id']}/{action}",
                                headers=bearer(wrong))).status_code == 403
    done = (await a.client.post(f"/api/v1/statuses/{status['id']}/{action}", headers=bearer(bob))).json()
    inner = done["reblog"] if action == "reblog" else done
    assert inner[field] is True and inner[count] == 1
    if action == "reblog":
        assert done["id"] != status["id"] and done["account"]["username"] == "bob"
        shown = (await a.client.get(f"/api/v1/statuses/{done['id']}")).json()
        assert shown["reblog"]["id"] == status["id"]
    undone = (await a.client.post(f"/api/v1/statuses/{status['id']}/{undo}", headers=bearer(bob))).json()
    assert undone[field] is False and undone[count] == 0 and undone["id"] == status["id"]


async def test_post_accepts_multipart_and_json(federation: Federation) -> None:
    a, token = await _setup(federation)
    multipart = await a.client.post("/api/v1/statuses", files={"status": (None, "from a form")},
                                    headers=bearer(token))
    assert multipart.status_code == 200 and "from a form" in multipart.json()["content"]
    as_json = await a.client.post("/api/v1/statuses", json={"status": "from json", "sensitive": True},
                                  headers=bearer(token))
    assert as_json.status_code == 200 and as_json.json()["sensitive"] is True
