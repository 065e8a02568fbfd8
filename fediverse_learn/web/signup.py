"""The sign-up page invite links open (`/invite/{code}`, and `/signup` when registrations are open)."""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from fediverse_learn.api.errors import ApiError
from fediverse_learn.api.limits import SIGN_UP, client_address, enforce
from fediverse_learn.errors import InvalidName, NameTaken, ValidationError
from fediverse_learn.registrations import register
from fediverse_learn.services import Services
from fediverse_learn.web.pages import page

__all__ = ["signup_routes"]

MAX_FORM_BYTES = 16_384


def _form(action: str, domain: str, code: str, error: str = "", name: str = "") -> str:
    problem = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    code_field = f'<input type="hidden" name="invite_code" value="{escape(code, quote=True)}">' if code else ""
    return (
        f"<h1>Join {escape(domain)}</h1>{problem}"
        f'<form method="post" action="{escape(action, quote=True)}">{code_field}'
        '<p><label>Name (a–z, 0–9, _)<br><input name="username" required maxlength="30" '
        f'pattern="[a-z0-9_]{{1,30}}" value="{escape(name, quote=True)}"></label></p>'
        '<p><label>Password<br><input name="password" type="password" required minlength="8"></label></p>'
        '<p><label><input type="checkbox" name="agreement" value="1" required> I accept the rules of this '
        "server</label></p><p><button>Sign up</button></p></form>"
        "<p>Afterwards, sign in with any Mastodon app (Tusky, Ivory, Elk, Phanpy…) by entering "
        f"<strong>{escape(domain)}</strong> as your server.</p>"
    )


def signup_routes(services: Services) -> list[Route]:
    domain = services.uris.domain

    def _open(code: str) -> bool:
        mode = services.config.instance.registrations
        return mode != "closed" and (bool(code) or mode in ("open", "approval"))

    async def show(request: Request) -> Response:
        code = request.path_params.get("code", "")
        if not _open(code):
            return HTMLResponse(page("Sign-up", "<h1>Sign-ups are closed</h1>"), status_code=404)
        return HTMLResponse(page(f"Join {domain}", _form(request.url.path, domain, code)))

    async def submit(request: Request) -> Response:
        code = request.path_params.get("code", "")
        if not _open(code):
            return HTMLResponse(page("Sign-up", "<h1>Sign-ups are closed</h1>"), status_code=404)
        if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
            return HTMLResponse(page("Sign-up", "<h1>Too large</h1>"), status_code=413)
        try:   # the same per-address limit as the sign-up API: bots may not mass-create accounts
            await enforce(services, SIGN_UP, client_address(request))
        except ApiError as exc:
            return HTMLResponse(page("Sign-up", "<h1>Too many sign-ups from your address; try again later</h1>"),
                                status_code=exc.status, headers=exc.headers)
        form = await request.form(max_files=0, max_fields=10)
        name = str(form.get("username") or "")
        password = str(form.get("password") or "")
        if not form.get("agreement"):
            body = _form(request.url.path, domain, code, "Please accept the rules of this server.", name)
            return HTMLResponse(page(f"Join {domain}", body), status_code=422)
        try:
            result = await register(services, name, password, str(form.get("invite_code") or code) or None, "")
        except (ValidationError, InvalidName, NameTaken) as exc:
            body = _form(request.url.path, domain, code, str(exc), name)
            return HTMLResponse(page(f"Join {domain}", body), status_code=422)
        handle = escape(f"@{result.name}@{domain}")
        if result.state == "pending":
            message = f"<h1>Thank you</h1><p>{handle} waits for a moderator's approval.</p>"
        else:
            message = (f"<h1>Welcome, {handle}</h1><p>Sign in with any Mastodon app: enter "
                       f"<strong>{escape(domain)}</strong> as your server.</p>")
        return HTMLResponse(page(f"Join {domain}", message))

    return [
        Route("/invite/{code}", show, methods=["GET"]),
        Route("/invite/{code}", submit, methods=["POST"]),
        Route("/signup", show, methods=["GET"]),
        Route("/signup", submit, methods=["POST"]),
    ]
