"""The feed: the one port the search package reads the vault through.

The search indexes follow the outbox (``index_changes``), take each changed document's masked
form (``searchable``), re-check every hit against the database (``document_states``) and render
it through the policy (``visible_cases``, ``display``). Nothing here hands out text in clear.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from sqlalchemy import func, select

from keys import IntegrityFailed, SecretKey
from vault import _integrity as integrity
from vault import _policy as policy
from vault._ingest._model import Kind
from vault._masking import MaskedDocument
from vault._models import BlobRow, CaseRow, DocumentRow, IndexOutboxRow
from vault._reading import Reading
from vault._store import Store, UnitOfWork, valid_id
from vault._users import UserInfo
from vault._views import BlobPurpose, CaseInfo, Display, DocumentStatus, IndexChange, SearchableDocument
from vault.errors import Conflict, StateTampered


class Feed:
    """What the search indexes follow, and what a search re-checks and renders its hits with."""

    def __init__(self, store: Store, reading: Reading) -> None:
        self.store = store
        self._reading = reading

    def index_key(self, case_id: str) -> SecretKey:
        """The key a case's search index is encrypted under (wrapped by the case key)."""
        with self.store.read() as work:
            return work.index_key(case_id)

    def index_changes(self, after: int, limit: int = 500) -> list[IndexChange]:
        """Outbox rows after id ``after``, oldest first."""
        with self.store.read() as work:
            rows = work.session.execute(
                select(IndexOutboxRow.id, IndexOutboxRow.case_id, IndexOutboxRow.document_id, IndexOutboxRow.purge)
                .where(IndexOutboxRow.id > after).order_by(IndexOutboxRow.id).limit(limit))
            return [IndexChange(*row) for row in rows]

    def purge_pending(self, case_ids: list[str], after: int) -> bool:
        """Whether an outbox row after id ``after`` for one of ``case_ids`` rewrites a document's
        terms away (a re-masking): an index behind such a row may still hold the old terms."""
        with self.store.read() as work:
            return work.session.scalar(select(IndexOutboxRow.id).where(
                IndexOutboxRow.id > after, IndexOutboxRow.purge.is_(True),
                IndexOutboxRow.case_id.in_(case_ids)).limit(1)) is not None

    def latest_index_change(self) -> int:
        """The highest outbox id (0 when there is none)."""
        with self.store.read() as work:
            return work.session.scalar(select(func.max(IndexOutboxRow.id))) or 0

    def searchable(self, document_id: str) -> SearchableDocument | None:
        """The masked form of a document as an index should hold it, or None if it is gone.
        A document masked before its scope's latest identity change is masked again first, so
        no name registered since reaches an index."""
        for attempt in range(3):
            try:
                self.store.fresh(document_id, "search.index")
                with self.store.read() as work:
                    row = work.session.get(DocumentRow, document_id)
                    if row is None or not self._intact(work, row):
                        return None  # a tampered document leaves the indexes (reported)
                    blob = work.latest_blob(document_id, BlobPurpose.MASKED)
                    reader = work.open_blob(row, BlobPurpose.MASKED, blob)
                    found = (row.case_id, Kind(row.kind), DocumentStatus(row.status), blob.version, row.created_at)  # type: ignore[union-attr]
                    dated = row.document_date
                with reader:
                    masked = MaskedDocument.from_json(reader.read())
                return SearchableDocument(document_id, *found, masked, dated)
            except (Conflict, IntegrityFailed):
                # re-masked under our feet: the superseded blob is gone; read the new one
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def searchables(self, document_ids: Iterable[str], *, chunk: int = 200) -> Iterator[SearchableDocument]:
        """``searchable`` of each document that exists, in the order given, read a chunk at a
        time in one unit: one query for the stale ones, one for the rows and one for their masked
        blobs, instead of four queries per document. A stale document, or one re-masked between
        the query and the read, goes through ``searchable`` on its own (masked again first)."""
        ids = list(document_ids)
        for start in range(0, len(ids), chunk):
            part = [i for i in ids[start:start + chunk] if valid_id(i)]
            found: dict[str, SearchableDocument] = {}
            with self.store.read() as work:
                alone = set(work.stale(part)) if part else set()
                rows = {row.id: row for row in work.session.scalars(select(DocumentRow).where(DocumentRow.id.in_(part)))}
                blobs: dict[str, BlobRow] = {}
                for blob in work.session.scalars(select(BlobRow).where(BlobRow.document_id.in_(part),
                                                                       BlobRow.purpose == BlobPurpose.MASKED.value)):
                    if blob.document_id not in blobs or blob.version > blobs[blob.document_id].version:
                        blobs[blob.document_id] = blob
                for document_id, row in rows.items():
                    blob = blobs.get(document_id)
                    if not self._intact(work, row):
                        continue  # a tampered document leaves the indexes (reported)
                    if document_id in alone or blob is None:
                        alone.add(document_id)
                        continue
                    try:
                        masked = work.masked(row, blob)
                    except IntegrityFailed:  # replaced since the query
                        alone.add(document_id)
                        continue
                    found[document_id] = SearchableDocument(document_id, row.case_id, Kind(row.kind),
                                                            DocumentStatus(row.status), blob.version,
                                                            row.created_at, masked, row.document_date)
            for document_id in part:
                document = self.searchable(document_id) if document_id in alone else found.get(document_id)
                if document is not None:
                    yield document

    def masked_titles(self, documents: Iterable[tuple[str, MaskedDocument]]) -> dict[str, str]:
        """The titles of documents, each masked as its document view shows it (still holding
        identity tokens: a search renders them through the reader's display), for a search to show
        with its hits. A document gone since is left out."""
        found: dict[str, str] = {}
        with self.store.read() as work:
            for document_id, masked in documents:
                row = work.session.get(DocumentRow, document_id) if valid_id(document_id) else None
                if row is not None:
                    found[document_id] = self._reading.masked_title(work, row, masked)
        return found

    def existing_cases(self, case_ids: Iterable[str]) -> set[str]:
        """Those of ``case_ids`` that exist: a follower drops the index of a destroyed case."""
        ids = [i for i in set(case_ids) if valid_id(i)]
        if not ids:
            return set()
        with self.store.read() as work:
            return set(work.session.scalars(select(CaseRow.id).where(CaseRow.id.in_(ids))))

    def _intact(self, work: UnitOfWork, row: DocumentRow) -> bool:
        """Whether a document's row carries its MAC. One that does not is left out of the
        indexes and reported, rather than stopping every other document's indexing."""
        try:
            integrity.check(work.session, row)
            return True
        except StateTampered as error:
            self.store.report_tampering(error)  # its own transaction: a read unit holds no lock
            return False

    def searchable_documents(self, case_id: str) -> list[str]:
        with self.store.read() as work:
            return list(work.session.scalars(select(DocumentRow.id).where(DocumentRow.case_id == case_id)
                                             .order_by(DocumentRow.created_at)))

    def document_states(self, document_ids: Iterable[str]) -> dict[str, tuple[str, DocumentStatus, int]]:
        """(case, status, masked version) of each document that exists, to re-check search hits."""
        ids = [i for i in set(document_ids) if valid_id(i)]
        if not ids:
            return {}
        with self.store.read() as work:
            rows = work.session.execute(
                select(DocumentRow.id, DocumentRow.case_id, DocumentRow.status, DocumentRow.uploaded_by,
                       DocumentRow.mac, BlobRow.version)
                .join(BlobRow, (BlobRow.document_id == DocumentRow.id) & (BlobRow.purpose == BlobPurpose.MASKED.value))
                .where(DocumentRow.id.in_(ids))).all()
            for i, c, st, by, mac, _ in rows:  # a hit whose status was forged refuses the search
                integrity.check_values(work.session, DocumentRow, (i, c, st, by), mac)
            return {i: (c, DocumentStatus(st), v) for i, c, st, _, _, v in rows}

    def heads(self) -> tuple[int, int]:
        """(policy epoch, highest outbox id), read in one statement: what a search needs to know
        whether anything it keeps (decrypted policy state, index contents) has moved."""
        with self.store.read() as work:
            epoch, latest = work.session.execute(
                select(policy.epoch_query(), select(func.max(IndexOutboxRow.id)).scalar_subquery())).one()
        return int(epoch or 0), int(latest or 0)

    def policy_epoch(self) -> int:
        return self._reading.policy_epoch()

    def visible_cases(self, user: UserInfo, *, epoch: int | None = None) -> list[tuple[CaseInfo, frozenset[DocumentStatus]]]:
        """The cases ``user`` may search, each with the document statuses they may see there."""
        return self._reading.visible_cases(user, epoch=epoch)

    def display(self, case_id: str, user: UserInfo, now: datetime | None = None, *,
                epoch: int | None = None) -> Display:
        """How ``user`` sees the identity tokens of a case's masked text (``Reading.display``)."""
        return self._reading.display(case_id, user, now, epoch=epoch)
