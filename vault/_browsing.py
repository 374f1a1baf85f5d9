"""A case's documents as one user may list them: the document browser.

Which documents show is the policy's answer (``may_see_document``, the rule every document read
asks), row by row: an investigator lists the released documents of their cases, a reviewer those
in review too, an admin none. A title is shown as the document page shows it: masked under the
case's identities and the review's decisions, its tokens as the user's display has them (labels,
or the names the policy lets this user see, audited like a view's). The masked titles are kept
per policy epoch and masked form, so a listing reads a document's masked form once per change.

Filtering, sorting and paging happen here on what the user may see, never before: a filter
cannot count what the policy hides.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select

from redaction import may_see_document, render
from vault import _integrity as integrity
from vault._ingest._model import Kind
from vault._models import DocumentRow, UserRow
from vault._reading import Reading
from vault._store import Store, UnitOfWork
from vault._users import UserInfo
from vault._views import BlobPurpose, CaseInfo, DocumentStatus
from vault.errors import InvalidInput

PER_PAGE = 25
MAX_PAGE = 100_000
MAX_FILTER = 200


class DocumentSort(enum.StrEnum):
    DATE = "date"  # a document's own date, else its upload day (``ListedDocument.date``)
    TITLE = "title"
    KIND = "kind"
    STATUS = "status"
    UPLOADER = "uploader"


@dataclass(frozen=True, slots=True)
class ListedDocument:
    """One row of the browser, already redacted: ``title`` is the masked title as this user may
    see it; no file name, no original title."""

    id: str
    kind: Kind
    status: DocumentStatus
    title: str
    uploader: str  # the uploader's user name (or the operator's actor for a command-line ingest)
    uploaded_at: datetime
    pending_suggestions: int
    document_date: date | None = None  # its own date (found in it or set by a reviewer), if it has one

    @property
    def date(self) -> date:
        """The date the browser shows and sorts by: the document's own, else the day it came in."""
        return self.document_date or self.uploaded_at.date()


@dataclass(frozen=True, slots=True)
class DocumentFilter:
    """What a browser listing narrows to and how it is ordered; empty fields narrow nothing."""

    kind: Kind | None = None
    status: DocumentStatus | None = None
    uploader: str = ""
    sort: DocumentSort = DocumentSort.DATE
    descending: bool = True
    page: int = 1

    @classmethod
    def parse(cls, *, kind: str = "", status: str = "", uploader: str = "", sort: str = "", order: str = "",
              page: str = "") -> DocumentFilter:
        """A filter from what a person typed or a link carries; InvalidInput saying what to give."""
        try:
            parsed_kind = Kind(kind) if kind else None
        except ValueError:
            raise InvalidInput("a kind is court_record or transcript") from None
        try:
            parsed_status = DocumentStatus(status) if status else None
        except ValueError:
            raise InvalidInput("a status is released or in_review") from None
        try:
            parsed_sort = DocumentSort(sort) if sort else DocumentSort.DATE
        except ValueError:
            raise InvalidInput("sort by " + ", ".join(s.value for s in DocumentSort)) from None
        if order not in ("", "asc", "desc"):
            raise InvalidInput("order is asc or desc")
        try:
            number = int(page) if page else 1
        except ValueError:
            number = 0
        if not 1 <= number <= MAX_PAGE:
            raise InvalidInput(f"a page is a number from 1 to {MAX_PAGE}")
        if len(uploader) > MAX_FILTER:
            raise InvalidInput(f"a filter is at most {MAX_FILTER} characters")
        descending = order == "desc" if order else parsed_sort is DocumentSort.DATE
        return cls(parsed_kind, parsed_status, uploader.strip(), parsed_sort, descending, number)


@dataclass(frozen=True, slots=True)
class DocumentListing:
    """One page of a case's documents as a user may see them, and what the filters offer."""

    documents: tuple[ListedDocument, ...]
    total: int  # after the filters
    page: int
    pages: int
    uploaders: tuple[str, ...] = ()  # the uploaders of what the user may see, for the filter's choices
    queue: tuple[ListedDocument, ...] = field(default=())  # in review, oldest first (whoever may see them)


def _sort_key(sort: DocumentSort):  # type: ignore[no-untyped-def]
    if sort is DocumentSort.TITLE:
        return lambda d: (d.title.casefold(), d.uploaded_at)
    if sort is DocumentSort.KIND:
        return lambda d: (d.kind.value, d.uploaded_at)
    if sort is DocumentSort.STATUS:
        return lambda d: (d.status.value, d.uploaded_at)
    if sort is DocumentSort.UPLOADER:
        return lambda d: (d.uploader.casefold(), d.uploaded_at)
    return lambda d: (d.date, d.uploaded_at)


class CaseDocuments:
    """The document browser's listings, over a vault's store: ``CaseDocuments(vault.store)``."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._reading = Reading(store)  # its caches live in the store: shared with the vault's own

    def listing(self, case: CaseInfo, user: UserInfo, where: DocumentFilter = DocumentFilter(), *,
                actor: str) -> DocumentListing:
        """The documents of ``case`` that ``user`` may see, filtered, sorted and paged. The caller
        has checked the user may know the case (a page answers 404 otherwise). A real name a
        title reveals to this user is audited before the listing is returned."""
        visible, revealed = self._visible(case, user)
        uploaders = tuple(sorted({d.uploader for d in visible}, key=str.casefold))
        chosen = [d for d in visible
                  if (where.kind is None or d.kind is where.kind)
                  and (where.status is None or d.status is where.status)
                  and (not where.uploader or d.uploader == where.uploader)]
        chosen.sort(key=_sort_key(where.sort), reverse=where.descending)
        pages = max(1, -(-len(chosen) // PER_PAGE))
        start = (where.page - 1) * PER_PAGE
        queue = tuple(sorted((d for d in visible if d.status is DocumentStatus.IN_REVIEW), key=lambda d: d.uploaded_at))
        details: dict[str, object] = {"user": user.id}
        if revealed:
            details["revealed"] = revealed
        self.store.record(actor=actor, action="case.browse", target=case.id, details=details)
        return DocumentListing(tuple(chosen[start:start + PER_PAGE]), len(chosen), where.page, pages, uploaders, queue)

    def _visible(self, case: CaseInfo, user: UserInfo) -> tuple[list[ListedDocument], list[str]]:
        now = self.store.now()
        with self.store.read() as work:
            rows = [r for r in work.session.scalars(select(DocumentRow).where(DocumentRow.case_id == case.id)
                                                    .order_by(DocumentRow.created_at))
                    if may_see_document(user.actor, r.case_id, r.status)]
            if not rows:
                return [], []
            epoch = self._reading.policy_epoch_in(work)
            display = self._reading.display_in(work, case.id, user, now, epoch=epoch)
            names = dict(work.session.execute(select(UserRow.id, UserRow.name)
                                              .where(UserRow.id.in_(sorted({r.uploaded_by for r in rows})))).all())
            found, revealed = [], set()
            for row in rows:
                integrity.check(work.session, row)  # a listing shows no status it cannot vouch for
                masked_title = self._masked_title(work, row, epoch)
                revealed.update(display.revealed_in(t for t in display.revealing if t in masked_title))
                found.append(ListedDocument(row.id, Kind(row.kind), DocumentStatus(row.status),
                                            render(masked_title, display.shown), names.get(row.uploaded_by,
                                                                                           row.uploaded_by),
                                            row.created_at, row.pending_suggestions, row.document_date))
        return found, sorted(revealed)

    def _masked_title(self, work: UnitOfWork, row: DocumentRow, epoch: int) -> str:
        """The title masked as the document page masks it (tokens, not yet rendered for a user),
        kept for the policy epoch and the masked form it was made from."""
        blob = work.latest_blob(row.id, BlobPurpose.MASKED)
        key = ("browser-title", row.id, blob.storage_name if blob is not None else "")  # one per masked form written
        cached = self.store.policy_cache.get(epoch, key)
        if isinstance(cached, str):
            return cached
        found = self._reading.masked_title(work, row, work.masked(row, blob))
        self.store.policy_cache.put(epoch, key, found)
        return found
