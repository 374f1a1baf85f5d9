"""The audit log: an append-only hash chain under a key, verifiable end to end.

Each entry's MAC is HMAC-SHA256 (under the vault's audit-chain key) over the previous MAC and the
entry's fields, so an edited, deleted, inserted or reordered entry breaks the chain at its
position, and nobody without the key can forge a consistent replacement. Details (which may hold
a query or a reason) are encrypted under the audit-details key; the clear columns hold only
who, what action, which record id and when.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, bindparam, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from keys import Context, SecretKey, keyed_digest
from vault._models import AuditEntryRow, AuditHead, utcnow
from vault.errors import AuditFailed

GENESIS = bytes(32)
_HEAD_ID = 1

_HEAD = AuditHead.__table__
_ADVANCE_HEAD = (update(_HEAD).where(_HEAD.c.id == _HEAD_ID).values(seq=_HEAD.c.seq + 1)
                 .returning(_HEAD.c.seq, _HEAD.c.mac))
_INSERT_ENTRY = insert(AuditEntryRow.__table__)
_SET_HEAD_MAC = update(_HEAD).where(_HEAD.c.id == _HEAD_ID).values(mac=bindparam("new_mac"))


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    target: str | None
    details: dict[str, object] | None


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which entries a listing holds: by who acted (a name, as recorded or with its channel, e.g.
    ``ada`` matches ``ada (web)``), by action, and from ``since`` up to (not including) ``until``."""

    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditListing:
    """Entries newest first, the actions the log holds (to filter by), and the chain's head: the
    position and MAC of its last entry, which an export or a verification should end at."""

    entries: list[AuditEntry]
    actions: list[str]
    head_position: int
    head_mac: bytes


@dataclass(frozen=True, slots=True)
class AuditReport:
    entries: int
    head: bytes
    first_broken: int | None = None  # the sequence number (position) where the chain breaks
    reason: str | None = None

    @property
    def intact(self) -> bool:
        return self.first_broken is None


def _mac(key: SecretKey, prev: bytes, row: AuditEntryRow) -> bytes:
    # the instant in UTC: PostgreSQL returns timestamps in the session's time zone
    fields = [str(row.seq), row.at.astimezone(UTC).isoformat(), row.actor, row.action, row.target or "",
              (row.details_ct or b"").hex(), prev.hex()]
    return keyed_digest(key, "audit-entry", json.dumps(fields).encode())


class AuditLog:
    def __init__(self, chain_key: SecretKey, details_key: SecretKey) -> None:
        self._chain_key = chain_key
        self._details_key = details_key

    @staticmethod
    def create(session: Session) -> None:
        session.add(AuditHead(id=_HEAD_ID, seq=0, mac=GENESIS))

    def append(self, session: Session | Connection, *, actor: str, action: str, target: str | None = None,
               details: dict[str, object] | None = None) -> int:
        """Add an entry inside the caller's transaction; it commits (or not) with the action.

        The head row is updated first, which takes the row lock (PostgreSQL) or the write lock
        (SQLite), so concurrent appends line up instead of forking the chain. Three statements,
        prepared once and run through Core on the transaction's connection (no ORM flush).
        """
        connection = session.connection() if isinstance(session, Session) else session
        try:
            seq, prev = connection.execute(_ADVANCE_HEAD).one()
            row = AuditEntryRow(seq=seq, at=utcnow(), actor=actor, action=action, target=target,
                                prev_mac=prev, entry_mac=b"")
            if details is not None:
                row.details_ct = self._details_key.encrypt(
                    json.dumps(details, sort_keys=True).encode(), Context("audit-details", version=seq))
            row.entry_mac = _mac(self._chain_key, prev, row)
            connection.execute(_INSERT_ENTRY, {
                "seq": seq, "at": row.at, "actor": actor, "action": action, "target": target,
                "details_ct": row.details_ct, "prev_mac": prev, "entry_mac": row.entry_mac})
            connection.execute(_SET_HEAD_MAC, {"new_mac": row.entry_mac})
        except SQLAlchemyError:
            raise AuditFailed("the audit log could not be written, so the action was not carried out") from None
        return seq

    def entries(self, session: Session, *, after: int = 0, limit: int = 100) -> list[AuditEntry]:
        rows = session.scalars(select(AuditEntryRow).where(AuditEntryRow.seq > after)
                               .order_by(AuditEntryRow.seq).limit(limit))
        return [self._entry(row) for row in rows]

    def _entry(self, row: AuditEntryRow) -> AuditEntry:
        details = None
        if row.details_ct is not None:
            details = json.loads(self._details_key.decrypt(row.details_ct, Context("audit-details", version=row.seq)))
        return AuditEntry(row.seq, row.at, row.actor, row.action, row.target, details)

    def rows(self, session: Session, *, after: int, upto: int, limit: int = 1000) -> list[AuditEntryRow]:
        """The stored rows after position ``after`` up to ``upto``, in order (details still sealed)."""
        return list(session.scalars(select(AuditEntryRow).where(AuditEntryRow.seq > after, AuditEntryRow.seq <= upto)
                                    .order_by(AuditEntryRow.seq).limit(limit)))

    def chained(self, prev: bytes, row: AuditEntryRow) -> bool:
        """Whether ``row`` follows the MAC ``prev`` and carries its own MAC unaltered."""
        return row.prev_mac == prev and _mac(self._chain_key, prev, row) == row.entry_mac

    def newest_first(self, session: Session, where: AuditFilter, *, before: int | None,
                     limit: int) -> list[AuditEntry]:
        """Entries before position ``before`` (all when None) that ``where`` holds, newest first."""
        query = select(AuditEntryRow)
        if before is not None:
            query = query.where(AuditEntryRow.seq < before)
        if where.actor:
            query = query.where(or_(AuditEntryRow.actor == where.actor,
                                    AuditEntryRow.actor.startswith(f"{where.actor} (", autoescape=True)))
        if where.action:
            query = query.where(AuditEntryRow.action == where.action)
        if where.since is not None:
            query = query.where(AuditEntryRow.at >= where.since)
        if where.until is not None:
            query = query.where(AuditEntryRow.at < where.until)
        return [self._entry(row) for row in session.scalars(query.order_by(AuditEntryRow.seq.desc()).limit(limit))]

    @staticmethod
    def actions(session: Session) -> list[str]:
        return list(session.scalars(select(AuditEntryRow.action).distinct().order_by(AuditEntryRow.action)))

    @staticmethod
    def head(session: Session) -> tuple[int, bytes]:
        found = session.get(AuditHead, _HEAD_ID)
        return (found.seq, found.mac) if found else (0, GENESIS)

    @staticmethod
    def head_position(session: Session) -> int:
        head = session.get(AuditHead, _HEAD_ID)
        return head.seq if head else 0

    def verify(self, session: Session) -> AuditReport:
        """Walk the chain from the start; report the first position where it breaks."""
        prev, expected_seq = GENESIS, 1
        for row in session.scalars(select(AuditEntryRow).order_by(AuditEntryRow.seq)).yield_per(1000):
            if row.seq != expected_seq:
                return AuditReport(expected_seq - 1, prev, expected_seq,
                                   f"entry {expected_seq} is missing (the next one found is {row.seq})")
            if not self.chained(prev, row):
                return AuditReport(expected_seq - 1, prev, row.seq, f"entry {row.seq} was altered or reordered")
            prev, expected_seq = row.entry_mac, expected_seq + 1
        head = session.get(AuditHead, _HEAD_ID)
        count = expected_seq - 1
        if head is None or head.seq != count or head.mac != prev:
            return AuditReport(count, prev, count + 1,
                               f"the log ends at entry {count} but its head records entry "
                               f"{head.seq if head else 'none'}: entries were removed from the end")
        return AuditReport(count, prev)
