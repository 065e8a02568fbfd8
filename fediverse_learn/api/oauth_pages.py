"""The server-rendered OAuth pages: sign in, consent, the out-of-band code, and errors."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from starlette.responses import HTMLResponse

__all__ = ["consent_page", "error_page", "oob_page", "sign_in_page"]

_HEADERS = {
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    # No form-action: browsers apply it to the redirect to the app's (often custom-scheme) redirect_uri.
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
}
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#222}"
    "label{display:block;margin:.8rem 0 .2rem}input[type=text],input[type=password]{width:100%;padding:.5rem;"
    "box-sizing:border-box}button,input{font:inherit}button{padding:.5rem 1rem;margin:1rem .5rem 0 0}"
    ".error{color:#a00}#code{display:inline-block;font-size:1.2rem;word-break:break-all;background:#eee;"
    "padding:.3rem}"
)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
            f"content=\"width=device-width, initial-scale=1\"><title>{escape(title)}</title><style>{_STYLE}</style>"
            f"</head><body><main><h1>{escape(title)}</h1>{body}</main></body></html>")
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def _hidden(fields: Mapping[str, str | None]) -> str:
    return "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
                   for k, v in fields.items() if v is not None)


def sign_in_page(instance: str, app_name: str, scopes: tuple[str, ...], fields: Mapping[str, str | None],
                 *, username: str = "", error: str | None = None) -> HTMLResponse:
    """Step 1: the member signs in with their name and password."""
    notice = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    body = (
        f"<p><strong>{escape(app_name)}</strong> wants to use your account on {escape(instance)}"
        f" ({escape(' '.join(scopes))}).</p>{notice}"
        '<form method="post" action="/oauth/authorize">'
        f'{_hidden({**fields, "step": "sign_in"})}'
        '<label for="username">Username</label>'
        f'<input type="text" id="username" name="username" value="{escape(username)}" autocomplete="username"'
        ' autocapitalize="none" required>'
        '<label for="password">Password</label>'
        '<input type="password" id="password" name="password" autocomplete="current-password" required>'
        '<button type="submit">Sign in</button></form>'
    )
    return _page("Sign in", body, 401 if error else 200)


def consent_page(instance: str, app_name: str, website: str | None, member: str, scopes: tuple[str, ...],
                 ticket: str) -> HTMLResponse:
    """Step 2: the signed-in member approves or denies the app."""
    site = f' (<a href="{escape(website)}" rel="noopener">{escape(website)}</a>)' if website else ""
    items = "".join(f"<li><code>{escape(s)}</code></li>" for s in scopes)
    body = (
        f"<p>Signed in as <strong>@{escape(member)}</strong> on {escape(instance)}.</p>"
        f"<p><strong>{escape(app_name)}</strong>{site} asks for:</p><ul>{items}</ul>"
        '<form method="post" action="/oauth/authorize">'
        f'{_hidden({"step": "consent", "ticket": ticket})}'
        '<button type="submit" name="decision" value="approve">Authorize</button>'
        '<button type="submit" name="decision" value="deny">Deny</button></form>'
    )
    return _page("Authorize app", body)


def oob_page(code: str) -> HTMLResponse:
    """The authorization code for apps without a redirect (urn:ietf:wg:oauth:2.0:oob)."""
    body = (f'<p>Copy this authorization code into the app:</p><p><code id="code">{escape(code)}</code></p>')
    return _page("Authorization code", body)


def error_page(message: str, status: int = 400) -> HTMLResponse:
    return _page("Cannot authorize", f'<p class="error">{escape(message)}</p>', status)
