"""One encrypted Whoosh index, and what goes into it.

Each case has two indexes: the units of its released documents, and the units of its documents
in review. Investigators of a case search only the first, so its term statistics, scores, counts
and facets are built from exactly the documents they may see; reviewers search both. An index is
opened once and keeps one searcher, refreshed after commits, never reopened per query.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from whoosh.index import Index, LockError
from whoosh.reading import MultiReader, SegmentReader
from whoosh.searching import Searcher
from whoosh.writing import MERGE_SMALL, SegmentWriter

from keys import SecretKey
from search._engine._analysis import NO_YEAR, case_schema
from search._engine._columns import SegmentColumns, SegmentLengths, segment_id
from search._engine._storage import EncryptedStorage
from search._engine._writer import UnitWriter
from search.errors import IndexCorrupt, IndexLocked, IndexWriteFailed, SearchError
from vault import SearchableDocument

MARK_FILE = "outbox.mark"
FORMAT_FILE = "format.mark"
INDEX_FORMAT = 4  # raise when the schema, the analysis or the encoding changes: older indexes are rebuilt
WRITE_LOCK_SECONDS = 30.0
MERGE_ABOVE_SEGMENTS = 8
PARALLEL_ABOVE_UNITS = 1000  # a smaller batch is written in this process: forking would cost more


def units_of(document: SearchableDocument) -> list[dict[str, object]]:
    """The index rows of a document: one per turn or page, masked text only."""
    moment = document.created_at.astimezone(UTC)
    uploaded = datetime(moment.year, moment.month, moment.day)  # date: and uploaded: search whole days
    dated = document.document_date
    day = {} if dated is None else {"date": datetime(dated.year, dated.month, dated.day)}
    rows = []
    for unit in document.masked.units:
        row: dict[str, object] = {
            "document": document.id, "version": document.version, "position": unit.position,
            "kind": document.kind.value, **day, "year": dated.year if dated else NO_YEAR,
            "uploaded": uploaded, "upload_year": uploaded.year,
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
        if self.storage.index_exists():
            self.index: Index = self.storage.open_index()
        else:
            self.index = self.storage.create_index(case_schema())
            with self.storage.create_file(FORMAT_FILE) as handle:
                handle.write(str(INDEX_FORMAT).encode())
        self._searcher: Searcher | None = None
        self._lock = threading.Lock()
        self._columns: dict[str, SegmentColumns] = {}  # by segment id
        self._lengths: dict[str, SegmentLengths] = {}  # by segment id

    def searcher(self) -> Searcher:
        """The long-lived searcher, refreshed if a commit (of any process) came since."""
        with self._lock:
            if self._searcher is None:
                self._searcher = self.index.searcher()
            elif not self._searcher.up_to_date():
                self._searcher = self._refreshed(self._searcher)
                live = {segment_id(reader) for reader, _ in self._searcher.reader().leaf_readers()}
                for gone in set(self._columns) - live:  # merged away
                    del self._columns[gone]
                for gone in set(self._lengths) - live:
                    del self._lengths[gone]
            return self._searcher

    def _refreshed(self, searcher: Searcher) -> Searcher:
        """A searcher of the latest commit, keeping the readers of segments that did not change.

        Not Whoosh's ``Searcher.refresh``: it keeps a reader whenever its segment's id is still
        there, with the deletions it was opened with (a release deletes a unit from the review
        index; the reader went on counting it), and it adds back every segment the new commit no
        longer lists (a purge's rewrite left the old segment, with the re-masked unit's old
        terms, in the searcher). Here the readers are exactly the commit's segments, and one
        whose deletions changed is opened again. Readers replaced are not closed: another
        thread's search may still be reading them; their files are bytes in memory, no handles.
        """
        toc = self.index._read_toc()
        kept = {segment_id(reader): reader for reader, _ in searcher.reader().leaf_readers()}
        readers = []
        for segment in toc.segments:
            reader = kept.get(segment.segment_id())
            if reader is None or reader.segment().deleted_count() != segment.deleted_count():
                reader = SegmentReader(self.storage, toc.schema, segment, generation=toc.generation)
            readers.append(reader)
        if not readers:
            return self.index.searcher()
        reader = readers[0] if len(readers) == 1 else MultiReader(readers, generation=toc.generation)
        return Searcher(reader, fromindex=self.index)

    def columns(self, reader: SegmentReader) -> SegmentColumns:
        """The facet values and the day of every unit of one segment, read once: a segment never
        changes (a deleted unit keeps its values but never matches)."""
        if not isinstance(reader, SegmentReader):  # an empty index: nothing matches
            return SegmentColumns.read(reader)
        key = segment_id(reader)
        columns = self._columns.get(key)
        if columns is None:
            columns = self._columns[key] = SegmentColumns.read(reader)
        return columns

    def segment_lengths(self, reader: SegmentReader) -> SegmentLengths:
        """The field lengths of one segment's units, for scoring in bulk (read once per field)."""
        key = segment_id(reader)
        lengths = self._lengths.get(key)
        if lengths is None:
            lengths = self._lengths.setdefault(key, SegmentLengths(reader))
        return lengths

    @contextmanager
    def writing(self, *, purge: bool, procs: int = 1) -> Iterator[UnitWriter]:
        """A writer of this index, holding its write lock, that commits when the block ends (or
        is cancelled if it raises). With ``purge``, segments that held deleted units are
        rewritten without them. A batch past PARALLEL_ABOVE_UNITS is written by ``procs``
        processes."""
        try:
            writer = UnitWriter(self.index, timeout=WRITE_LOCK_SECONDS, procs=procs,
                                parallel_above=PARALLEL_ABOVE_UNITS)
        except LockError:
            raise IndexLocked("another process is writing the search index; try again") from None
        try:
            yield writer
            try:
                writer.commit(mergetype=_rewrite_segments_with_deletions if purge else _merge_when_many)
            except (SearchError, OSError):
                raise
            except Exception:  # Whoosh failed inside its commit (an assertion, say): nothing is committed
                raise IndexWriteFailed("the search index could not commit a batch; nothing of it was "
                                       "committed, and it is written again from the outbox") from None
        except BaseException:
            # a failed commit too: the writer holds the write lock (and its temporary files)
            # until it is cancelled, and an exception kept alive keeps the writer alive
            if not writer.is_closed:
                writer.cancel()
            raise

    def replace(self, remove: Iterable[str], add: Iterable[dict[str, object]], *, purge: bool,
                procs: int = 1) -> None:
        """Delete the units of documents ``remove`` and add rows ``add``, in one commit."""
        with self.writing(purge=purge, procs=procs) as writer:
            for document_id in remove:
                writer.delete_by_term("document", document_id)
            writer.add_units(add)

    def mark(self) -> int:
        """The last outbox id applied to this index (0 if none)."""
        if not self.storage.file_exists(MARK_FILE):
            return 0
        with self.storage.open_file(MARK_FILE) as handle:
            return int(handle.read().decode() or 0)

    def set_mark(self, value: int) -> None:
        with self.storage.create_file(MARK_FILE) as handle:
            handle.write(str(value).encode())

    def check(self) -> None:
        """Remove what interrupted writers left behind, then ``verify``: IndexCorrupt (or OSError)
        if the index cannot be trusted and must be rebuilt."""
        self.storage.sweep_orphans()
        self.verify()

    def verify(self) -> None:
        """Read (decrypt and authenticate) every file of the index: IndexCorrupt if one fails.
        Done once at open; it also warms the cache of decrypted files. An index of an older
        format is IndexCorrupt too: it is rebuilt."""
        if not self.storage.file_exists(FORMAT_FILE):
            raise IndexCorrupt(f"{FORMAT_FILE} is missing: an index from an older version")
        with self.storage.open_file(FORMAT_FILE) as handle:
            if handle.read() != str(INDEX_FORMAT).encode():
                raise IndexCorrupt(f"index format is not {INDEX_FORMAT}: an index from another version")
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


def replace_documents(indexes: Mapping[object, CaseIndex], remove: Iterable[str],
                      documents: Iterable[SearchableDocument], *, purge: bool, procs: int = 1) -> None:
    """Remove the units of ``remove`` from every index of ``indexes`` (one per document status),
    then add the units of each of ``documents`` to the index of its status, in one commit per
    index. Documents are read (from the vault, say) while the units before them are being
    indexed, by other processes in a large batch."""
    remove = list(remove)
    with ExitStack() as stack:
        writers = {status: stack.enter_context(index.writing(purge=purge, procs=procs))
                   for status, index in indexes.items()}
        for writer in writers.values():
            for document_id in remove:
                writer.delete_by_term("document", document_id)
        for document in documents:
            if document.status in writers:
                writers[document.status].add_units(units_of(document))
