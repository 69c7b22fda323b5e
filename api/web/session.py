"""Workspace sessions: a signed cookie naming the API key, and CSRF tokens bound to it.

The cookie holds ``<key id>.<session id>.<expiry>`` and an HMAC-SHA256 of them under the
server's session secret; it never holds the key's secret. Each sign-in is recorded in the
database (`WebSessionRow`, by the SHA-256 of its session id) and signing out revokes it, so
a copied cookie stops working when its session ends. Every request re-reads the key and
the session row, so a revoked key ends its sessions at once, and the role and systems are
the key's own.
A form's CSRF token is an HMAC of the session id, so it is worth nothing to another
session; the sign-in form's token is bound in the same way to a short-lived pre-session
cookie. Cookies are HttpOnly and SameSite=Strict, and Secure when the request came over
HTTPS.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Request, Response

from api.security import Principal, principal_of
from api.storage.db import Database
from api.storage.tables import ApiKey, WebSessionRow, utcnow

SESSION_COOKIE = "alc_session"
PRESESSION_COOKIE = "alc_signin"
CSRF_FIELD = "csrf_token"
PRESESSION_MAX_AGE_S = 15 * 60


@dataclass(frozen=True, slots=True)
class WebSession:
    """A signed-in browser: the key it signed in with, and this session's id."""

    principal: Principal
    session_id: str
    expires_at: int


class SessionSigner:
    """Signs and checks session cookies and CSRF tokens with one secret."""

    def __init__(self, secret: str, max_age_s: int) -> None:
        self._secret = secret.encode("utf-8")
        self.max_age_s = max_age_s

    def mac(self, purpose: str, text: str) -> str:
        message = f"{purpose}:{text}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def cookie_value(self, key_id: str, session_id: str, expires_at: int) -> str:
        body = f"{key_id}.{session_id}.{expires_at}"
        return f"{body}.{self.mac('session', body)}"

    def read_cookie(self, value: str, now: float) -> tuple[str, str, int] | None:
        """(key id, session id, expiry) of a genuine, unexpired cookie, else None."""
        parts = value.split(".")
        if len(parts) != 4 or not parts[2].isdigit():
            return None
        key_id, session_id, expiry, mac = parts
        if not hmac.compare_digest(mac, self.mac("session", f"{key_id}.{session_id}.{expiry}")):
            return None
        if int(expiry) <= now:
            return None
        return key_id, session_id, int(expiry)

    def csrf_token(self, session_id: str) -> str:
        return self.mac("csrf", session_id)

    def csrf_ok(self, session_id: str, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(session_id), token or "")


def new_session_id() -> str:
    return secrets.token_urlsafe(24)


def signer_of(request: Request) -> SessionSigner:
    signer = request.app.state.web_signer
    assert isinstance(signer, SessionSigner)
    return signer


def session_digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def current_session(request: Request, database: Database) -> WebSession | None:
    """The request's session, or None if it has none, it is forged or expired, it was
    signed out, or its key has been revoked."""
    value = request.cookies.get(SESSION_COOKIE)
    if not value:
        return None
    read = signer_of(request).read_cookie(value, time.time())
    if read is None:
        return None
    key_id, session_id, expires_at = read
    with database.transaction(write=False) as session:
        row = session.get(ApiKey, key_id)
        if row is None or row.revoked_at is not None:
            return None
        recorded = session.get(WebSessionRow, session_digest(session_id))
        if recorded is None or recorded.revoked_at is not None or recorded.key_id != key_id:
            return None
        principal = principal_of(row)
    return WebSession(principal=principal, session_id=session_id, expires_at=expires_at)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def start_session(
    request: Request, response: Response, database: Database, principal: Principal
) -> None:
    """Record a new session for ``principal`` and set its cookie."""
    signer = signer_of(request)
    expires_at = int(time.time()) + signer.max_age_s
    session_id = new_session_id()
    with database.transaction() as session:
        session.add(
            WebSessionRow(
                session_sha256=session_digest(session_id),
                key_id=principal.key_id,
                expires_at=datetime.fromtimestamp(expires_at, UTC),
            )
        )
    response.set_cookie(
        SESSION_COOKIE,
        signer.cookie_value(principal.key_id, session_id, expires_at),
        max_age=signer.max_age_s,
        path="/app",
        httponly=True,
        secure=_secure(request),
        samesite="strict",
    )
    response.delete_cookie(PRESESSION_COOKIE, path="/app", httponly=True, samesite="strict")


def end_session(response: Response, database: Database, me: WebSession) -> None:
    """Revoke the session in the database (a copy of its cookie is refused from now on)
    and delete the cookie in the browser."""
    with database.transaction() as session:
        row = session.get(WebSessionRow, session_digest(me.session_id))
        if row is not None and row.revoked_at is None:
            row.revoked_at = utcnow()
    response.delete_cookie(SESSION_COOKIE, path="/app", httponly=True, samesite="strict")


def presession_id(request: Request) -> str | None:
    """The sign-in form's pre-session id, if the browser has a genuine one."""
    value = request.cookies.get(PRESESSION_COOKIE, "")
    session_id, _, mac = value.partition(".")
    if not session_id or not hmac.compare_digest(
        mac, signer_of(request).mac("presession", session_id)
    ):
        return None
    return session_id


def issue_presession(request: Request, response: Response) -> str:
    """A fresh pre-session cookie for the sign-in form; returns its CSRF token."""
    signer = signer_of(request)
    session_id = new_session_id()
    response.set_cookie(
        PRESESSION_COOKIE,
        f"{session_id}.{signer.mac('presession', session_id)}",
        max_age=PRESESSION_MAX_AGE_S,
        path="/app",
        httponly=True,
        secure=_secure(request),
        samesite="strict",
    )
    return signer.csrf_token(session_id)
