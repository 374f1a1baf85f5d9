"""Unmask requests: an investigator asks, with a reason; another reviewer of the case decides.

An approved request is a grant for that user, that identity and that case until it expires or is
revoked. Deciding is first-come: the state moves from pending only once, so two reviewers acting
at the same moment get one success and one conflict.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from keys import Context, Keyring, token_version
from redaction import UnmaskGrant
from vault import _integrity as integrity
from vault._models import UnmaskRequestRow, new_id, utcnow
from vault.errors import AlreadyRequested, Conflict, InvalidInput, NotFound

MIN_JUSTIFICATION = 20
MAX_JUSTIFICATION = 2000
MAX_GRANT = timedelta(days=30)
# Reasons that say nothing; a person must write why this name is needed for this case.
_TEMPLATES = re.compile(r"^(n/?a|none|test(ing)?|because|needed|required|investigation|please|urgent|"
                        r"for (the )?(investigation|case|work)|see (ticket|above)|tbd|todo|x+|\.+|-+)$")


class UnmaskState(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    REVOKED = "revoked"
    EXPIRED = "expired"  # never stored: an approved grant past its end reads as expired


@dataclass(frozen=True, slots=True)
class UnmaskRequest:
    id: str
    case_id: str
    identity_id: str
    requested_by: str
    justification: str
    state: UnmaskState
    decided_by: str | None
    expires_at: datetime | None
    created_at: datetime


def check_justification(text: str) -> str:
    text = " ".join(unicodedata.normalize("NFC", text).split())
    if len(text) < MIN_JUSTIFICATION:
        raise InvalidInput(f"a justification needs at least {MIN_JUSTIFICATION} characters: say why this "
                           "name is needed for this case")
    if len(text) > MAX_JUSTIFICATION:
        raise InvalidInput(f"a justification is at most {MAX_JUSTIFICATION} characters")
    if _TEMPLATES.match(text.casefold().strip(" .!")):
        raise InvalidInput("that justification is a placeholder; say why this name is needed for this case")
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise InvalidInput("a justification cannot contain control characters")
    return text


def _context(row_id: str, case_id: str) -> Context:
    return Context("unmask-justification", case_id=case_id, document_id=row_id)


def create(session: Session, keyring: Keyring, *, case_id: str, identity_id: str, user_id: str,
           justification: str) -> UnmaskRequestRow:
    text = check_justification(justification)
    waiting = session.scalar(select(UnmaskRequestRow.id).where(
        UnmaskRequestRow.case_id == case_id, UnmaskRequestRow.identity_id == identity_id,
        UnmaskRequestRow.requested_by == user_id, UnmaskRequestRow.state == UnmaskState.PENDING.value).limit(1))
    if waiting is not None:  # one request waits for a decision; a second would only crowd the queue
        raise AlreadyRequested("you have asked to see this name already; that request waits for a reviewer's "
                               "decision")
    request_id = new_id()
    row = UnmaskRequestRow(id=request_id, case_id=case_id, identity_id=identity_id, requested_by=user_id,
                           justification_ct=keyring.encrypt(text.encode(), _context(request_id, case_id)),
                           state=UnmaskState.PENDING.value)
    session.add(row)
    session.flush()
    return row


def decide(session: Session, row: UnmaskRequestRow, *, approve: bool, user_id: str, valid_for: timedelta,
           now: datetime) -> None:
    """Approve or deny ``row`` (read through ``find``), if it is still pending."""
    if approve and not timedelta(minutes=1) <= valid_for <= MAX_GRANT:
        raise InvalidInput("a grant lasts from one minute to 30 days")
    values: dict[str, object] = {"state": (UnmaskState.APPROVED if approve else UnmaskState.DENIED).value,
                                 "decided_by": user_id, "decided_at": now}
    if approve:
        values["expires_at"] = now + valid_for
    if row.state != UnmaskState.PENDING.value:  # the MAC below is of this row moving from pending
        raise Conflict("the request was already decided")
    moved = session.execute(update(UnmaskRequestRow).where(
        UnmaskRequestRow.id == row.id, UnmaskRequestRow.state == UnmaskState.PENDING.value)
        .values(**values, mac=integrity.mac_after(session, row, **values))).rowcount
    if moved != 1:
        raise Conflict("the request was already decided")


def revoke(session: Session, row: UnmaskRequestRow, *, now: datetime) -> None:
    """End ``row``'s grant (read through ``find``), if it is approved."""
    if row.state != UnmaskState.APPROVED.value:
        raise Conflict("only an approved request can be revoked")
    values: dict[str, object] = {"state": UnmaskState.REVOKED.value, "revoked_at": now}
    moved = session.execute(update(UnmaskRequestRow).where(
        UnmaskRequestRow.id == row.id, UnmaskRequestRow.state == UnmaskState.APPROVED.value)
        .values(**values, mac=integrity.mac_after(session, row, **values))).rowcount
    if moved != 1:
        raise Conflict("only an approved request can be revoked")


def find(session: Session, request_id: str) -> UnmaskRequestRow:
    """The request's row, its integrity checked (StateTampered if it fails)."""
    row = session.get(UnmaskRequestRow, request_id)
    if row is None:
        raise NotFound("no such unmask request")
    return integrity.check(session, row)


def read(row: UnmaskRequestRow, keyring: Keyring, now: datetime | None = None) -> UnmaskRequest:
    """The request as its readers see it (its row checked by ``find`` or the listing)."""
    state = UnmaskState(row.state)
    if state is UnmaskState.APPROVED and row.expires_at is not None and row.expires_at <= (now or utcnow()):
        state = UnmaskState.EXPIRED
    return UnmaskRequest(row.id, row.case_id, row.identity_id, row.requested_by,
                         keyring.decrypt(row.justification_ct, _context(row.id, row.case_id)).decode(),
                         state, row.decided_by, row.expires_at, row.created_at)


def rewrap(session: Session, keyring: Keyring, case_id: str) -> int:
    """Encrypt each justification of the case held under an older case key version again under
    the newest; returns how many moved."""
    moved = 0
    for row in session.scalars(select(UnmaskRequestRow).where(UnmaskRequestRow.case_id == case_id)):
        if token_version(row.justification_ct) != keyring.primary.version:
            row.justification_ct = keyring.rotate(row.justification_ct, _context(row.id, case_id))
            moved += 1
    return moved


def grants(session: Session, user_id: str, case_id: str) -> list[UnmaskGrant]:
    """The approved requests of a user in a case, as the policy reads them."""
    rows = integrity.check_all(session, session.scalars(select(UnmaskRequestRow).where(
        UnmaskRequestRow.requested_by == user_id, UnmaskRequestRow.case_id == case_id,
        UnmaskRequestRow.state.in_([UnmaskState.APPROVED.value, UnmaskState.REVOKED.value]))))
    integrity.check_not_revoked(session, rows)
    return [UnmaskGrant(r.requested_by, r.case_id, r.identity_id, r.expires_at or utcnow(), r.revoked_at)
            for r in rows]
