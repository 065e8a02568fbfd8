"""Admin domain blocks and allows: list, create, show, update, delete, each enforced and logged."""

from __future__ import annotations

import hashlib

from fediverse_learn.store.domains import get_rule
from fediverse_learn.store.moderation import list_log
from tests.api.support import bearer, token_with
from tests.api.test_admin_accounts import get, post, school
from tests.support.instances import Federation


async def test_domain_blocks_create_list_show_update_delete(federation: Federation) -> None:
    a, token = await school(federation)
    created = await post(a, "/api/v1/admin/domain_blocks", token, domain="Spam.Example", severity="suspend",
                         reject_media="true", public_comment="spam", private_comment="reported 3 times")
    assert created["domain"] == "spam.example" and created["severity"] == "suspend"
    assert created["reject_media"] is True and created["reject_reports"] is False and created["obfuscate"] is False
    assert created["public_comment"] == "spam" and created["private_comment"] == "reported 3 times"
    assert created["digest"] == hashlib.sha256(b"spam.example").hexdigest() and created["created_at"].endswith("Z")
    rule = await get_rule(a.services.db, "spam.example", "block")
    assert rule is not None and rule.severity == "suspend"
    # A second block of the same domain: 422 with the existing one
    again = await a.client.post("/api/v1/admin/domain_blocks", data={"domain": "spam.example"},
                                headers=bearer(token))
    assert again.status_code == 422 and again.json()["existing_domain_block"]["id"] == created["id"]
    # Default severity is silence, "limit" is its other name
    limited = await post(a, "/api/v1/admin/domain_blocks/", token, domain="loud.example", severity="limit")
    assert limited["severity"] == "silence"
    assert (await post(a, "/api/v1/admin/domain_blocks", token, domain="x.example"))["severity"] == "silence"
    await post(a, "/api/v1/admin/domain_blocks", token, 422, domain="bad.example", severity="nuke")
    await post(a, "/api/v1/admin/domain_blocks", token, 422, domain="not a domain")
    # List newest first with paging; show one
    listed = await get(a, "/api/v1/admin/domain_blocks", token)
    assert [b["domain"] for b in listed] == ["x.example", "loud.example", "spam.example"]
    page = await a.client.get("/api/v1/admin/domain_blocks", params={"limit": "2"}, headers=bearer(token))
    assert 'rel="next"' in page.headers["link"] and len(page.json()) == 2
    assert await get(a, f"/api/v1/admin/domain_blocks/{created['id']}", token) == created
    await get(a, "/api/v1/admin/domain_blocks/999", token, 404)
    # Update keeps the id and what is not given
    response = await a.client.put(f"/api/v1/admin/domain_blocks/{created['id']}", headers=bearer(token),
                                  data={"severity": "silence"})
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["id"] == created["id"] and updated["severity"] == "silence" and updated["reject_media"] is True
    assert updated["private_comment"] == "reported 3 times"
    # Delete
    deleted = await a.client.delete(f"/api/v1/admin/domain_blocks/{created['id']}", headers=bearer(token))
    assert deleted.status_code == 200 and deleted.json() == {}
    assert await get_rule(a.services.db, "spam.example", "block") is None
    assert (await a.client.delete(f"/api/v1/admin/domain_blocks/{created['id']}",
                                  headers=bearer(token))).status_code == 404
    mod = a.services.uris.actor("mod")
    log = [(e.action, e.moderator) for e in await list_log(a.services.db, target="spam.example")]
    assert log == [("unblock_domain", mod), ("block_domain", mod), ("block_domain", mod)]


async def test_domain_allows_create_list_show_delete(federation: Federation) -> None:
    a, token = await school(federation)
    created = await post(a, "/api/v1/admin/domain_allows", token, domain="partner.school")
    assert created["domain"] == "partner.school" and created["created_at"].endswith("Z") and created["id"]
    assert await post(a, "/api/v1/admin/domain_allows/", token, domain="partner.school") == created
    other = await post(a, "/api/v1/admin/domain_allows", token, domain="other.school")
    assert [x["domain"] for x in await get(a, "/api/v1/admin/domain_allows", token)] == ["other.school",
                                                                                           "partner.school"]
    assert await get(a, f"/api/v1/admin/domain_allows/{other['id']}", token) == other
    await get(a, "/api/v1/admin/domain_allows/999", token, 404)
    deleted = await a.client.delete(f"/api/v1/admin/domain_allows/{created['id']}", headers=bearer(token))
    assert deleted.status_code == 200 and deleted.json() == {}
    assert await get_rule(a.services.db, "partner.school", "allow") is None
    await post(a, "/api/v1/admin/domain_allows", token, 422, domain="")


async def test_domain_endpoints_need_a_moderator_and_the_admin_scopes(federation: Federation) -> None:
    a, token = await school(federation)
    block = await post(a, "/api/v1/admin/domain_blocks", token, domain="spam.example")
    allow = await post(a, "/api/v1/admin/domain_allows", token, domain="partner.school")
    for path in ("/api/v1/admin/domain_blocks", "/api/v1/admin/domain_allows"):
        assert (await a.client.get(path)).status_code == 401
        assert (await a.client.post(path, data={"domain": "z.example"})).status_code == 401
    read_blocks = await token_with(a, "mod", "admin:read:domain_blocks")
    assert len(await get(a, "/api/v1/admin/domain_blocks", read_blocks)) == 1
    await get(a, "/api/v1/admin/domain_allows", read_blocks, 403)
    await post(a, "/api/v1/admin/domain_blocks", read_blocks, 403, domain="z.example")
    assert (await a.client.delete(f"/api/v1/admin/domain_blocks/{block['id']}",
                                  headers=bearer(read_blocks))).status_code == 403
    read_allows = await token_with(a, "mod", "admin:read:domain_allows")
    assert (await a.client.delete(f"/api/v1/admin/domain_allows/{allow['id']}",
                                  headers=bearer(read_allows))).status_code == 403
    member = await token_with(a, "ada", "admin:read admin:write")
    await get(a, "/api/v1/admin/domain_blocks", member, 403)
    await post(a, "/api/v1/admin/domain_blocks", member, 403, domain="z.example")
    await post(a, "/api/v1/admin/domain_allows", member, 403, domain="z.example")
    assert await get_rule(a.services.db, "z.example", "block") is None
    assert await get_rule(a.services.db, "z.example", "allow") is None
