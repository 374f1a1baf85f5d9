"""Signing in to the web pages: passwords, TOTP second factors, and server-side sessions.

A password is kept as an Argon2id hash (argon2-cffi's ``PasswordHasher``). A TOTP secret (RFC 6238,
pyotp) is kept encrypted under the vault's credentials key, with the last time step accepted, so a
code is good once: a replayed code is refused. A session is 256 random bits handed to the browser;
the database keeps only its SHA-256, the user, a CSRF token, and when it was made and last used.
A session ends at sign-out, after ``IDLE`` without a request, after ``LIFETIME`` in all, or as soon
as its user is disabled; the user's role and cases are read afresh on every request.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from keys import Context, SecretKey
from vault import _integrity as integrity
from vault._models import CredentialRow, UserRow, WebSessionRow
from vault._users import UserInfo, user_info
from vault.errors import InvalidInput, SessionEnded, SignInFailed  # noqa: F401 - SignInFailed: still reachable here

IDLE = timedelta(minutes=30)
LIFETIME = timedelta(hours=12)
SEEN_EVERY = timedelta(seconds=60)  # how stale ``seen_at`` may get before a request writes it
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # Argon2 takes any length; a megabyte "password" is a denial of service
SECOND_FACTOR_ROLES = ("reviewer", "admin")  # who must give a TOTP code, unless the demo turns it off
TOTP_WINDOW = 1  # codes of the previous and the next 30-second step are accepted too

_hasher = PasswordHasher()  # Argon2id with the library's RFC 9106 defaults


@functools.cache
def _dummy_hash() -> str:
    """A hash to check against when the user is unknown, so that costs what a known user costs."""
    return _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class WebSession:
    """A signed-in browser: who, and the CSRF token its forms must carry."""

    user: UserInfo
    csrf: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SignIn:
    """What a successful sign-in gives: the session token (for the cookie) and the session."""

    token: str
    session: WebSession


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _totp_context(user_id: str) -> Context:
    return Context("totp-secret", document_id=user_id)


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


def new_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters, 120 bits


def new_totp_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters, 160 bits


def check_totp_secret(secret: str) -> str:
    secret = secret.strip().replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z2-7]{26,128}", secret):  # at least 128 bits, as RFC 4226 asks
        raise InvalidInput("an authenticator secret is 26 or more base32 characters (A-Z, 2-7)")
    return secret


def _credential(session: Session, user_id: str) -> CredentialRow:
    row = session.get(CredentialRow, user_id)
    if row is None:
        row = CredentialRow(user_id=user_id)
        session.add(row)
    return row


def set_password(session: Session, user: UserRow, password: str, now: datetime) -> None:
    row = _credential(session, user.id)
    row.password_hash = _hasher.hash(check_password(password))
    row.updated_at = now


def set_totp(session: Session, user: UserRow, secret: str, key: SecretKey, now: datetime) -> None:
    row = _credential(session, user.id)
    row.totp_secret_ct = key.encrypt(secret.encode(), _totp_context(user.id))
    row.totp_last_step = None
    row.updated_at = now


def totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step ``code`` is the code of, if it is valid now (one step either side)."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - TOTP_WINDOW, current + TOTP_WINDOW + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _password_ok(row: CredentialRow | None, password: str) -> bool:
    """Whether ``password`` is the one stored; as slow for a user without one as for any other."""
    stored = row.password_hash if row is not None and row.password_hash else _dummy_hash()
    try:
        return (len(password) <= MAX_PASSWORD and _hasher.verify(stored, password)
                and row is not None and bool(row.password_hash))
    except (VerificationError, InvalidHashError):
        return False


def password_matches(session: Session, user: UserRow, password: str) -> bool:
    row = session.get(CredentialRow, user.id)
    return _password_ok(integrity.check(session, row) if row is not None else None, password)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What checking a sign-in found: the user, or why not (for the audit log, never the page)."""

    user: UserRow | None
    reason: str | None  # None when the sign-in is good


def verify(session: Session, name: str, password: str, code: str | None, *, totp_required: bool,
           key: SecretKey, now: datetime) -> Verdict:
    """Check a sign-in. Advances the TOTP step on success; the caller commits either way."""
    user = session.scalar(select(UserRow).where(UserRow.name == name))
    row = session.get(CredentialRow, user.id) if user is not None else None
    if user is not None:  # a password hash, a role or an active flag set by raw SQL signs no one in
        integrity.check(session, user)
        if row is not None:
            integrity.check(session, row)
    # the password is checked first, against a dummy hash when there is no stored one, so an
    # unknown name, a user without a password and a disabled user cost what a wrong password costs
    password_ok = _password_ok(row, password)
    if user is None or row is None or not password_ok:
        return Verdict(user, "wrong password" if user is not None else "unknown user")
    if not user.active:
        return Verdict(user, "user disabled")
    if row.totp_secret_ct is not None:
        secret = key.decrypt(row.totp_secret_ct, _totp_context(user.id)).decode()
        step = totp_step(secret, code or "", now)
        if step is None:
            return Verdict(user, "wrong code")
        if row.totp_last_step is not None and step <= row.totp_last_step:
            return Verdict(user, "code used before")
        row.totp_last_step = step
    elif totp_required and user.role in SECOND_FACTOR_ROLES:
        return Verdict(user, "no second factor enrolled")
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = _hasher.hash(password)
    return Verdict(user, None)


def forget_credentials(session: Session, user_id: str) -> None:
    """No password and no second factor: the user signs in again only after enrolling."""
    session.execute(delete(CredentialRow).where(CredentialRow.user_id == user_id))


def has_totp(session: Session, user_id: str) -> bool:
    row = session.get(CredentialRow, user_id)
    return row is not None and row.totp_secret_ct is not None


def open_session(session: Session, user: UserRow, now: datetime) -> SignIn:
    token = secrets.token_urlsafe(32)
    row = WebSessionRow(digest=_digest(token), user_id=user.id, csrf=secrets.token_urlsafe(32),
                        created_at=now, seen_at=now)
    session.add(row)
    session.flush()
    return SignIn(token, WebSession(user_info(session, user), row.csrf, now))


def find_session(session: Session, token: str, now: datetime) -> tuple[WebSessionRow, WebSession]:
    row = session.get(WebSessionRow, _digest(token))
    if row is not None:
        integrity.check(session, row)  # a session inserted or moved to another user by raw SQL
    if row is None or now - row.seen_at > IDLE or now - row.created_at > LIFETIME:
        raise SessionEnded("your session has ended; sign in again")
    user = session.get(UserRow, row.user_id)
    if user is None or not user.active:
        raise SessionEnded("your session has ended; sign in again")
    return row, WebSession(user_info(session, user), row.csrf, row.created_at)


def end_session(session: Session, token: str) -> str | None:
    """End a session; the user it belonged to, if it was open."""
    row = session.get(WebSessionRow, _digest(token))
    if row is None:
        return None
    session.delete(row)
    return row.user_id


def end_sessions_of(session: Session, user_id: str) -> None:
    session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user_id))


def prune_sessions(session: Session, now: datetime) -> None:
    session.execute(delete(WebSessionRow).where(
        (WebSessionRow.seen_at < now - IDLE) | (WebSessionRow.created_at < now - LIFETIME)))
