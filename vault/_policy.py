"""The policy epoch, and what a vault keeps decrypted between requests while it stands still.

Answering a search or a view through the policy needs the case names, the identities of each
case (real names and aliases, decrypted), the scope's pseudonym key and the user's unmask grants.
Reading and decrypting them for every request cost more than the search itself. A process keeps
them instead, keyed by the **policy epoch**: a single-row counter that every write transaction
touching what the policy reads moves, in the same transaction. The tables are listed in
``POLICY_TABLES``; the listeners below watch every write session (``WriteSession``: objects
added, changed or deleted, and ORM ``insert``/``update``/``delete`` statements) and move the
counter just before the commit, so no write path has to remember to do it, and a write made by
another process sharing the database (PostgreSQL scale-out) is seen by one cheap read at the
start of the next request. Raw SQL text bypasses the listeners: the vault writes none.

The counter moves by a random step, not by one: a database restored from a backup (an older
epoch) that then takes writes again cannot land on an epoch a running process still holds with
other content. Time is the one input that moves without a write: a cached answer that depends on
an unmask grant's expiry says until when it holds (see ``Vault.display``).
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Hashable
from itertools import chain

from sqlalchemy import Engine, event, inspect, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import ORMExecuteState, Session

from vault._db import Database, WriteSession
from vault._models import PolicyEpochRow

# every table whose rows the policy view reads (or that would change what it decrypted)
POLICY_TABLES = frozenset({
    "case", "case_key", "user_account", "membership", "pseudonym_scope", "scope_key", "identity",
    "unmask_request",
})
_ID = 1
_CHANGED = "casevault.policy-changed"
_MAX_STEP = 1 << 31  # 2**32 moves before a BIGINT could overflow


def _step() -> int:
    return secrets.randbelow(_MAX_STEP) + 1


def _pending_policy_change(session: Session) -> bool:
    return any(getattr(obj, "__tablename__", None) in POLICY_TABLES
               for obj in chain(session.new, session.dirty, session.deleted))


@event.listens_for(WriteSession, "before_flush")
def _before_flush(session: Session, _context: object, _instances: object) -> None:
    if _pending_policy_change(session):
        session.info[_CHANGED] = True


@event.listens_for(WriteSession, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in POLICY_TABLES:
            state.session.info[_CHANGED] = True


@event.listens_for(WriteSession, "before_commit")
def _before_commit(session: Session) -> None:
    if session.info.get(_CHANGED) or _pending_policy_change(session):
        bump(session)
        session.info[_CHANGED] = False


def bump(session: Session) -> None:
    """Move the epoch inside ``session``'s transaction (done by the listeners; explicit calls
    are for code that changes policy state through raw SQL)."""
    session.execute(update(PolicyEpochRow).where(PolicyEpochRow.id == _ID)
                    .values(value=PolicyEpochRow.value + _step()))


def create(session: Session) -> None:
    """The counter's row, for a new vault."""
    session.add(PolicyEpochRow(id=_ID, value=_step()))


def ensure(db: Database) -> None:
    """Give a vault made before the epoch existed its table and row (several nodes may race)."""
    engine: Engine = db.engine
    if not inspect(engine).has_table(PolicyEpochRow.__tablename__):
        try:
            PolicyEpochRow.__table__.create(engine, checkfirst=True)
        except (OperationalError, ProgrammingError, IntegrityError):  # created by another node meanwhile
            if not inspect(engine).has_table(PolicyEpochRow.__tablename__):
                raise
    with db.read() as session:
        if session.get(PolicyEpochRow, _ID) is not None:
            return
    try:
        with db.write() as session:
            if session.get(PolicyEpochRow, _ID) is None:
                create(session)
    except IntegrityError:  # another node inserted it first
        pass


def epoch_query():  # type: ignore[no-untyped-def]
    """The epoch as a scalar subquery, to be read together with other heads in one statement."""
    return select(PolicyEpochRow.value).where(PolicyEpochRow.id == _ID).scalar_subquery()


class EpochCache:
    """Values kept for one policy epoch at a time (the newest one seen), at most ``size`` of them,
    least recently used first out. Thread-safe; a value computed under an epoch that is no longer
    the current one is not kept."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._epoch: int | None = None
        self._values: OrderedDict[Hashable, object] = OrderedDict()

    def _adopt(self, epoch: int) -> None:
        if epoch != self._epoch:  # moved (or, after a restore, went back): nothing kept holds
            self._values.clear()
            self._epoch = epoch

    def get(self, epoch: int, key: Hashable) -> object | None:
        with self._lock:
            self._adopt(epoch)
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def put(self, epoch: int, key: Hashable, value: object) -> None:
        with self._lock:
            if epoch != self._epoch:
                return
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self._size:
                self._values.popitem(last=False)

    def discard(self, key: Hashable) -> None:
        with self._lock:
            self._values.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._epoch = None
