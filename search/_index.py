"""One encrypted Whoosh index, and what goes into it.

Each case has two indexes: the units of its released documents, and the units of its documents
in review. Investigators of a case search only the first, so its term statistics, scores, counts
and facets are built from exactly the documents they may see; reviewers search both. An index is
opened once and keeps one searcher, refreshed after commits, never reopened per query.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import UTC
from pathlib import Path

from whoosh.index import Index, LockError
from whoosh.reading import EmptyReader, SegmentReader
from whoosh.searching import Searcher
from whoosh.writing import MERGE_SMALL, SegmentWriter

from keys import SecretKey
from search._analysis import case_schema
from search._storage import EncryptedStorage
from search.errors import IndexLocked
from vault import SearchableDocument

MARK_FILE = "outbox.mark"
WRITE_LOCK_SECONDS = 30.0
MERGE_ABOVE_SEGMENTS = 8


def unit_id(document_id: str, position: int) -> str:
    return f"{document_id}:{position}"


def units_of(document: SearchableDocument) -> list[dict[str, object]]:
    """The index rows of a document: one per turn or page, masked text only."""
    date = document.created_at.astimezone(UTC).replace(tzinfo=None)
    rows = []
    for unit in document.masked.units:
        row: dict[str, object] = {
            "unit": unit_id(document.id, unit.position), "document": document.id, "version": document.version,
            "position": unit.position, "kind": document.kind.value, "date": date, "year": date.year,
            "text": unit.text, "pairs": unit.text,
        }
        if unit.speaker:
            row |= {"speaker": unit.speaker, "speaker_facet": unit.speaker}
        rows.append(row)
    return rows


def _rewrite_segments_with_deletions(writer: SegmentWriter, segments: Sequence[object]) -> list[object]:
    """A merge policy that copies every segment holding deleted documents into the new segment,
    so the deleted documents' terms leave the files (Whoosh only marks them deleted)."""
    kept = []
    for segment in segments:
        if segment.has_deletions():  # type: ignore[attr-defined]
            reader = SegmentReader(writer.storage, writer.schema, segment)
            writer.add_reader(reader)
            reader.close()
        else:
            kept.append(segment)
    return MERGE_SMALL(writer, kept) if len(kept) > MERGE_ABOVE_SEGMENTS else kept


def _merge_when_many(writer: SegmentWriter, segments: Sequence[object]) -> list[object]:
    return MERGE_SMALL(writer, segments) if len(segments) > MERGE_ABOVE_SEGMENTS else list(segments)


class CaseIndex:
    """The released or the in-review units of one case, encrypted under the case's index key."""

    def __init__(self, path: Path, key: SecretKey, index_id: str, *, cache_bytes: int) -> None:
        self.path = path
        self.storage = EncryptedStorage(path, key, index_id, cache_bytes=cache_bytes).create()
        self.index: Index = (self.storage.open_index() if self.storage.index_exists()
                             else self.storage.create_index(case_schema()))
        self._searcher: Searcher | None = None
        self._lock = threading.Lock()

    def searcher(self) -> Searcher:
        """The long-lived searcher, refreshed if a commit (of any process) came since."""
        with self._lock:
            if self._searcher is None:
                self._searcher = self.index.searcher()
            elif not self._searcher.up_to_date():
                if isinstance(self._searcher.reader(), EmptyReader):
                    # Whoosh cannot refresh a searcher of an empty index (EmptyReader.segments()
                    # is None); nothing is worth reusing there, so open a new one
                    self._searcher.close()
                    self._searcher = self.index.searcher()
                else:
                    self._searcher = self._searcher.refresh()
            return self._searcher

    def replace(self, remove: Iterable[str], add: Iterable[dict[str, object]], *, purge: bool) -> None:
        """Delete the units of documents ``remove`` and add rows ``add``, in one commit. With
        ``purge``, segments that held the deleted units are rewritten without them."""
        try:
            writer = self.index.writer(timeout=WRITE_LOCK_SECONDS)
        except LockError:
            raise IndexLocked("another process is writing the search index; try again") from None
        try:
            for document_id in remove:
                writer.delete_by_term("document", document_id)
            for row in add:
                writer.add_document(**row)
        except BaseException:
            writer.cancel()
            raise
        writer.commit(mergetype=_rewrite_segments_with_deletions if purge else _merge_when_many)

    def mark(self) -> int:
        """The last outbox id applied to this index (0 if none)."""
        if not self.storage.file_exists(MARK_FILE):
            return 0
        with self.storage.open_file(MARK_FILE) as handle:
            return int(handle.read().decode() or 0)

    def set_mark(self, value: int) -> None:
        with self.storage.create_file(MARK_FILE) as handle:
            handle.write(str(value).encode())

    def verify(self) -> None:
        """Read (decrypt and authenticate) every file of the index: IndexCorrupt if one fails.
        Done once at open; it also warms the cache of decrypted files."""
        for name in self.storage.list():
            if name.endswith((".toc", ".seg", ".mark")) and not name.startswith("."):
                self.storage.open_file(name).close()

    def doc_count(self) -> int:
        return self.searcher().doc_count()

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None
        self.index.close()
