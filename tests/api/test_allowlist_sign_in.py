"""In allowlist mode (the mode meant for schools) apps still sign in and public pages still render."""

from __future__ import annotations

from tests.api.support import bearer, pkce_pair, register_app, set_password, sign_in
from tests.support.instances import Federation


async def test_allowlist_mode_keeps_app_sign_in_and_public_pages(federation: Federation) -> None:
    # Given an instance federating only with an allowlist that names nobody
    a = await federation.add("a.test", mode="allowlist")
    await a.add_member("ada")
    await set_password(a, "ada")
    # When a member signs in from an app with the authorization-code flow
    app = await register_app(a)
    verifier, challenge = pkce_pair()
    code = await sign_in(a, app, "ada", challenge=challenge)
    token = await a.client.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "client_id": app["client_id"],
        "client_secret": app["client_secret"], "redirect_uri": app["redirect_uris"][0], "code_verifier": verifier})
    # Then the app gets a working token
    assert token.status_code == 200, token.text
    me = await a.client.get("/api/v1/accounts/verify_credentials", headers=bearer(token.json()["access_token"]))
    assert me.status_code == 200 and me.json()["username"] == "ada"
    # And the public profile page and the instance API still answer anonymous browsers
    page = await a.client.get("/@ada", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "@ada@a.test" in page.text
    assert (await a.client.get("/api/v2/instance")).status_code == 200
