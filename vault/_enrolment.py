"""One-time enrolment codes: how a user sets their own credentials, so no one else ever sees them.

A code is ``cve_`` and 43 URL-safe characters (256 random bits), good once and for
``LIFETIME``; the database keeps only its SHA-256. Whoever holds a code may set the user's
password and second factor and take their first access key, so a code an admin issued (and so
could have read) leaves the user's memberships waiting for a reviewer's confirmation *after*
it is redeemed: see ``vault._confirmations``.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from vault import _integrity as integrity
from vault._models import EnrolmentRow, UserRow
from vault.errors import EnrolmentFailed

ENROLMENT_PREFIX = "cve_"
LIFETIME = timedelta(hours=72)
MAX_CODE = 200  # a longer "code" is not one of ours; do not hash megabytes


def _digest(code: str) -> bytes:
    return hashlib.sha256(code.encode()).digest()


def issue(session: Session, user: UserRow, *, by_operator: bool, now: datetime) -> str:
    """A new code for ``user``, returned in clear once; any unused code of theirs stops working."""
    session.execute(delete(EnrolmentRow).where(EnrolmentRow.user_id == user.id, EnrolmentRow.used_at.is_(None)))
    code = ENROLMENT_PREFIX + secrets.token_urlsafe(32)
    session.add(EnrolmentRow(user_id=user.id, digest=_digest(code), by_operator=by_operator, created_at=now,
                             expires_at=now + LIFETIME))
    session.flush()
    return code


def find(session: Session, code: str, now: datetime) -> EnrolmentRow:
    """The unused, unexpired enrolment of ``code``; EnrolmentFailed otherwise."""
    row = session.scalar(select(EnrolmentRow).where(EnrolmentRow.digest == _digest(code[:MAX_CODE])))
    if row is not None:
        integrity.check(session, row)  # a code inserted by raw SQL would set anyone's password
    if row is None or row.used_at is not None or row.expires_at <= now or len(code) > MAX_CODE:
        raise EnrolmentFailed("the enrolment code is not valid: it may have been used, replaced or expired; "
                              "ask an admin for a new one")
    return row


def use(session: Session, row: EnrolmentRow, now: datetime) -> None:
    """Mark the code used; exactly one of two concurrent redemptions gets past this."""
    result = session.execute(update(EnrolmentRow).where(EnrolmentRow.id == row.id, EnrolmentRow.used_at.is_(None))
                             .values(used_at=now, mac=integrity.mac_after(session, row, used_at=now))
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise EnrolmentFailed("the enrolment code is not valid: it was used at the same time")


def awaiting(session: Session, user_id: str, now: datetime) -> bool:
    """Whether ``user_id`` holds an admin-issued code not yet redeemed: confirming them now would
    confirm whoever redeems it, which may be the admin who read it."""
    return session.scalar(select(EnrolmentRow.id).where(
        EnrolmentRow.user_id == user_id, EnrolmentRow.used_at.is_(None), EnrolmentRow.expires_at > now,
        EnrolmentRow.by_operator.is_(False)).limit(1)) is not None
