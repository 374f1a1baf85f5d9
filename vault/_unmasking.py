"""Unmask requests: an investigator asks to see one identity's real name, saying why; another
reviewer of the case approves it for a while, denies it, or revokes the grant early."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from redaction import Permission, may_decide_unmask, permits
from vault import _integrity as integrity
from vault import _unmask as unmask
from vault._models import UnmaskRequestRow
from vault._store import Store, UnitOfWork, valid_id
from vault._unmask import UnmaskRequest
from vault._users import UserInfo
from vault._views import CaseInfo
from vault.errors import Forbidden, NotFound


class UnmaskRequests:
    """Requests to unmask an identity, and their decisions."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def request_unmask(self, user: UserInfo, case: CaseInfo, identity_label: str, justification: str, *,
                       actor: str) -> UnmaskRequest:
        """An investigator asks to see one identity's real name, saying why."""
        decision = permits(user.actor, Permission.UNMASK_REQUEST, case.id)
        if not decision:
            raise Forbidden(f"cannot request an unmask: {decision.reason}")
        with self.store.read() as work:
            identity = self.store.identity_map.by_label(work.session, case.id, identity_label)
        with self.store.write() as work:
            keyring = work.newest_case_keyring(case.id)
            row = unmask.create(work.session, keyring, case_id=case.id, identity_id=identity.id, user_id=user.id,
                                justification=justification)
            work.audit(actor=actor, action="unmask.request", target=row.id,
                       details={"user": user.id, "identity": identity.id})
            return unmask.read(row, keyring)

    def unmask_requests(self, case: CaseInfo, user: UserInfo | None = None) -> list[UnmaskRequest]:
        """The requests of a case: all of them for its reviewers (or the operator), one's own otherwise."""
        with self.store.read() as work:
            query = select(UnmaskRequestRow).where(UnmaskRequestRow.case_id == case.id).order_by(UnmaskRequestRow.created_at)
            if user is not None and not permits(user.actor, Permission.UNMASK_DECIDE, case.id):
                if not permits(user.actor, Permission.UNMASK_REQUEST, case.id):
                    raise NotFound("no such case; `casevault case list` shows the cases")
                query = query.where(UnmaskRequestRow.requested_by == user.id)
            return [unmask.read(row, work.case_keyring(case.id, row.justification_ct))
                    for row in integrity.check_all(work.session, work.session.scalars(query))]

    @staticmethod
    def _request(work: UnitOfWork, request_id: str, user: UserInfo) -> UnmaskRequestRow:
        """The request if ``user`` may read its case; NotFound, as for none, otherwise."""
        row = unmask.find(work.session, request_id) if valid_id(request_id) else None
        if row is None or not permits(user.actor, Permission.DOCUMENT_READ, row.case_id):
            raise NotFound("no such unmask request")
        return row

    def decide_unmask(self, request_id: str, user: UserInfo, *, approve: bool, valid_for: timedelta = timedelta(hours=24),
                      actor: str, now: datetime | None = None) -> UnmaskRequest:
        """Another reviewer of the case approves (for ``valid_for``) or denies a request."""
        now = now or self.store.now()
        with self.store.write() as work:
            row = self._request(work, request_id, user)
            decision = may_decide_unmask(user.actor, row.case_id, requested_by=row.requested_by)
            if not decision:
                raise Forbidden(f"cannot decide this request: {decision.reason}")
            unmask.decide(work.session, row, approve=approve, user_id=user.id, valid_for=valid_for, now=now)
            work.audit(actor=actor, action="unmask.approve" if approve else "unmask.deny",
                       target=request_id, details={"user": user.id, "hours": valid_for.total_seconds() / 3600})
            work.session.refresh(row)
            return unmask.read(row, work.case_keyring(row.case_id, row.justification_ct))

    def revoke_unmask(self, request_id: str, user: UserInfo, *, actor: str) -> UnmaskRequest:
        """A reviewer of the case ends a grant before it expires; returns the revoked request."""
        with self.store.write() as work:
            row = self._request(work, request_id, user)
            decision = permits(user.actor, Permission.UNMASK_DECIDE, row.case_id)
            if not decision:
                raise Forbidden(f"cannot revoke: {decision.reason}")
            unmask.revoke(work.session, row, now=self.store.now())
            work.audit(actor=actor, action="unmask.revoke", target=request_id, details={"user": user.id})
            work.session.refresh(row)
            return unmask.read(row, work.case_keyring(row.case_id, row.justification_ct))
