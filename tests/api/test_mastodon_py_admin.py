"""Mastodon.py, a real client library, drives the admin API (accounts, reports, domain blocks and allows) of a
real server (uvicorn on loopback) as a moderator."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from mastodon import Mastodon, MastodonAPIError

from tests.api.live import live_instance
from tests.api.test_mastodon_py import REDIRECT, _authorize

SCOPES = ["read", "write", "admin:read", "admin:write"]
PASSWORD = "correct horse battery"


def _make_moderator(root: Path, name: str) -> None:
    with sqlite3.connect(root / "db.sqlite3") as db:
        db.execute("UPDATE actors SET role = 'moderator' WHERE name = ?", (name,))


def _sign_in(base: str, name: str) -> Mastodon:
    client_id, client_secret = Mastodon.create_app("Admin app", scopes=SCOPES, redirect_uris=REDIRECT,
                                                   api_base_url=base)
    api = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base, ratelimit_method="throw")
    url = api.auth_request_url(redirect_uris=REDIRECT, scopes=SCOPES, state="st4te", allow_http=True)
    api.log_in(code=_authorize(base, url, name, PASSWORD), redirect_uri=REDIRECT, scopes=SCOPES, allow_http=True)
    return api


def test_mastodon_py_moderates_accounts_reports_and_domains(tmp_path: Path) -> None:
    with live_instance(tmp_path, {"mod": PASSWORD, "ada": PASSWORD, "bob": PASSWORD}) as base:
        _make_moderator(tmp_path, "mod")
        mod, ada = _sign_in(base, "mod"), _sign_in(base, "ada")

        # Accounts: the local ones, newest first; one of them by id
        # (Mastodon.py 2.3 declares admin_accounts_v1 as returning one AdminAccount, so the list's items stay
        # plain dicts; admin_account gives the typed entity.)
        accounts = mod.admin_accounts()
        assert [a["username"] for a in accounts] == ["bob", "ada", "mod"]
        bob = mod.admin_account(accounts[0]["id"])
        assert bob.account.acct == "bob" and bob.silenced is False and bob.role.name == ""

        # A member reports bob; the moderator sees it, takes it, silences bob with it, which resolves it
        report = ada.report(bob.account.id, comment="rude in class", category="spam")
        assert report.target_account.acct == "bob" and report.action_taken is False
        queued = mod.admin_reports()
        assert [r.id for r in queued] == [report.id] and queued[0].account.username == "ada"
        assert mod.admin_report_assign(report.id).assigned_account.username == "mod"
        mod.admin_account_moderate(bob.id, "silence", report_id=report.id, text="calm down")
        assert mod.admin_account(bob.id).silenced is True
        assert mod.admin_report(report.id).action_taken is True
        assert mod.admin_reports() == [] and len(mod.admin_reports(resolved=True)) == 1
        assert mod.admin_report_reopen(report.id).action_taken is False
        assert mod.admin_report_resolve(report.id).action_taken is True
        assert mod.admin_account_unsilence(bob.id).silenced is False
        mod.admin_account_moderate(bob.id, "suspend")
        assert mod.admin_account(bob.id).suspended is True
        assert mod.admin_account_unsuspend(bob.id).suspended is False

        # Domain blocks: create, list, update, fetch by id, delete
        block = mod.admin_create_domain_block("spam.example", severity="suspend", reject_media=True,
                                              public_comment="spam")
        assert block.domain == "spam.example" and block.severity == "suspend" and block.reject_media is True
        assert [b.domain for b in mod.admin_domain_blocks()] == ["spam.example"]
        assert mod.admin_update_domain_block(block.id, severity="silence").severity == "silence"
        assert mod.admin_domain_blocks(id=block.id).severity == "silence"
        mod.admin_delete_domain_block(block.id)
        assert mod.admin_domain_blocks() == []

        # Domain allows: create, list, fetch, delete
        allow = mod.admin_create_domain_allow("partner.school")
        assert [a.domain for a in mod.admin_domain_allows()] == ["partner.school"]
        assert mod.admin_domain_allow(allow.id).domain == "partner.school"
        mod.admin_delete_domain_allow(allow.id)
        assert mod.admin_domain_allows() == []

        # A plain member with the same scopes is refused
        with pytest.raises(MastodonAPIError):
            ada.admin_accounts()
        with pytest.raises(MastodonAPIError):
            ada.admin_create_domain_block("school.example", severity="suspend")
