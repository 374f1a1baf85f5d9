"""State a database writer cannot forge: a MAC on every row that decides access.

Someone who can write to the database but does not hold the vault's keys (a stolen database
password, an administrator with ``psql``, a restored copy) could otherwise make themselves a
reviewer, a member of any case, release a document, approve an unmask request, or mint an access
key, a session or an enrolment code. So each such row carries ``mac``: HMAC-SHA256 under the
vault's "state" system key over the table's name and the fields that decide access (``FIELDS``),
the primary key among them, so a MAC cannot be moved to another row or another table.

Written in one place: a ``before_flush`` listener on every write session stamps each new row, and
each changed row after checking the state it was loaded in, so a tampered row a use case changes
is refused rather than laundered. A bulk ``update()`` of a MAC'd field must set ``mac`` itself
(``mac_after``); a listener refuses one that does not. Checked where access is decided: users and
their memberships (``vault._users.user_info``, every policy decision), access keys, sessions,
enrolment codes and passwords, documents (``UnitOfWork.find_document`` and the search feed), and
unmask grants. A mismatch, or a NULL ``mac``, raises ``StateTampered``: deny, never trust.

The MAC binds a row to its own values, not to time: putting back a row's earlier values with their
earlier MAC (a replay) passes it. For unmask grants, the one replay that would reveal a name, the
audit log is the second witness: a grant the audit log says was revoked is tampered whatever its
row says (``check_not_revoked``).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session

from keys import KeyedDigest, SecretKey
from vault._db import WriteSession
from vault._models import (
    AccessKeyRow,
    AuditEntryRow,
    CredentialRow,
    DocumentRow,
    EnrolmentRow,
    MembershipRow,
    PendingMembershipRow,
    UnmaskRequestRow,
    UserRow,
    WebSessionRow,
)
from vault.errors import StateTampered

Row = TypeVar("Row")

# table -> the fields its MAC covers, primary key first
FIELDS: Mapping[type, tuple[str, ...]] = {
    UserRow: ("id", "name", "role", "active"),
    MembershipRow: ("user_id", "case_id"),
    PendingMembershipRow: ("id", "user_id", "case_id", "reason", "requested_by"),
    AccessKeyRow: ("id", "user_id", "digest", "expires_at", "revoked_at"),
    WebSessionRow: ("digest", "user_id", "csrf", "created_at"),
    EnrolmentRow: ("id", "user_id", "digest", "by_operator", "expires_at", "used_at"),
    CredentialRow: ("user_id", "password_hash", "totp_secret_ct", "totp_last_step"),
    DocumentRow: ("id", "case_id", "status", "uploaded_by"),
    UnmaskRequestRow: ("id", "case_id", "identity_id", "requested_by", "state", "decided_by", "decided_at",
                       "expires_at", "revoked_at"),
}
_BY_TABLE = {model.__tablename__: model for model in FIELDS}  # type: ignore[attr-defined]
# what an audit entry names a row by: ids only (a session is named by its user, not its digest)
_NAMED_BY: Mapping[type, tuple[str, ...]] = {MembershipRow: ("user_id", "case_id"), WebSessionRow: ("user_id",),
                                             CredentialRow: ("user_id",)}
_KEY = "casevault.state-key"
_PURPOSE = "state"


def table_of(model: type) -> str:
    return model.__tablename__  # type: ignore[attr-defined,no-any-return]


def attach(session: Session, key: SecretKey) -> None:
    """Give a unit of work's session the key its rows are stamped and checked with."""
    session.info[_KEY] = key


def _key(session: Session) -> SecretKey:
    key = session.info.get(_KEY)
    if key is None:  # a session made outside the unit of work: refuse rather than trust
        raise RuntimeError("this session has no state key; open it through Store.read or Store.write")
    return key  # type: ignore[no-any-return]


def _encode(value: object) -> object:
    if isinstance(value, datetime):  # one spelling per instant, whatever the backend returns
        return {"t": value.astimezone(UTC).isoformat()}
    if isinstance(value, bytes):
        return {"b": value.hex()}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    raise TypeError(f"no canonical encoding for {type(value).__name__}")


def mac_of(key: SecretKey, model: type, values: Sequence[object]) -> bytes:
    """The MAC of a row of ``model`` whose ``FIELDS`` hold ``values``, in that order."""
    fields = FIELDS[model]
    if len(values) != len(fields):
        raise ValueError(f"{table_of(model)} needs {len(fields)} values")
    encoded = json.dumps([table_of(model), [[f, _encode(v)] for f, v in zip(fields, values, strict=True)]],
                         separators=(",", ":"), ensure_ascii=True).encode()
    return KeyedDigest(key, _PURPOSE).update(encoded).finalize()


def _values(row: object) -> list[object]:
    return [getattr(row, f) for f in FIELDS[type(row)]]


def _named(model: type, values: Sequence[object]) -> str:
    fields = FIELDS[model]
    named = _NAMED_BY.get(model, fields[:1])
    return ":".join(str(values[fields.index(f)]) for f in named)


def check_values(session: Session, model: type, values: Sequence[object], mac: bytes | None) -> None:
    """StateTampered unless ``mac`` is the MAC of a ``model`` row holding ``values``."""
    if mac is None or not hmac.compare_digest(mac, mac_of(_key(session), model, values)):
        raise StateTampered(table_of(model), _named(model, values))


def check(session: Session, row: Row) -> Row:
    """``row`` itself, if its MAC fits its values; StateTampered otherwise. A row this unit
    changed is flushed first: the flush checks what it was loaded with, and stamps it."""
    if inspect(row).modified:
        session.flush()
    check_values(session, type(row), _values(row), row.mac)  # type: ignore[attr-defined]
    return row


def check_all(session: Session, rows: Iterable[Row]) -> list[Row]:
    return [check(session, row) for row in rows]


def mac_after(session: Session, row: object, **changes: object) -> bytes:
    """The MAC ``row`` (already checked) carries once ``changes`` are made to it: for a bulk
    ``update()`` that changes MAC'd fields, which must set ``mac`` with them."""
    unknown = set(changes) - set(FIELDS[type(row)])
    if unknown:
        raise ValueError(f"not MAC'd fields of {table_of(type(row))}: {sorted(unknown)}")
    return mac_of(_key(session), type(row), [changes.get(f, getattr(row, f)) for f in FIELDS[type(row)]])


def stamp_unchecked(session: Session, row: object) -> None:
    """Give ``row`` the MAC of the values it holds now, trusting them: only for the one-time
    stamping of a vault made before the MACs (``vault._stamping``)."""
    row.mac = mac_of(_key(session), type(row), _values(row))  # type: ignore[attr-defined]


def check_not_revoked(session: Session, rows: Sequence[UnmaskRequestRow]) -> None:
    """StateTampered for a grant in force whose revocation the audit log records: a revoked
    grant's earlier row (and MAC) put back. The audit log is append-only (a hash chain, and on
    PostgreSQL a role that may only insert into it)."""
    approved = {row.id: row for row in rows if row.state == "approved"}
    if not approved:
        return
    revoked = session.scalar(select(AuditEntryRow.target).where(
        AuditEntryRow.target.in_(sorted(approved)), AuditEntryRow.action == "unmask.revoke").limit(1))
    if revoked is not None:
        raise StateTampered(table_of(UnmaskRequestRow), revoked)


# -- stamping, in every write session -----------------------------------------------------------

def _apply_defaults(row: object) -> None:
    """Column defaults fire during the flush, after this listener: apply them now, so the MAC
    covers what is stored (a new row's id, ``active``, ``created_at``)."""
    columns = inspect(type(row)).columns
    for name in FIELDS[type(row)]:
        default = columns[name].default
        if getattr(row, name) is None and default is not None:
            setattr(row, name, default.arg if default.is_scalar else default.arg(None))  # type: ignore[attr-defined]


def _loaded(row: object) -> tuple[list[object], bytes | None, bool]:
    """The values ``row`` was loaded with (or last flushed with), its MAC then, and whether a
    MAC'd field changed since."""
    attrs = inspect(row).attrs
    values, changed = [], False
    for name in (*FIELDS[type(row)], "mac"):
        history = attrs[name].history
        changed |= name != "mac" and history.has_changes()
        values.append(history.deleted[0] if history.deleted else (history.unchanged or [None])[0])
    return values[:-1], values[-1], changed  # type: ignore[return-value]


@event.listens_for(WriteSession, "before_flush")
def _stamp(session: Session, _context: object, _instances: object) -> None:
    for row in session.dirty:
        if type(row) in FIELDS:
            values, mac, changed = _loaded(row)
            if changed:
                check_values(session, type(row), values, mac)  # never re-stamp a tampered row
                row.mac = mac_of(_key(session), type(row), _values(row))
    for row in session.new:
        if type(row) in FIELDS:
            _apply_defaults(row)
            row.mac = mac_of(_key(session), type(row), _values(row))


@event.listens_for(WriteSession, "do_orm_execute")
def _refuse_unstamped_update(state: ORMExecuteState) -> None:
    if not state.is_update:
        return
    model = _BY_TABLE.get(getattr(getattr(state.statement, "table", None), "name", ""))
    if model is None:
        return
    values: Mapping[Any, object] = getattr(state.statement, "_values", None) or {}
    names = {getattr(column, "key", column) for column in values}
    if names & set(FIELDS[model]) and "mac" not in names:
        raise RuntimeError(f"an update of {table_of(model)} that changes MAC'd fields must set mac "
                           "(vault._integrity.mac_after)")
