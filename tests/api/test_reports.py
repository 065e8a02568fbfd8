"""POST /api/v1/reports: a member's report queued for moderators and, for a remote account, forwarded."""

from __future__ import annotations

from fediverse_learn.api.entities import REMOTE_ACCOUNT_BASE
from fediverse_learn.store.api_accounts import remote_actor_id
from fediverse_learn.store.api_statuses import ids_by_uri
from fediverse_learn.store.moderation import list_reports
from tests.api.support import bearer, token_with
from tests.federation.test_moderation_reports import two_schools
from tests.support.instances import Federation, Instance


async def _status_id(instance: Instance, uri: str) -> str:
    found = await ids_by_uri(instance.services.db, uri)
    assert found is not None
    return str(found[0])


async def test_report_about_a_remote_account_is_queued_and_forwarded(federation: Federation) -> None:
    # Given ada's note on b.test, where bea signs in to an app
    a, b, note_uri = await two_schools(federation)
    token = await token_with(b, "bea", "write:reports")
    row = await remote_actor_id(b.services.db, a.services.uris.actor("ada"))
    assert row is not None
    # When bea reports ada and the note, agreeing to forward it
    response = await b.client.post("/api/v1/reports", headers=bearer(token), data={
        "account_id": str(REMOTE_ACCOUNT_BASE + row), "status_ids[]": await _status_id(b, note_uri),
        "comment": "Spam links", "forward": "true", "category": "spam"})
    assert response.status_code == 200, response.text
    report = response.json()
    # Then the Report entity says so
    assert report["category"] == "spam" and report["comment"] == "Spam links" and report["forwarded"] is True
    assert report["action_taken"] is False and report["action_taken_at"] is None and report["rule_ids"] == []
    assert report["status_ids"] == [await _status_id(b, note_uri)]
    assert report["target_account"]["acct"] == "ada@a.test" and report["created_at"].endswith("Z")
    # And it is queued here and, once delivered, on a.test too
    assert [r.id for r in await list_reports(b.services.db)] == [int(report["id"])]
    await federation.settle()
    there = await list_reports(a.services.db)
    assert len(there) == 1 and there[0].object_uris == (note_uri,)


async def test_report_about_a_local_member_and_its_refusals(federation: Federation) -> None:
    a = await federation.add("a.test")
    ada, bob = await a.add_member("ada"), await a.add_member("bob")
    token = await token_with(a, "ada", "write")
    bob_token = await token_with(a, "bob", "write")
    posted = await a.client.post("/api/v1/statuses", headers=bearer(bob_token), data={"status": "rude words"})
    assert posted.status_code == 200, posted.text
    mine = await a.client.post("/api/v1/statuses", headers=bearer(token), data={"status": "my own"})
    # A report about bob with his status, not forwarded (he is local)
    response = await a.client.post("/api/v1/reports", headers=bearer(token), json={
        "account_id": str(bob.id), "status_ids": [posted.json()["id"]], "comment": "rude", "forward": True})
    assert response.status_code == 200, response.text
    assert response.json()["forwarded"] is False and response.json()["category"] == "other"
    assert response.json()["target_account"]["id"] == str(bob.id)
    # Refused: no token, a token without write:reports, a status of someone else, an unknown account, oneself
    no_token = await a.client.post("/api/v1/reports", data={"account_id": str(bob.id)})
    assert no_token.status_code == 401
    read_only = await token_with(a, "ada", "read")
    assert (await a.client.post("/api/v1/reports", headers=bearer(read_only),
                                data={"account_id": str(bob.id)})).status_code == 403
    other = await a.client.post("/api/v1/reports", headers=bearer(token), data={
        "account_id": str(bob.id), "status_ids[]": mine.json()["id"]})
    assert other.status_code == 422
    assert (await a.client.post("/api/v1/reports", headers=bearer(token),
                                data={"account_id": "999"})).status_code == 404
    assert (await a.client.post("/api/v1/reports", headers=bearer(token),
                                data={"account_id": str(ada.id)})).status_code == 422
    assert (await a.client.post("/api/v1/reports", headers=bearer(token),
                                data={"account_id": str(bob.id), "category": "bad"})).status_code == 422
    assert len(await list_reports(a.services.db)) == 1
