"""Memberships waiting for a reviewer: the four-eyes rule between admins and content.

An admin may make a membership, create or reset a user's credentials, or change their role,
but whatever results reads nothing until a reviewer of the case (a confirmed member, not the
user themselves) confirms it. Only ``membership`` rows give access (``vault._users.user_info``
reads them, and every policy decision reads ``user_info``); a waiting membership is a
``membership_pending`` row, moved over by the confirmation. The operator's memberships are
made in ``membership`` directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from redaction import Role
from vault import _integrity as integrity
from vault._models import MembershipRow, PendingMembershipRow, UserRow, utcnow


@dataclass(frozen=True, slots=True)
class Confirmation:
    """A membership waiting for a reviewer of its case."""

    id: str
    user_id: str
    user_name: str
    role: Role
    case_id: str
    reason: str  # user.add, membership.add, user.reset, user.role, user.enrol
    requested_by: str
    created_at: datetime
    awaiting_enrolment: bool  # the user has not yet redeemed their enrolment code


def hold(session: Session, user_id: str, case_id: str, *, reason: str, requested_by: str) -> None:
    """Make (user, case) wait for a confirmation, under a new id; any access it gave ends."""
    session.execute(delete(MembershipRow).where(MembershipRow.user_id == user_id, MembershipRow.case_id == case_id))
    session.execute(delete(PendingMembershipRow).where(PendingMembershipRow.user_id == user_id,
                                                       PendingMembershipRow.case_id == case_id))
    session.add(PendingMembershipRow(user_id=user_id, case_id=case_id, reason=reason, requested_by=requested_by,
                                     created_at=utcnow()))
    session.flush()


def hold_all(session: Session, user_id: str, *, reason: str, requested_by: str) -> list[str]:
    """Every membership of the user, confirmed or waiting, waits again (new ids); the cases."""
    case_ids = sorted(set(session.scalars(select(MembershipRow.case_id).where(MembershipRow.user_id == user_id)))
                      | set(session.scalars(select(PendingMembershipRow.case_id)
                                            .where(PendingMembershipRow.user_id == user_id))))
    for case_id in case_ids:
        hold(session, user_id, case_id, reason=reason, requested_by=requested_by)
    return case_ids


def grant(session: Session, user_id: str, case_id: str) -> None:
    """The membership gives access from now on (the operator's, or a confirmed one)."""
    session.execute(delete(PendingMembershipRow).where(PendingMembershipRow.user_id == user_id,
                                                       PendingMembershipRow.case_id == case_id))
    if session.get(MembershipRow, (user_id, case_id)) is None:
        session.add(MembershipRow(user_id=user_id, case_id=case_id))
    session.flush()


def drop(session: Session, user_id: str, case_id: str) -> None:
    session.execute(delete(MembershipRow).where(MembershipRow.user_id == user_id, MembershipRow.case_id == case_id))
    session.execute(delete(PendingMembershipRow).where(PendingMembershipRow.user_id == user_id,
                                                       PendingMembershipRow.case_id == case_id))


def waiting(session: Session, case_ids: frozenset[str] | None) -> list[tuple[PendingMembershipRow, UserRow]]:
    """The waiting memberships of ``case_ids`` (every case for None), oldest first."""
    query = (select(PendingMembershipRow, UserRow).join(UserRow, UserRow.id == PendingMembershipRow.user_id)
             .order_by(PendingMembershipRow.created_at, PendingMembershipRow.id))
    if case_ids is not None:
        query = query.where(PendingMembershipRow.case_id.in_(sorted(case_ids)))
    return [(integrity.check(session, p), integrity.check(session, u)) for p, u in session.execute(query)]


def pending_cases(session: Session, user_id: str) -> frozenset[str]:
    return frozenset(session.scalars(select(PendingMembershipRow.case_id)
                                     .where(PendingMembershipRow.user_id == user_id)))
