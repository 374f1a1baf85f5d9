"""Searches kept under an opaque id: what gives a search page an address that is not its query.

A search a person posts is stored as a record owned by them under a random 128-bit id; its page
is ``/search/{id}``, so Back, reload and a bookmark fetch it again and the query sits in no URL,
history or access log. The query (with the case it was narrowed to), the name of a saved search
and the documents it found when last run are encrypted under the audit-details system key (the
key the audit log already holds queries under), each with associated data naming what it is, the
record and its owner: a ciphertext moved to another record or another owner does not decrypt,
and reads as a record that does not exist.

Only the owner opens a record; for anyone else (whatever their role) it does not exist. An
unsaved record expires ``UNSAVED_FOR`` after it was made (its owner is told it expired, and is
offered its query again, for ``EXPIRED_KEPT`` more; then it is deleted). A saved record keeps
until its owner deletes it. "New hits" of a saved search are the documents it finds now that it
did not find when its owner last ran it (a document released since, or one that newly matches).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from keys import Context, IntegrityFailed, SecretKey
from vault._models import SearchRecordRow
from vault._store import Store, UnitOfWork
from vault._users import UserInfo
from vault.errors import Conflict, InvalidInput, NotFound

UNSAVED_FOR = timedelta(hours=24)
EXPIRED_KEPT = timedelta(days=7)
MAX_SAVED = 100  # saved searches per person
MAX_NAME = 200
MAX_SEEN = 1000  # documents remembered per run: what a search can page through
NO_SEARCH = "no such search; search again from the search page"


@dataclass(frozen=True, slots=True)
class SearchRecord:
    """A search as its owner sees it: the query, the case it is narrowed to (None: all theirs)."""

    id: str
    query: str
    case_id: str | None
    name: str | None  # None unless saved
    created_at: datetime
    expires_at: datetime | None
    last_run_at: datetime | None
    seen: frozenset[str] | None  # the documents found when last run; None if never remembered
    expired: bool

    @property
    def saved(self) -> bool:
        return self.name is not None


def _context(field: str, row_id: str, user_id: str) -> Context:
    return Context(f"search-record/{field}", case_id=user_id, document_id=row_id)


def looks_like_id(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)


class SavedSearches:
    """A person's searches: made when they search, opened by id, saved with a name, deleted."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def _key(self) -> SecretKey:
        return self.store.keys.system["audit-details"]

    def _seal(self, field: str, row: SearchRecordRow, value: object) -> bytes:
        return self._key.encrypt(json.dumps(value).encode(), _context(field, row.id, row.user_id))

    def _open(self, field: str, row: SearchRecordRow, token: bytes) -> object:
        return json.loads(self._key.decrypt(token, _context(field, row.id, row.user_id)))

    def _record(self, row: SearchRecordRow, now: datetime) -> SearchRecord:
        try:
            query = self._open("query", row, row.query_ct)
            name = self._open("name", row, row.name_ct) if row.name_ct is not None else None
            seen = self._open("seen", row, row.seen_ct) if row.seen_ct is not None else None
        except IntegrityFailed:  # moved to another record or owner: as if it did not exist
            raise NotFound(NO_SEARCH) from None
        assert isinstance(query, dict)
        return SearchRecord(row.id, str(query["q"]), query.get("case") or None,
                            None if name is None else str(name), row.created_at, row.expires_at, row.last_run_at,
                            None if seen is None else frozenset(seen),  # type: ignore[arg-type]
                            expired=row.expires_at is not None and row.expires_at <= now)

    @staticmethod
    def _row(work: UnitOfWork, search_id: str, user: UserInfo) -> SearchRecordRow:
        """The record if ``user`` owns it; NotFound, as for none, otherwise."""
        row = work.session.get(SearchRecordRow, search_id) if looks_like_id(search_id) else None
        if row is None or row.user_id != user.id:
            raise NotFound(NO_SEARCH)
        return row

    def create(self, user: UserInfo, query: str, case_id: str | None = None) -> SearchRecord:
        """Keep a search ``user`` ran under a new id, for ``UNSAVED_FOR``; records that expired
        more than ``EXPIRED_KEPT`` ago go at the same time."""
        now = self.store.now()
        with self.store.write() as work:
            work.session.execute(delete(SearchRecordRow).where(SearchRecordRow.expires_at < now - EXPIRED_KEPT))
            row = SearchRecordRow(id=secrets.token_hex(16), user_id=user.id, expires_at=now + UNSAVED_FOR,
                                  created_at=now)
            row.query_ct = self._seal("query", row, {"q": query, "case": case_id or ""})
            work.session.add(row)
            work.session.flush()
            return self._record(row, now)

    def get(self, search_id: str, user: UserInfo) -> SearchRecord:
        """``user``'s search by its id (expired or not: ``expired`` says); NotFound for anyone else."""
        with self.store.read() as work:
            return self._record(self._row(work, search_id, user), self.store.now())

    def saved(self, user: UserInfo) -> list[SearchRecord]:
        """``user``'s saved searches, oldest first."""
        now = self.store.now()
        with self.store.read() as work:
            rows = work.session.scalars(select(SearchRecordRow).where(
                SearchRecordRow.user_id == user.id, SearchRecordRow.name_ct.is_not(None))
                .order_by(SearchRecordRow.created_at, SearchRecordRow.id))
            return [self._record(row, now) for row in rows]

    def save(self, search_id: str, user: UserInfo, name: str, *, actor: str) -> SearchRecord:
        """Give ``user``'s search a name and keep it until they delete it (audited, never the
        name or the query)."""
        name = " ".join(name.split())
        if not name:
            raise InvalidInput("give the search a name")
        if len(name) > MAX_NAME:
            raise InvalidInput(f"a name is at most {MAX_NAME} characters")
        now = self.store.now()
        with self.store.write() as work:
            row = self._row(work, search_id, user)
            if row.name_ct is None:
                count = work.session.scalar(select(func.count()).select_from(SearchRecordRow).where(
                    SearchRecordRow.user_id == user.id, SearchRecordRow.name_ct.is_not(None)))
                if (count or 0) >= MAX_SAVED:
                    raise Conflict(f"you have {MAX_SAVED} saved searches; delete one first")
            row.name_ct = self._seal("name", row, name)
            row.expires_at = None
            work.audit(actor=actor, action="search.save", target=row.id, details={"user": user.id})
            return self._record(row, now)

    def delete(self, search_id: str, user: UserInfo, *, actor: str) -> None:
        """Delete ``user``'s search (saved or not)."""
        with self.store.write() as work:
            row = self._row(work, search_id, user)
            saved = row.name_ct is not None
            work.session.delete(row)
            if saved:
                work.audit(actor=actor, action="search.delete", target=search_id, details={"user": user.id})

    def ran(self, search_id: str, user: UserInfo, documents: Iterable[str]) -> SearchRecord:
        """Remember that ``user`` ran their search now and what it found (at most ``MAX_SEEN``
        documents), which later runs count new hits against."""
        now = self.store.now()
        with self.store.write() as work:
            row = self._row(work, search_id, user)
            row.seen_ct = self._seal("seen", row, sorted(set(documents))[:MAX_SEEN])
            row.last_run_at = now
            return self._record(row, now)
