"""A member signs in to an app through our OAuth pages in a real browser: authorize -> sign in -> consent ->
redirect to the app with a code, which the app exchanges for a working token."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tests.api.live import live_instance
from tests.browser.chromium import open_page

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage

PASSWORD = "correct horse battery"


@contextmanager
def callback_listener() -> Iterator[tuple[str, list[str]]]:
    """The app's side of the redirect: a loopback HTTP listener; yields its callback URL and the paths of the
    callback requests it has received."""
    received: list[str] = []

    class Callback(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if not self.path.startswith("/callback"):   # the browser asks for /favicon.ico too
                self.send_error(404)
                return
            received.append(self.path)
            body = b"<!DOCTYPE html><title>Learning app</title><p>Signed in.</p>"
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:   # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Callback)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/callback", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def test_browser_signs_in_and_app_gets_working_token(tmp_path: Path) -> None:
    console_errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        """Errors such as a Content-Security-Policy violation; not the 404 of a favicon, which neither site has."""
        if message.type == "error" and urlsplit(message.location["url"]).path != "/favicon.ico":
            console_errors.append(f"{message.location['url']}: {message.text}")

    with live_instance(tmp_path, {"ada": PASSWORD}) as base, callback_listener() as (callback, received), \
            httpx.Client(base_url=base, timeout=10) as app, open_page() as page:
        page.on("console", on_console)
        # Given an app registered with a loopback redirect URI, asking for a code with PKCE
        registered = app.post("/api/v1/apps", data={"client_name": "Learning app", "redirect_uris": callback,
                                                    "scopes": "read write", "website": "https://app.example"})
        assert registered.status_code == 200, registered.text
        client = registered.json()
        verifier, challenge = pkce()
        state = secrets.token_urlsafe(8)
        query = urlencode({"response_type": "code", "client_id": client["client_id"], "redirect_uri": callback,
                           "scope": "read write", "state": state, "code_challenge": challenge,
                           "code_challenge_method": "S256"})

        # When the member opens the authorization page, signs in and approves
        response = page.goto(f"{base}/oauth/authorize?{query}")
        assert response is not None and response.status == 200
        assert page.title() == "Sign in"
        assert "Learning app" in page.inner_text("main")
        page.screenshot(path=tmp_path / "sign-in.png", full_page=True)   # kept in pytest's tmp dir, to look at
        page.get_by_label("Username").fill("ada")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/oauth/authorize")
        assert page.title() == "Authorize app"
        assert "@ada" in page.inner_text("main")
        page.get_by_role("button", name="Authorize").click()
        page.wait_for_url(f"{callback}?**")

        # Then the browser lands on the app's redirect URI with a code and the state, as a real request
        landed = urlsplit(page.url)
        params = parse_qs(landed.query)
        assert params["state"] == [state]
        code = params["code"][0]
        assert received == [f"{landed.path}?{landed.query}"]
        assert page.inner_text("p") == "Signed in."

        # And the app exchanges the code (with its PKCE verifier) for a token that works
        token = app.post("/oauth/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": callback,
            "client_id": client["client_id"], "client_secret": client["client_secret"], "code_verifier": verifier})
        assert token.status_code == 200, token.text
        assert token.json()["scope"] == "read write"
        me = app.get("/api/v1/accounts/verify_credentials",
                     headers={"Authorization": f"Bearer {token.json()['access_token']}"})
        assert me.status_code == 200, me.text
        assert me.json()["username"] == "ada"
    assert console_errors == []
