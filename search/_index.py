"""One encrypted Whoosh index, and what goes into it.

Each case has two indexes: the units of its released documents, and the units of its documents
in review. Investigators of a case search only the first, so its term statistics, scores, counts
and facets are built from exactly the documents they may see; reviewers search both. An index is
opened once and keeps one searcher, refreshed after commits, never reopened per query.
"""

from __future__ import annotations

import threading
from array import array
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from heapq import heappush, heapreplace
from pathlib import Path

from whoosh.collectors import TopCollector
from whoosh.index import Index, LockError
from whoosh.reading import MultiReader, SegmentReader
from whoosh.searching import Searcher
from whoosh.writing import MERGE_SMALL, SegmentWriter

from keys import SecretKey
from search._analysis import DAY_MICROSECONDS, case_schema
from search._bulk import SegmentLengths
from search._storage import EncryptedStorage
from search._writer import UnitWriter
from search.errors import IndexCorrupt, IndexLocked
from vault import SearchableDocument
from vault.errors import InvalidInput

MARK_FILE = "outbox.mark"
FORMAT_FILE = "format.mark"
INDEX_FORMAT = 3  # raise when the schema, the analysis or the encoding changes: older indexes are rebuilt
WRITE_LOCK_SECONDS = 30.0
MERGE_ABOVE_SEGMENTS = 8
PARALLEL_ABOVE_UNITS = 1000  # a smaller batch is written in this process: forking would cost more


FACETS = {"kind": "kind", "year": "year", "speaker": "speaker_facet"}  # facet: column


class Sort(StrEnum):
    """The orders of a search: by relevance, or by the day each document came in, newest or
    oldest first (within a day, the more relevant first)."""

    RELEVANCE = "relevance"
    NEWEST = "newest"
    OLDEST = "oldest"

    @classmethod
    def named(cls, value: str) -> Sort:
        try:
            return cls(value)
        except ValueError:
            raise InvalidInput("sort is one of " + ", ".join(cls)) from None

    @property
    def day_sign(self) -> int:
        """How the day weighs in the order: 1 newest first, -1 oldest first, 0 not at all."""
        return {Sort.NEWEST: 1, Sort.OLDEST: -1}.get(self, 0)


def units_of(document: SearchableDocument) -> list[dict[str, object]]:
    """The index rows of a document: one per turn or page, masked text only."""
    moment = document.created_at.astimezone(UTC)
    day = datetime(moment.year, moment.month, moment.day)  # date: searches whole days
    rows = []
    for unit in document.masked.units:
        row: dict[str, object] = {
            "document": document.id, "version": document.version, "position": unit.position,
            "kind": document.kind.value, "date": day, "year": day.year,
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


@dataclass(frozen=True, slots=True)
class SegmentColumns:
    """What a search reads of every unit of one segment, read once per segment."""

    facets: dict[str, list[object]]  # facet: the value of each unit
    days: Sequence[int]  # the day each unit's document came in, as ``date.toordinal()``


def _segment_id(reader: object) -> str:
    segment = reader.segment() if isinstance(reader, SegmentReader) else None
    return segment.segment_id() if segment is not None else ""  # "": an empty index


class CountingCollector(TopCollector):
    """The best ``limit`` matches in the order ``sort``, and the facet counts of every match.

    Whoosh's own facets (``groupedby``) open every facet column of every segment again for
    each query and turn each match into a key through three calls per facet; here the columns
    of a segment are read once (``CaseIndex.columns``, segments never change) and a match
    costs one list append, counted per segment in bulk. A date sort keeps the best by the key
    (day, score), or (-day, score) for the oldest first, in Whoosh's own heap: a hit's ``score``
    is then that key (``relevance`` takes the score back out). Whoosh's ``sortedby`` would lose
    these counts and read the sort column again per query. The counts need every match, not only
    those that could make the page: block-quality skipping is off, and the lowest score on the
    page is never handed to the matcher (``minscore`` stays 0; given it, Whoosh's ``replace``
    turns an OR into an AND-maybe when one side alone cannot reach it).
    """

    def __init__(self, limit: int, columns: Callable[[SegmentReader], SegmentColumns],
                 sort: Sort = Sort.RELEVANCE) -> None:
        super().__init__(limit=limit, usequality=False)
        self._columns = columns
        self._day_sign = sort.day_sign
        self.facets: dict[str, Counter[object]] = {name: Counter() for name in FACETS}
        self._segment = SegmentColumns({}, ())
        self._matched: list[int] = []
        self._offsets: list[int] = []  # of the segments searched, and their columns
        self._segments: list[SegmentColumns] = []

    def set_subsearcher(self, subsearcher, offset):  # type: ignore[no-untyped-def]
        self._count()
        super().set_subsearcher(subsearcher, offset)
        self._segment = self._columns(subsearcher.reader())
        self._offsets.append(offset)
        self._segments.append(self._segment)

    def collect(self, sub_docnum):  # type: ignore[no-untyped-def]
        self._matched.append(sub_docnum)
        return super().collect(sub_docnum)

    def _collect(self, global_docnum, score):  # type: ignore[no-untyped-def]
        # TopCollector._collect with the key of the sort, and without ``self.minscore = items[0][0]``;
        # among equal keys the lower docnum stays (matches come in docnum order)
        if self._day_sign:
            score = (self._day_sign * self._segment.days[global_docnum - self.offset], score)
        self.total += 1
        item = (score, -global_docnum)
        if len(self.items) < self.limit:
            heappush(self.items, item)
        elif score > self.items[0][0]:
            heapreplace(self.items, item)
        return score

    @staticmethod
    def relevance(key: float | tuple[int, float] | None) -> float:
        """The relevance score in a hit's ``score`` (a key, for a date sort)."""
        return (key[1] if isinstance(key, tuple) else key) or 0.0

    def day(self, docnum: int) -> int:
        """The day (``date.toordinal()``) of a unit found, by its top-level docnum."""
        segment = bisect_right(self._offsets, docnum) - 1
        return self._segments[segment].days[docnum - self._offsets[segment]]

    def finish(self):  # type: ignore[no-untyped-def]
        self._count()
        super().finish()

    def _count(self) -> None:
        if self._matched:
            for name, values in self._segment.facets.items():
                self.facets[name].update(map(values.__getitem__, self._matched))
            self._matched = []


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
                live = {_segment_id(reader) for reader, _ in self._searcher.reader().leaf_readers()}
                for segment_id in set(self._columns) - live:  # merged away
                    del self._columns[segment_id]
                for segment_id in set(self._lengths) - live:
                    del self._lengths[segment_id]
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
        kept = {_segment_id(reader): reader for reader, _ in searcher.reader().leaf_readers()}
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
            return SegmentColumns({name: [] for name in FACETS}, ())
        segment_id = _segment_id(reader)
        columns = self._columns.get(segment_id)
        if columns is None:
            facets = {name: list(reader.column_reader(column)) for name, column in FACETS.items()}
            raw = reader.column_reader("date", translate=False)  # whole days: see units_of
            columns = SegmentColumns(facets, array("i", (value // DAY_MICROSECONDS + 1 for value in raw)))
            self._columns[segment_id] = columns
        return columns

    def segment_lengths(self, reader: SegmentReader) -> SegmentLengths:
        """The field lengths of one segment's units, for scoring in bulk (read once per field)."""
        segment_id = _segment_id(reader)
        lengths = self._lengths.get(segment_id)
        if lengths is None:
            lengths = self._lengths.setdefault(segment_id, SegmentLengths(reader))
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
            writer.commit(mergetype=_rewrite_segments_with_deletions if purge else _merge_when_many)
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
