"""OAuth 2: app registration, the sign-in and consent pages, the token grants, revocation, metadata."""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qs, urlsplit

from fediverse_learn.config import OAuthConfig
from tests.api.support import (
    PASSWORD,
    bearer,
    form_fields,
    pkce_pair,
    register_app,
    set_password,
    sign_in,
    token_with,
)
from tests.support.instances import Federation, Instance


async def _instance(federation: Federation) -> Instance:
    a = await federation.add("a.test")
    await a.add_member("ada")
    await set_password(a, "ada")
    return a


async def _exchange(a: Instance, app: dict[str, object], code: str, **extra: str) -> dict[str, object]:
    response = await a.client.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "client_id": app["client_id"],
        "client_secret": app["client_secret"], "redirect_uri": "https://app.example/cb", **extra})
    body: dict[str, object] = response.json()
    body["_status"] = response.status_code
    return body


async def test_app_registration_returns_credentials(federation: Federation) -> None:
    a = await federation.add("a.test")
    app = await register_app(a)
    assert app["name"] == "Test App"
    assert app["redirect_uris"] == ["https://app.example/cb"]
    assert app["scopes"] == ["read", "write", "follow", "push"]
    assert app["client_id"] and app["client_secret"] and app["client_secret_expires_at"] == 0


async def test_app_registration_rejects_bad_input_with_422(federation: Federation) -> None:
    a = await federation.add("a.test")
    for data in ({"client_name": "x", "redirect_uris": "javascript:alert(1)"},
                 {"client_name": "x", "redirect_uris": "https://ok.example/", "scopes": "read admin:everything"},
                 {"redirect_uris": "https://ok.example/"}):
        response = await a.client.post("/api/v1/apps", data=data)
        assert response.status_code == 422
        assert "error" in response.json()


async def test_app_registration_accepts_json_and_arrays(federation: Federation) -> None:
    a = await federation.add("a.test")
    response = await a.client.post("/api/v1/apps", json={
        "client_name": "J", "redirect_uris": ["https://j.example/a", "urn:ietf:wg:oauth:2.0:oob"]})
    assert response.status_code == 200
    assert response.json()["redirect_uris"] == ["https://j.example/a", "urn:ietf:wg:oauth:2.0:oob"]
    assert response.json()["scopes"] == ["read"]


async def test_authorization_code_flow_with_pkce_gives_a_working_token(federation: Federation) -> None:
    # Given a registered app and a member with a password
    a = await _instance(federation)
    app = await register_app(a)
    verifier, challenge = pkce_pair()
    # When the member signs in and approves, and the app exchanges the code with its verifier
    code = await sign_in(a, app, "ada", challenge=challenge)
    token = await _exchange(a, app, code, code_verifier=verifier)
    # Then the token works, with the scopes asked for, and comes with a refresh token
    assert token["_status"] == 200, token
    assert token["token_type"] == "Bearer" and token["scope"] == "read write follow"
    assert isinstance(token["refresh_token"], str) and isinstance(token["created_at"], int)
    me = await a.client.get("/api/v1/accounts/verify_credentials", headers=bearer(str(token["access_token"])))
    assert me.status_code == 200 and me.json()["username"] == "ada"
    # And the code cannot be used twice
    again = await _exchange(a, app, code, code_verifier=verifier)
    assert again["_status"] == 400 and again["error"] == "invalid_grant"


async def test_pkce_code_needs_the_right_verifier(federation: Federation) -> None:
    a = await _instance(federation)
    app = await register_app(a)
    _, challenge = pkce_pair()
    code = await sign_in(a, app, "ada", challenge=challenge)
    token = await _exchange(a, app, code, code_verifier="x" * 50)
    assert token["_status"] == 400 and token["error"] == "invalid_grant"


async def test_code_without_pkce_is_accepted_and_bound_to_its_client(federation: Federation) -> None:
    a = await _instance(federation)
    app, other = await register_app(a), await register_app(a)
    code = await sign_in(a, app, "ada", state=None)
    stolen = await a.client.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "client_id": other["client_id"],
        "client_secret": other["client_secret"], "redirect_uri": "https://app.example/cb"})
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"


async def test_wrong_password_shows_the_form_again(federation: Federation) -> None:
    a = await _instance(federation)
    app = await register_app(a)
    page = await a.client.get("/oauth/authorize", params={
        "client_id": app["client_id"], "redirect_uri": "https://app.example/cb", "response_type": "code"})
    assert page.status_code == 200
    assert 'name="password"' in page.text and page.headers["x-frame-options"] == "DENY"
    wrong = await a.client.post("/oauth/authorize", data={**form_fields(page.text), "username": "ada",
                                                          "password": "not it at all"})
    assert wrong.status_code == 401 and "Wrong username or password" in wrong.text
    assert 'name="ticket"' not in wrong.text


async def test_deny_redirects_with_access_denied(federation: Federation) -> None:
    a = await _instance(federation)
    app = await register_app(a)
    page = await a.client.get("/oauth/authorize", params={
        "client_id": app["client_id"], "redirect_uri": "https://app.example/cb", "response_type": "code",
        "state": "s1"})
    consent = await a.client.post("/oauth/authorize", data={**form_fields(page.text), "username": "ada",
                                                            "password": PASSWORD})
    denied = await a.client.post("/oauth/authorize", data={**form_fields(consent.text), "decision": "deny"})
    assert denied.status_code == 302
    query = parse_qs(urlsplit(denied.headers["location"]).query)
    assert query["error"] == ["access_denied"] and query["state"] == ["s1"]


async def test_unknown_client_or_redirect_uri_gets_a_page_not_a_redirect(federation: Federation) -> None:
    a = await _instance(federation)
    app = await register_app(a)
    unknown = await a.client.get("/oauth/authorize", params={"client_id": "nope", "response_type": "code"})
    assert unknown.status_code == 400 and "location" not in unknown.headers
    elsewhere = await a.client.get("/oauth/authorize", params={
        "client_id": app["client_id"], "redirect_uri": "https://evil.example/", "response_type": "code"})
    assert elsewhere.status_code == 400 and "location" not in elsewhere.headers


async def test_scope_beyond_the_app_is_refused_by_redirect(federation: Federation) -> None:
    a = await _instance(federation)
    app = await register_app(a, scopes="read")
    response = await a.client.get("/oauth/authorize", params={
        "client_id": app["client_id"], "redirect_uri": "https://app.example/cb", "response_type": "code",
        "scope": "read write"})
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["location"]).query)["error"] == ["invalid_scope"]


async def test_out_of_band_shows_the_code(federation: Federation) -> None:
    a = await _instance(federation)
    app = await register_app(a, redirect_uri="urn:ietf:wg:oauth:2.0:oob")
    page = await a.client.get("/oauth/authorize", params={
        "client_id": app["client_id"], "redirect_uri": "urn:ietf:wg:oauth:2.0:oob", "response_type": "code"})
    consent = await a.client.post("/oauth/authorize", data={**form_fields(page.text), "username": "ada",
                                                            "password": PASSWORD})
    shown = await a.client.post("/oauth/authorize", data={**form_fields(consent.text), "decision": "approve"})
    assert shown.status_code == 200 and '<code id="code">' in shown.text


async def test_client_credentials_token_is_an_app_token(federation: Federation) -> None:
    a = await _instance(federation)
    app = await register_app(a)
    response = await a.client.post("/oauth/token", auth=(app["client_id"], app["client_secret"]),
                                   data={"grant_type": "client_credentials", "scope": "read"})
    assert response.status_code == 200 and "refresh_token" not in response.json()
    token = response.json()["access_token"]
    verified = await a.client.get("/api/v1/apps/verify_credentials", headers=bearer(token))
    assert verified.status_code == 200 and verified.json()["name"] == "Test App"
    assert "client_secret" not in verified.json()
    me = await a.client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert me.status_code == 422


async def test_bad_client_secret_is_invalid_client(federation: Federation) -> None:
    a = await _instance(federation)
    app = await register_app(a)
    response = await a.client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": "wrong"})
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


async def test_refresh_rotates_the_token(federation: Federation) -> None:
    a = await _instance(federation)
    app = await register_app(a)
    first = await _exchange(a, app, await sign_in(a, app, "ada"))
    refreshed = await a.client.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": app["client_id"],
        "client_secret": app["client_secret"]})
    assert refreshed.status_code == 200
    new = refreshed.json()["access_token"]
    assert (await a.client.get("/api/v1/accounts/verify_credentials", headers=bearer(new))).status_code == 200
    old = await a.client.get("/api/v1/accounts/verify_credentials", headers=bearer(str(first["access_token"])))
    assert old.status_code == 401


async def test_password_grant_only_when_enabled(federation: Federation) -> None:
    a = await _instance(federation)
    app = await register_app(a)
    data = {"grant_type": "password", "username": "ada", "password": PASSWORD, "client_id": app["client_id"],
            "client_secret": app["client_secret"], "scope": "read"}
    refused = await a.client.post("/oauth/token", data=data)
    assert refused.status_code == 400 and refused.json()["error"] == "unsupported_grant_type"
    meta = (await a.client.get("/.well-known/oauth-authorization-server")).json()
    assert "password" not in meta["grant_types_supported"]
    a.services.config = dataclasses.replace(a.services.config, oauth=OAuthConfig(password_grant=True))
    assert (await a.client.post("/oauth/token", data=data)).status_code == 200
    wrong = await a.client.post("/oauth/token", data={**data, "password": "wrong password"})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    meta = (await a.client.get("/.well-known/oauth-authorization-server")).json()
    assert "password" in meta["grant_types_supported"]


async def test_metadata_names_our_endpoints(federation: Federation) -> None:
    a = await federation.add("a.test")
    meta = (await a.client.get("/.well-known/oauth-authorization-server")).json()
    assert meta["issuer"] == "http://a.test/"
    assert meta["token_endpoint"] == "http://a.test/oauth/token"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert "write:statuses" in meta["scopes_supported"]


async def test_revoke_ends_a_token_and_is_idempotent(federation: Federation) -> None:
    a = await _instance(federation)
    app = await register_app(a)
    token = str((await _exchange(a, app, await sign_in(a, app, "ada")))["access_token"])
    creds = {"client_id": app["client_id"], "client_secret": app["client_secret"], "token": token}
    other = await register_app(a)
    foreign = await a.client.post("/oauth/revoke", data={**creds, "client_id": other["client_id"],
                                                         "client_secret": other["client_secret"]})
    assert foreign.status_code == 403
    for _ in range(2):
        response = await a.client.post("/oauth/revoke", data=creds)
        assert response.status_code == 200 and response.json() == {}
    assert (await a.client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))).status_code == 401


async def test_cli_tokens_keep_working(federation: Federation) -> None:
    a = await _instance(federation)
    token = await a.token("ada")
    response = await a.client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert response.status_code == 200
    assert (await a.client.get("/api/v1/apps/verify_credentials", headers=bearer(token))).status_code == 200


async def test_app_verify_credentials_needs_a_token(federation: Federation) -> None:
    a = await _instance(federation)
    response = await a.client.get("/api/v1/apps/verify_credentials")
    assert response.status_code == 401 and response.json() == {"error": "The access token is invalid"}
    assert (await a.client.get("/api/v1/apps/verify_credentials", headers=bearer("bogus"))).status_code == 401
    narrow = await token_with(a, "ada", "push")
    assert (await a.client.get("/api/v1/apps/verify_credentials", headers=bearer(narrow))).status_code == 200


async def test_sign_in_attempts_are_rate_limited(federation: Federation) -> None:
    a = await _instance(federation)
    app = await register_app(a)
    page = await a.client.get("/oauth/authorize", params={
        "client_id": app["client_id"], "redirect_uri": "https://app.example/cb", "response_type": "code"})
    statuses = []
    for _ in range(26):
        response = await a.client.post("/oauth/authorize", data={**form_fields(page.text), "username": "ada",
                                                                 "password": "guessing"})
        statuses.append(response.status_code)
    assert statuses[:25] == [401] * 25 and statuses[25] == 429
    federation.clock.advance(300)
    retry = await a.client.post("/oauth/authorize", data={**form_fields(page.text), "username": "ada",
                                                          "password": PASSWORD})
    assert retry.status_code == 200


async def test_password_grant_attempts_are_rate_limited_with_their_own_headers(federation: Federation) -> None:
    a = await _instance(federation)
    app = await register_app(a)
    a.services.config = dataclasses.replace(a.services.config, oauth=OAuthConfig(password_grant=True))
    data = {"grant_type": "password", "username": "ada", "password": "guessing", "client_id": app["client_id"],
            "client_secret": app["client_secret"], "scope": "read"}
    for _ in range(25):
        assert (await a.client.post("/oauth/token", data=data)).status_code == 400
    refused = await a.client.post("/oauth/token", data={**data, "password": PASSWORD})
    # The sign-in limit (25 per address), not the address's 300 writes, is what the headers show
    assert refused.status_code == 429 and refused.json() == {"error": "Too many requests"}
    assert refused.headers["x-ratelimit-limit"] == "25" and refused.headers["x-ratelimit-remaining"] == "0"
    assert int(refused.headers["retry-after"]) > 0
