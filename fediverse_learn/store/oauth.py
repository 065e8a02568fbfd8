"""OAuth 2 storage: client apps, sign-in tickets and authorization codes, access and refresh tokens, passwords."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fediverse_learn.store.db import Database, Row, Transaction

__all__ = [
    "Grant",
    "IssuedToken",
    "OAuthApp",
    "TokenInfo",
    "check_client",
    "consume_grant",
    "create_app",
    "create_grant",
    "find_refresh",
    "find_token",
    "get_app",
    "get_app_by_client_id",
    "issue_token",
    "member_password",
    "revoke_token",
    "set_password_hash",
    "token_row_by_secret",
]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class OAuthApp:
    id: int
    client_id: str
    name: str
    website: str | None
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    created_at: float


_APP_COLUMNS = "id, client_id, name, website, redirect_uris, scopes, created_at"


def _app(row: Row) -> OAuthApp:
    return OAuthApp(id=row["id"], client_id=row["client_id"], name=row["name"], website=row["website"],
                    redirect_uris=tuple(row["redirect_uris"].split("\n")), scopes=tuple(row["scopes"].split()),
                    created_at=row["created_at"])


async def create_app(db: Database, *, name: str, website: str | None, redirect_uris: tuple[str, ...],
                     scopes: tuple[str, ...], now: float) -> tuple[OAuthApp, str]:
    """Register a client; returns it and its secret (stored only as a digest)."""
    client_id = secrets.token_urlsafe(32)
    secret = secrets.token_urlsafe(32)
    async with db.transaction() as tx:
        app_id = await tx.insert(
            "INSERT INTO oauth_apps (client_id, client_secret_hash, name, website, redirect_uris, scopes, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (client_id, _digest(secret), name, website, "\n".join(redirect_uris), " ".join(scopes), now))
    assert app_id is not None
    return OAuthApp(app_id, client_id, name, website, redirect_uris, scopes, now), secret


async def get_app(db: Database, app_id: int) -> OAuthApp | None:
    row = await db.fetchone(f"SELECT {_APP_COLUMNS} FROM oauth_apps WHERE id = ?", (app_id,))
    return _app(row) if row is not None else None


async def get_app_by_client_id(db: Database, client_id: str) -> OAuthApp | None:
    row = await db.fetchone(f"SELECT {_APP_COLUMNS} FROM oauth_apps WHERE client_id = ?", (client_id,))
    return _app(row) if row is not None else None


async def check_client(db: Database, client_id: str, client_secret: str) -> OAuthApp | None:
    """The app if the secret is right (compared in constant time), else None."""
    row = await db.fetchone(f"SELECT {_APP_COLUMNS}, client_secret_hash FROM oauth_apps WHERE client_id = ?",
                            (client_id,))
    if row is None or not hmac.compare_digest(row["client_secret_hash"], _digest(client_secret)):
        return None
    return _app(row)


# --- sign-in tickets and authorization codes --------------------------------------------------------

@dataclass(frozen=True)
class Grant:
    kind: str                   # "consent": signed in, consent pending; "code": an authorization code
    app_id: int
    actor_id: int
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str | None
    state: str | None


async def create_grant(db: Database, grant: Grant, now: float, ttl: float) -> str:
    """Store a ticket or code valid for `ttl` seconds; returns its secret. Expired rows are swept here."""
    secret = secrets.token_urlsafe(32)
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM oauth_grants WHERE expires_at < ?", (now - 86400,))
        await tx.execute(
            "INSERT INTO oauth_grants (kind, secret_hash, app_id, actor_id, redirect_uri, scopes, code_challenge,"
            " state, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (grant.kind, _digest(secret), grant.app_id, grant.actor_id, grant.redirect_uri, " ".join(grant.scopes),
             grant.code_challenge, grant.state, now, now + ttl))
    return secret


async def consume_grant(db: Database, kind: str, secret: str, now: float) -> Grant | None:
    """Use a ticket or code once: None if unknown, expired or already used."""
    async with db.transaction() as tx:
        row = await tx.fetchone(
            "SELECT id, kind, app_id, actor_id, redirect_uri, scopes, code_challenge, state FROM oauth_grants"
            " WHERE secret_hash = ? AND kind = ? AND used_at IS NULL AND expires_at > ?", (_digest(secret), kind, now))
        if row is None:
            return None
        await tx.execute("UPDATE oauth_grants SET used_at = ? WHERE id = ?", (now, row["id"]))
    return Grant(kind=row["kind"], app_id=row["app_id"], actor_id=row["actor_id"], redirect_uri=row["redirect_uri"],
                 scopes=tuple(row["scopes"].split()), code_challenge=row["code_challenge"], state=row["state"])


# --- tokens ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    refresh_token: str | None
    scopes: tuple[str, ...]
    created_at: float


@dataclass(frozen=True)
class TokenInfo:
    id: int
    actor_id: int | None        # None: an app token (client_credentials)
    app_id: int | None          # None: a token from `fediverse-learn token`
    scopes: tuple[str, ...]
    created_at: float


async def issue_token(db: Database | Transaction, *, actor_id: int | None, app_id: int | None,
                      scopes: tuple[str, ...], now: float, refresh: bool) -> IssuedToken:
    access = secrets.token_urlsafe(32)
    refresh_token = secrets.token_urlsafe(32) if refresh else None
    sql = ("INSERT INTO tokens (actor_id, app_id, token_hash, refresh_hash, scopes, created_at)"
           " VALUES (?, ?, ?, ?, ?, ?)")
    params = (actor_id, app_id, _digest(access), _digest(refresh_token) if refresh_token else None,
              " ".join(scopes), now)
    await db.execute(sql, params)
    return IssuedToken(access, refresh_token, scopes, now)


_USABLE_SQL = ("t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?)"
               " AND (t.actor_id IS NULL OR a.removed_at IS NULL)")


def _token(row: Row) -> TokenInfo:
    return TokenInfo(id=row["id"], actor_id=row["actor_id"], app_id=row["app_id"],
                     scopes=tuple(row["scopes"].split()), created_at=row["created_at"])


async def find_token(db: Database, token: str, now: float) -> TokenInfo | None:
    """A valid (unrevoked, unexpired, its member not removed) access token."""
    row = await db.fetchone(
        "SELECT t.id, t.actor_id, t.app_id, t.scopes, t.created_at FROM tokens t"
        f" LEFT JOIN actors a ON a.id = t.actor_id WHERE t.token_hash = ? AND {_USABLE_SQL}",
        (_digest(token), now))
    return _token(row) if row is not None else None


async def find_refresh(db: Database, refresh_token: str, now: float) -> TokenInfo | None:
    row = await db.fetchone(
        "SELECT t.id, t.actor_id, t.app_id, t.scopes, t.created_at FROM tokens t"
        f" LEFT JOIN actors a ON a.id = t.actor_id WHERE t.refresh_hash = ? AND {_USABLE_SQL}",
        (_digest(refresh_token), now))
    return _token(row) if row is not None else None


async def token_row_by_secret(db: Database, token: str) -> TokenInfo | None:
    """An access or refresh token by its text, valid or not (for revocation)."""
    digest = _digest(token)
    row = await db.fetchone("SELECT id, actor_id, app_id, scopes, created_at FROM tokens"
                            " WHERE token_hash = ? OR refresh_hash = ?", (digest, digest))
    return _token(row) if row is not None else None


async def revoke_token(db: Database, token_id: int, now: float) -> None:
    await db.execute("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now, token_id))


# --- passwords ------------------------------------------------------------------------------------------

async def set_password_hash(db: Database, actor_id: int, password_hash: str, now: float,
                            *, revoke_tokens: bool = False) -> None:
    """Set a member's password hash; with `revoke_tokens` their app tokens stop working."""
    async with db.transaction() as tx:
        await tx.execute("UPDATE actors SET password_hash = ? WHERE id = ?", (password_hash, actor_id))
        if revoke_tokens:
            await tx.execute("UPDATE tokens SET revoked_at = ? WHERE actor_id = ? AND app_id IS NOT NULL"
                             " AND revoked_at IS NULL", (now, actor_id))


async def member_password(db: Database, name: str) -> tuple[int, str | None] | None:
    """(actor id, password hash or None) of a member who may sign in, or None."""
    row = await db.fetchone("SELECT id, password_hash FROM actors WHERE name = ? AND kind = 'person'"
                            " AND removed_at IS NULL", (name,))
    return (int(row["id"]), row["password_hash"]) if row is not None else None
