"""Admin reports: the queue with filters and paging, one report, resolve, reopen, assign to self."""

from __future__ import annotations

import pytest

from fediverse_learn.errors import NotFound
from fediverse_learn.moderation import file_report, resolve_report
from fediverse_learn.store.actors import get_actor
from fediverse_learn.store.moderation import ReportRecord, get_report, list_log
from tests.api.support import bearer, token_with
from tests.api.test_admin_accounts import get, post, school
from tests.support.instances import Federation, Instance
from tests.test_cli_moderation import run


async def _report(a: Instance, reporter: str, target: str, comment: str, notes: list[str] | None = None
                  ) -> ReportRecord:
    actor = await get_actor(a.services.db, reporter)
    assert actor is not None
    return await file_report(a.services, actor, a.services.uris.actor(target), notes or [], comment, forward=False,
                             category="violation")


async def test_reports_list_and_show(federation: Federation) -> None:
    a, token = await school(federation)
    bob_token = await token_with(a, "bob", "write")
    posted = await a.client.post("/api/v1/statuses", headers=bearer(bob_token), data={"status": "rude words"})
    first = await _report(a, "ada", "bob", "rude", [posted.json()["uri"]])
    second = await _report(a, "bob", "ada", "mean")
    listed = await get(a, "/api/v1/admin/reports", token)
    assert [r["id"] for r in listed] == [str(second.id), str(first.id)]
    one = listed[1]
    assert one["comment"] == "rude" and one["category"] == "violation" and one["action_taken"] is False
    assert one["account"]["username"] == "ada" and one["target_account"]["username"] == "bob"
    assert one["target_account"]["account"]["acct"] == "bob" and one["assigned_account"] is None
    assert one["action_taken_by_account"] is None and one["rules"] == [] and one["forwarded"] is False
    assert [s["id"] for s in one["statuses"]] == [posted.json()["id"]] and one["created_at"].endswith("Z")
    assert await get(a, f"/api/v1/admin/reports/{first.id}", token) == one
    await get(a, "/api/v1/admin/reports/999", token, 404)
    # Filters and paging
    ada_id = one["account"]["id"]
    assert [r["id"] for r in await get(a, "/api/v1/admin/reports", token, account_id=ada_id)] == [str(first.id)]
    assert [r["id"] for r in await get(a, "/api/v1/admin/reports", token,
                                       target_account_id=ada_id)] == [str(second.id)]
    page = await a.client.get("/api/v1/admin/reports", params={"limit": "1"}, headers=bearer(token))
    assert [r["id"] for r in page.json()] == [str(second.id)] and 'rel="next"' in page.headers["link"]
    assert await get(a, "/api/v1/admin/reports", token, resolved="true") == []


async def test_resolve_reopen_and_assign(federation: Federation) -> None:
    a, token = await school(federation)
    report = await _report(a, "ada", "bob", "rude")
    mod_uri = a.services.uris.actor("mod")
    assigned = await post(a, f"/api/v1/admin/reports/{report.id}/assign_to_self", token)
    assert assigned["assigned_account"]["username"] == "mod"
    resolved = await post(a, f"/api/v1/admin/reports/{report.id}/resolve", token)
    assert resolved["action_taken"] is True and resolved["action_taken_at"] is not None
    assert resolved["action_taken_by_account"]["username"] == "mod"
    assert await get(a, "/api/v1/admin/reports", token) == []
    assert [r["id"] for r in await get(a, "/api/v1/admin/reports", token, resolved="true")] == [str(report.id)]
    # Resolving twice changes nothing
    assert (await post(a, f"/api/v1/admin/reports/{report.id}/resolve", token))["action_taken"] is True
    reopened = await post(a, f"/api/v1/admin/reports/{report.id}/reopen", token)
    assert reopened["action_taken"] is False and reopened["action_taken_by_account"] is None
    stored = await get_report(a.services.db, report.id)
    assert stored is not None and stored.resolved_at is None
    unassigned = await post(a, f"/api/v1/admin/reports/{report.id}/unassign", token)
    assert unassigned["assigned_account"] is None
    log = [(e.action, e.moderator) for e in await list_log(a.services.db) if e.report_id == report.id]
    assert log == [("unassign_report", mod_uri), ("reopen_report", mod_uri), ("resolve_report", mod_uri),
                   ("assign_report", mod_uri)]
    await post(a, "/api/v1/admin/reports/999/resolve", token, 404)


async def test_admin_reports_need_a_moderator_and_the_admin_scopes(federation: Federation) -> None:
    a, _ = await school(federation)
    report = await _report(a, "ada", "bob", "rude")
    assert (await a.client.get("/api/v1/admin/reports")).status_code == 401
    assert (await a.client.post(f"/api/v1/admin/reports/{report.id}/resolve")).status_code == 401
    read_only = await token_with(a, "mod", "admin:read:reports")
    assert len(await get(a, "/api/v1/admin/reports", read_only)) == 1
    await post(a, f"/api/v1/admin/reports/{report.id}/resolve", read_only, 403)
    accounts_only = await token_with(a, "mod", "admin:read:accounts admin:write:accounts")
    await get(a, f"/api/v1/admin/reports/{report.id}", accounts_only, 403)
    member = await token_with(a, "ada", "admin:read admin:write")
    await get(a, "/api/v1/admin/reports", member, 403)
    await post(a, f"/api/v1/admin/reports/{report.id}/resolve", member, 403)
    still = await get_report(a.services.db, report.id)
    assert still is not None and still.resolved_at is None


async def test_cli_reopens_a_report(federation: Federation, capsys: pytest.CaptureFixture[str]) -> None:
    a, _ = await school(federation)
    report = await _report(a, "ada", "bob", "rude")
    await resolve_report(a.services, report.id, "none")
    cfg = a.services.config
    assert await run(cfg, "report", "reopen", str(report.id)) == 0
    assert capsys.readouterr().out.splitlines() == [f"report {report.id} reopened"]
    stored = await get_report(a.services.db, report.id)
    assert stored is not None and stored.resolved_at is None
    assert (await list_log(a.services.db, limit=1))[0].action == "reopen_report"
    with pytest.raises(NotFound):
        await run(cfg, "report", "reopen", "999")
