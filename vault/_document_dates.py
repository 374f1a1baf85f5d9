"""A document's own date, set or cleared by a reviewer of its case.

Ingest finds it where it can (``vault._ingest._dating``); a reviewer corrects it, in review or
after release: it is metadata, not masking, so a released document keeps its status. The change
is audited (who, which document of which case, the day set or none: the day is shown to the
case's reviewers, not to admins, whose listing keeps only ``ADMIN_DETAILS``) and goes through the
outbox, so every search index holds the new date for ``date:``, the year facet and the hits.

Documents stored before document dates existed get theirs from the format step
``document-dates`` (``casevault upgrade``): their extracted text is read again and dated as
ingest would (a transcript's header was not kept, so only its text counts). The search indexes
are rebuilt after it anyway (their format changed with the new fields).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import func, select

from redaction import Permission, permits
from vault._ingest._dating import MAX_YEAR, MIN_YEAR, document_date
from vault._ingest._model import Extracted
from vault._models import DocumentRow
from vault._store import Store
from vault._users import UserInfo
from vault._views import BlobPurpose, DocumentInfo
from vault.errors import Forbidden, InvalidInput


def parse_day(text: str | None) -> date | None:
    """A day typed as YYYY-MM-DD, None for nothing typed; InvalidInput for anything else."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise InvalidInput("a document date is a day written YYYY-MM-DD (2023-03-14), or nothing to clear it")
    return day


class DocumentDates:
    """Setting and clearing documents' own dates."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def set(self, document_id: str, user: UserInfo, day: date | str | None, *, actor: str) -> DocumentInfo:
        """Set the document's date to ``day`` (a date, or YYYY-MM-DD), or clear it with None or
        "". Only a reviewer of the document's case may (Forbidden otherwise; NotFound for a
        document the user may not see, as for none)."""
        if not isinstance(day, date):
            day = parse_day(day)
        if day is not None and not MIN_YEAR <= day.year <= MAX_YEAR:
            raise InvalidInput(f"a document date lies between {MIN_YEAR} and {MAX_YEAR}")
        with self.store.write() as work:
            row = work.visible_document(document_id, user.actor)
            decision = permits(user.actor, Permission.DOCUMENT_REVIEW, row.case_id)
            if not decision:
                raise Forbidden(decision.reason)
            if row.document_date != day:
                row.document_date = day
                work.session.flush()
                work.audit(actor=actor, action="document.date", target=document_id,
                           details={"user": user.id, "case": row.case_id,
                                    "date": day.isoformat() if day else None})
                work.enqueue_index(row.case_id, document_id)
            return work.document_info(row, {})


UPGRADE_BATCH = 100


def remaining(store: Store) -> int:
    """Documents without a date yet (the format step's progress bar: some stay without one)."""
    with store.read() as work:
        return int(work.session.scalar(select(func.count()).select_from(DocumentRow)
                                       .where(DocumentRow.document_date.is_(None))) or 0)


def run(store: Store, advance: Callable[[int], None]) -> None:
    """The format step ``document-dates`` (``vault._formats``): date each document without a
    date from its extracted text, a batch per transaction. Run again after a stop, it reads the
    undated ones again and finds what it found before; a date already set is never changed."""
    after = ""
    while True:
        with store.write() as work:
            rows = work.session.scalars(select(DocumentRow).where(DocumentRow.document_date.is_(None),
                                                                  DocumentRow.id > after)
                                        .order_by(DocumentRow.id).limit(UPGRADE_BATCH)).all()
            for row in rows:
                with work.open_blob(row, BlobPurpose.CONTENT) as reader:
                    extracted = Extracted.from_json(reader.read())
                row.document_date = document_date(extracted.text)
        if not rows:
            return
        after = rows[-1].id
        advance(len(rows))
