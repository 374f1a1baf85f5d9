"""Users, their case memberships, and access keys.

An access key is ``cvk_`` and 43 URL-safe characters (256 random bits). It is shown once, when
issued; the database keeps its SHA-256 (a key that random needs no slow hash: nothing can be
guessed) and an 8-character prefix so a person can tell their keys apart.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from redaction import Actor, Permission, Role, permits
from vault import _integrity as integrity
from vault._models import AccessKeyRow, MembershipRow, UserRow, utcnow
from vault.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated

ACCESS_KEY_PREFIX = "cvk_"
_USER_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")


class Operator:
    """Who holds the passphrase and runs the command line: the root of trust. Users, memberships
    and credentials the operator makes need no reviewer's confirmation; the web layer never acts
    as the operator (an admin there is a ``UserInfo``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "OPERATOR"


OPERATOR = Operator()


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: str
    name: str
    role: Role
    active: bool
    cases: frozenset[str]  # confirmed memberships only: the cases the user may reach
    created_at: datetime
    pending: frozenset[str] = frozenset()  # memberships waiting for a reviewer (filled for admin listings)

    @property
    def actor(self) -> Actor:
        return Actor(self.id, self.role, self.cases, self.active)


@dataclass(frozen=True, slots=True)
class AccessKeyInfo:
    """What is kept of an access key: never the key, only its prefix and its life."""

    id: str
    user_id: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def in_force(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


def admin_acting(by: UserInfo | Operator) -> UserInfo | None:
    """None for the operator; the admin acting otherwise (Forbidden for anyone else)."""
    if isinstance(by, Operator):
        return None
    decision = permits(by.actor, Permission.USER_MANAGE)
    if not decision:
        raise Forbidden(f"not allowed: {decision.reason}")
    return by


def access_key_info(row: AccessKeyRow) -> AccessKeyInfo:
    return AccessKeyInfo(row.id, row.user_id, row.prefix, row.created_at, row.expires_at, row.revoked_at)


def access_keys(session: Session, user: UserRow) -> list[AccessKeyInfo]:
    rows = session.scalars(select(AccessKeyRow).where(AccessKeyRow.user_id == user.id)
                           .order_by(AccessKeyRow.created_at.desc(), AccessKeyRow.id))
    return [access_key_info(row) for row in rows]


def issue_access_key(session: Session, user: UserRow, expires_at: datetime | None) -> tuple[AccessKeyRow, str]:
    """A new access key for ``user``, returned in clear once."""
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidInput("an access key cannot expire in the past")
    key, digest = new_access_key()
    row = AccessKeyRow(user_id=user.id, digest=digest, prefix=key[:12], expires_at=expires_at)
    session.add(row)
    session.flush()
    return row, key


def revoke_access_key(session: Session, key_id: str) -> AccessKeyRow:
    row = session.get(AccessKeyRow, key_id)
    if row is None:
        raise NotFound("no such access key")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


def check_user_name(name: str) -> str:
    if not _USER_NAME.fullmatch(name):
        raise InvalidInput("a user name is 1-63 lower-case letters, digits, dots, dashes or underscores")
    return name


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(f"unknown role {value!r}; use investigator, reviewer or admin") from None


def new_access_key() -> tuple[str, bytes]:
    key = ACCESS_KEY_PREFIX + secrets.token_urlsafe(32)
    return key, hashlib.sha256(key.encode()).digest()


def user_info(session: Session, row: UserRow) -> UserInfo:
    """The user as the policy sees them. Their cases are read from ``membership`` alone: a
    membership waiting for a reviewer (``membership_pending``) reaches nothing."""
    integrity.check(session, row)
    memberships = session.execute(select(MembershipRow.user_id, MembershipRow.case_id, MembershipRow.mac)
                                  .where(MembershipRow.user_id == row.id)).all()
    for user_id, case_id, mac in memberships:  # a forged, copied or moved membership reaches nothing
        integrity.check_values(session, MembershipRow, (user_id, case_id), mac)
    cases = frozenset(case_id for _, case_id, _ in memberships)
    return UserInfo(row.id, row.name, Role(row.role), row.active, cases, row.created_at)


def add_user(session: Session, name: str, role: Role, case_ids: list[str]) -> UserRow:
    """A new user with (confirmed) memberships of ``case_ids`` and no credential yet."""
    name = check_user_name(name)
    if session.scalar(select(UserRow.id).where(UserRow.name == name)):
        raise Conflict(f"a user named {name} exists already")
    row = UserRow(name=name, role=role.value)
    session.add(row)
    session.flush()
    for case_id in dict.fromkeys(case_ids):
        session.add(MembershipRow(user_id=row.id, case_id=case_id))
    session.flush()
    return row


def revoke_access_keys_of(session: Session, user_id: str, now: datetime) -> None:
    for row in session.scalars(select(AccessKeyRow).where(AccessKeyRow.user_id == user_id,
                                                          AccessKeyRow.revoked_at.is_(None))):
        row.revoked_at = now


def find_user(session: Session, name: str) -> UserRow:
    row = session.scalar(select(UserRow).where(UserRow.name == name))
    if row is None:
        raise NotFound(f"no user named {name}; `casevault user list` shows the users")
    return row


def authenticate(session: Session, key: str, now: datetime | None = None) -> UserRow:
    """The user an access key belongs to, if the key is known, in force, and the user active."""
    now = now or utcnow()
    row = session.scalar(select(AccessKeyRow).where(
        AccessKeyRow.digest == hashlib.sha256(key.encode()).digest()))
    if row is not None:
        integrity.check(session, row)  # a key inserted, moved to another user or un-revoked by raw SQL
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        raise Unauthenticated("the access key is not valid")
    user = session.get(UserRow, row.user_id)
    if user is None or not user.active:
        raise Unauthenticated("the access key is not valid")
    return user
