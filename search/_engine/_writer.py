"""Writing index units fast, in Whoosh's own segment format, with both cores.

Whoosh's ``SegmentWriter`` sends every posting through a general pipeline: a tuple into an
external sorting pool (pickled to disk and read back once the pool passes its memory limit), a
sorted merge, then per posting a lookup of the document's field length (a file-existence check
each time for a field without lengths) and a call into the postings writer, and per term a
terminfo object and a hash-table insert. A transcript turn has about forty postings, half of them
word pairs that occur once, so that pipeline, not the analysis, is what indexing costs.

``UnitWriter`` is a ``SegmentWriter`` that keeps the postings of the documents added to it in
memory, per field and term, and writes them in one pass: a term with few postings becomes its
inlined terminfo bytes directly, a longer list is cut into Whoosh's blocks a block at a time, and
the term dictionary is appended in one write. Everything else (stored fields, columns, lengths,
deletions, merges, the TOC, the lock) is Whoosh's own, and the files it writes are the bytes
Whoosh's writer writes for the same documents (a test holds them equal), so every reader,
matcher and merge of Whoosh reads them as its own.

``add_units(rows)`` takes rows as they come. A batch that passes ``parallel_above`` rows, with
``procs`` > 1, starts ``procs`` forked processes and deals the rows out to them in chunks through
pipes while this process goes on producing them (reading the next documents from the vault);
each process writes one segment and sends back its description, and the commit lists them all
in one TOC. A process that fails, or dies, fails the commit: nothing of the batch becomes
visible. (Whoosh's own ``MpWriter`` waits one second for each child's answer and commits without
the segments that did not come.)
"""

from __future__ import annotations

import functools
import gc
import heapq
import itertools
import multiprocessing
import pickle
import secrets
import struct
from array import array
from collections.abc import Iterable, Iterator
from datetime import datetime
from hashlib import md5

from whoosh.codec.base import Segment
from whoosh.codec.whoosh3 import W3Codec, W3PostingsWriter, W3TermInfo
from whoosh.filedb.filetables import OrderedHashWriter, md5_hash
from whoosh.system import pack_ushort
from whoosh.util import IDCHARS
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from search.errors import IndexWriteFailed

INLINE_POSTINGS = 8  # a term with fewer postings keeps them in its term entry
_SHORT_VALUE = 100  # characters: a value this short is analysed once per writer (see _analysed)
_ANALYSES_KEPT = 4096
_CHUNK_ROWS = 250  # rows per message to a forked writer



def unique_name(size: int = 16) -> str:
    """A file or segment name from the operating system's randomness. Whoosh draws its names from
    the process's shared ``random``, which anything in the process may seed (Hypothesis does
    before each example): two segments named alike then made the second commit fail, or
    overwrite the first."""
    return "".join(secrets.choice(IDCHARS) for _ in range(size))


Segment._random_id = classmethod(lambda _cls, size=16: unique_name(size))  # every segment Whoosh makes

_TERMINFO = W3TermInfo._struct  # flags, total weight, doc freq, min/max length byte, max weight, first/last id
_KEY_VALUE_LENGTHS = struct.Struct("!ii")  # what OrderedHashWriter writes before each key and value


class _InliningPostingsWriter(W3PostingsWriter):
    """Whoosh's postings writer, with its inlining of short posting lists working: W3's own calls
    ``terminfo.set_inline``, a method that does not exist (``set_inlined`` does), so its
    ``inlinelimit`` only works at 1, which inlines nothing. Every rare term, and most word pairs
    are rare, then cost a pickled, compressed block of its own.

    A field without posting values (``Existence``: document, kind, date, year, speaker_facet)
    adds no value to ``_values``; inlined as it is, Whoosh's ``ListMatcher.value()`` reads the
    empty list back as ``""`` (a str), and a merge (``add_reader``: a purge's rewrite, or
    MERGE_SMALL) then fails in ``PostingPool.add`` (``assert isinstance(vbytes, bytes)``). So an
    empty ``b""`` is inlined per posting instead, as Whoosh's own blocks give (None, not a str)."""

    def finish_postings(self):  # type: ignore[no-untyped-def]
        terminfo = self._terminfo
        if not self.written() and len(self) < self._inlinelimit:
            terminfo.add_block(self)
            terminfo.set_inlined(self._ids, self._weights, self._values or (b"",) * len(self._ids))
            self._terminfo = None
            return terminfo
        return super().finish_postings()


class CaseCodec(W3Codec):
    def __init__(self) -> None:
        super().__init__(inlinelimit=INLINE_POSTINGS)

    def postings_writer(self, dbfile, byteids=False):  # type: ignore[no-untyped-def]
        return _InliningPostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids,
                                       compression=self._compression, inlinelimit=self._inlinelimit)


# A posting as gathered: (docnum, weight, value bytes)
_Posting = tuple[int, float, bytes]


class UnitWriter(SegmentWriter):
    """A ``SegmentWriter`` whose added documents' postings are gathered in memory and written in
    one pass (module docstring). Takes the index's write lock like any writer."""

    def __init__(self, ix, *, procs: int = 1, parallel_above: int = 1000, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("codec", CaseCodec())
        super().__init__(ix, **kwargs)
        self.procs = procs
        self.parallel_above = parallel_above
        self._ix = ix  # for the forked processes: the same storage, schema and TOC
        # the term dictionary's writer, as a _TermTable (a subclass adding no state)
        self.fieldwriter._tindex.__class__ = _TermTable
        for name, field in self.schema.items():
            if field.vector or field.separate_spelling():
                raise ValueError(f"field {name!r}: UnitWriter writes no term vectors or spelling words")
        # field name -> term bytes -> postings in docnum order
        self._postings: dict[str, dict[bytes, list[_Posting]]] = {}
        # field name -> docnum -> the length Whoosh reads back for it (byte-rounded)
        self._lengths: dict[str, dict[int, int]] = {}
        self._buffer: list[dict[str, object]] = []  # rows given to add_units, not yet added or sent
        self._children: list[_Child] = []
        self._analyses: dict[tuple[str, type, object], tuple[tuple, int, tuple | None]] = {}

    def add_document(self, **fields):  # type: ignore[no-untyped-def]
        """Add one document. Its analysis and column values are computed before anything is
        written, so a bad value fails the document without leaving a part of it behind."""
        self._check_state()
        schema = self.schema
        names = sorted(fields)  # Whoosh's "_boost" and "_stored_*" options are unknown fields here
        self._check_fields(schema, names)
        prepared = []
        for name in names:
            value = fields[name]
            if value is not None:
                field = schema[name]
                prepared.append((name, field, value if field.stored else None, *self._analysed(name, field, value)))

        docnum = self.docnum
        perdoc = self.perdocwriter
        perdoc.start_doc(docnum)
        for name, field, stored, items, length, column in prepared:
            if items:
                terms = self._postings.get(name)
                if terms is None:
                    self._postings[name] = terms = {}
                for tbytes, _freq, weight, vbytes in items:
                    postings = terms.get(tbytes)
                    if postings is None:
                        terms[tbytes] = postings = []
                    postings.append((docnum, weight, vbytes or b""))
                if length:
                    self._lengths.setdefault(name, {})[docnum] = byte_to_length(length_to_byte(length))
            perdoc.add_field(name, field, stored, length)
            if column:
                perdoc.add_column_value(name, *column)
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def _analysed(self, name: str, field, value: object) -> tuple[tuple, int, tuple | None]:  # type: ignore[no-untyped-def]
        """(postings items, field length, (column, column value) or None) of one value. Short
        values repeat from unit to unit (a document's id, kind and day, a speaker), and a field's
        analysis is a function of the value, so those are computed once per writer."""
        key = (name, type(value), value) if isinstance(value, (int, datetime)) or (
            isinstance(value, str) and len(value) <= _SHORT_VALUE) else None
        found = self._analyses.get(key) if key else None
        if found is None:
            items = tuple(field.index(value)) if field.indexed else ()
            length = sum(item[1] for item in items) if field.scorable else 0
            column = (field.column_type, field.to_column_value(value)) if field.column_type else None
            found = (items, length, column)
            if key:
                if len(self._analyses) >= _ANALYSES_KEPT:
                    self._analyses.clear()
                self._analyses[key] = found
        return found

    def add_units(self, rows: Iterable[dict[str, object]]) -> None:
        """Add rows (index units). Up to ``parallel_above`` rows are kept until the commit and
        added in this process; past that, with ``procs`` > 1, ``procs`` forked processes start
        and every row goes to them in chunks, each process writing one new segment while this
        one produces the next rows (reading them from the vault, say)."""
        buffer = self._buffer
        for row in rows:
            buffer.append(row)
            if len(buffer) >= _CHUNK_ROWS if self._children else (
                    self.procs > 1 and len(buffer) > self.parallel_above):
                self._send(buffer)
                self._buffer = buffer = []

    def _send(self, rows: list[dict[str, object]]) -> None:
        """Start the processes if need be, and deal ``rows`` out to them in turn."""
        if not self._children:
            self._children = [_Child(self) for _ in range(self.procs)]
            self._turn = 0
        size = min(_CHUNK_ROWS, -(-len(rows) // len(self._children)))
        for start in range(0, len(rows), size):
            self._children[self._turn % len(self._children)].send(rows[start:start + size])
            self._turn += 1

    def commit(self, mergetype=None, optimize=None, merge=None):  # type: ignore[no-untyped-def]
        # SegmentWriter.commit, with the rows still buffered and the forked processes' segments
        self._check_state()
        forked = []
        if self._children:
            self._send(self._buffer)
            for child in self._children:  # all told first, then waited for: they finish at once
                child.send(None)
            results = [child.finish() for child in self._children]
            self._children = []
            failed = [r for r in results if isinstance(r, IndexWriteFailed)]
            if failed:
                raise failed[0]
            forked = [segment for segment in results if segment is not None]
        else:
            for row in self._buffer:
                self.add_document(**row)
        self._buffer = []
        segments = self._merge_segments(mergetype, optimize, merge)
        if self._added:
            segments.append(self._finalize_segment())
        else:
            self._close_segment()
        self._commit_toc(segments + forked)
        self._finish()

    def cancel(self):  # type: ignore[no-untyped-def]
        for child in self._children:
            child.stop()
        self._children = []
        self._buffer = []
        super().cancel()

    # -- writing the postings ------------------------------------------------------------------

    def _flush_segment(self):  # type: ignore[no-untyped-def]
        self.perdocwriter.close()
        if self.pool.current or self.pool.runs:
            # a merge policy added segments' postings through Whoosh's pool (add_reader): write
            # both streams through Whoosh's own path, merged in order
            lengths = _Lengths(self.per_document_reader(), self.schema)
            postings = heapq.merge(self._sorted_postings(), self.pool.iter_postings())
            self.fieldwriter.add_postings(self.schema, lengths, postings)
            lengths.close()
        else:
            self._write_postings()
        self.fieldwriter.close()

    def _sorted_postings(self) -> Iterator[tuple[str, bytes, int, float, bytes]]:
        for name in sorted(self._postings):
            terms = self._postings[name]
            for tbytes in sorted(terms):
                for docnum, weight, vbytes in terms[tbytes]:
                    yield name, tbytes, docnum, weight, vbytes

    def _write_postings(self) -> None:
        fieldwriter = self.fieldwriter
        tindex = fieldwriter._tindex
        for name in sorted(self._postings):
            terms = self._postings[name]
            field = self.schema[name]
            fieldwriter.start_field(name, field)
            postwriter = fieldwriter._postwriter
            lengths = self._lengths.get(name, {})
            inline_below = postwriter._inlinelimit

            def terminfo(postings: list[_Posting]) -> bytes:
                if len(postings) == 1:  # most terms: word pairs seen once
                    docnum, weight, value = postings[0]
                    return _singleton_terminfo(docnum, weight, value, lengths.get(docnum, 0))
                if len(postings) < inline_below:
                    return _inlined_terminfo(postings, lengths)
                return _written_terminfo(postwriter, field.format, postings, lengths)

            ordered = sorted(terms)
            prefix = pack_ushort(fieldwriter._fieldid)
            tindex.append_sorted([prefix + tbytes for tbytes in ordered],
                                 [terminfo(terms[tbytes]) for tbytes in ordered])
            fieldwriter.finish_field()


def _inlined_terminfo(postings: list[_Posting], lengths: dict[int, int]) -> bytes:
    """The bytes of ``W3TermInfo.to_bytes()`` for a posting list kept inside its term entry, as
    ``_InliningPostingsWriter`` makes it."""
    ids = tuple(p[0] for p in postings)
    weights = tuple(array("f", [p[1] for p in postings]))  # Whoosh keeps weights as float32
    values = tuple(p[2] for p in postings if p[2]) or (b"",) * len(ids)
    found = [length for length in map(lengths.get, ids) if length]
    head = _TERMINFO.pack(True, sum(weights), len(ids),
                          length_to_byte(min(found)) if found else 0, length_to_byte(max(found, default=0)),
                          max(0, max(p[1] for p in postings)), ids[0], ids[-1])
    return head + pickle.dumps((ids, weights, values), 2)


def _singleton_terminfo(docnum: int, weight: float, value: bytes, length: int) -> bytes:
    """``_inlined_terminfo`` of one posting, from cached pieces: the terminfo's head up to its
    first and last id (both ``docnum``), and the pickle of the postings around the docnum's
    opcode (memo indexes do not depend on it). A test holds the two equal."""
    if docnum >= 2**31:
        return _inlined_terminfo([(docnum, weight, value)], {docnum: length})
    head, tail = _singleton_pieces(weight, value, length)
    opcode = _SMALL_DOCNUM_PICKLES[docnum] if docnum < 65536 else b"J" + docnum.to_bytes(4, "little")
    return head + _FIRST_LAST_ID.pack(docnum, docnum) + b"\x80\x02" + opcode + tail


@functools.lru_cache(maxsize=4096)
def _singleton_pieces(weight: float, value: bytes, length: int) -> tuple[bytes, bytes]:
    weight32 = array("f", (weight,))[0]  # as Whoosh's float32 weight arrays give it back
    length_byte = length_to_byte(length)
    head = _TERMINFO.pack(True, weight32, 1, length_byte, length_byte, max(0, weight), 0, 0)
    pickled = pickle.dumps(((0,), (weight32,), (value,)), 2)
    return head[:-_FIRST_LAST_ID.size], pickled[4:]  # after PROTO 2 and the BININT1 of 0


_FIRST_LAST_ID = struct.Struct("!II")  # the end of _TERMINFO
# the pickle opcode of each docnum below 65536: BININT1 below 256, then BININT2
_SMALL_DOCNUM_PICKLES = [b"K" + bytes((n,)) for n in range(256)] + [b"M" + n.to_bytes(2, "little")
                                                                     for n in range(256, 65536)]


def _written_terminfo(postwriter: W3PostingsWriter, fmt: object, postings: list[_Posting],
                      lengths: dict[int, int]) -> bytes:
    """Write a posting list as Whoosh's blocks, a whole block at a time (what ``add_posting``
    would have buffered one posting at a time), and return its terminfo bytes."""
    postwriter.start_postings(fmt, W3TermInfo())
    limit = postwriter._blocklimit
    for start in range(0, len(postings), limit):
        block = postings[start:start + limit]
        postwriter._ids = array("I", [p[0] for p in block])
        postwriter._weights = array("f", [p[1] for p in block])
        postwriter._values = [p[2] for p in block if p[2]]
        found = [length for length in map(lengths.get, postwriter._ids) if length]
        postwriter._minlength = min(found) if found else None
        postwriter._maxlength = max(found, default=0)
        postwriter._maxweight = max(0, max(p[1] for p in block))
        if start + limit < len(postings):
            postwriter._write_block()
    return postwriter.finish_postings().to_bytes()


class _TermTable(OrderedHashWriter):
    """Whoosh's term dictionary writer (an ordered hash file), with terms appended a field at a
    time and the hash tables written in one piece: the same bytes as ``add`` for each term and
    Whoosh's ``_write_hashes``, without a call and a write per term and per slot."""

    def append_sorted(self, keys: list[bytes], values: list[bytes]) -> None:
        """``add(key, value)`` for each key and value, keys in increasing order."""
        if self.hashfn is not md5_hash:
            raise ValueError("the term dictionary is expected to hash with MD5 (hash type 0)")
        buckets = self.buckets
        position = self.dbfile.tell()
        last = self.lastkey
        chunks, positions = [], []
        for key, value in zip(keys, values):
            if key <= last:
                raise ValueError(f"term keys must increase: {last!r}..{key!r}")
            digest = int.from_bytes(md5(key, usedforsecurity=False).digest()[-4:], "big")  # md5_hash
            buckets[digest & 255].append((digest, position))
            positions.append(position)
            chunks += (_KEY_VALUE_LENGTHS.pack(len(key), len(value)), key, value)
            position += _KEY_VALUE_LENGTHS.size + len(key) + len(value)
            last = key
        self.dbfile.write(b"".join(chunks))
        self.index.extend(positions)
        self.lastkey = last

    def _write_hashes(self) -> None:
        # HashWriter._write_hashes: per bucket, a table of twice its entries, open addressing
        position = self.dbfile.tell()
        chunks = []
        for entries in self.buckets:
            slots = 2 * len(entries)
            self.directory.append((position, slots))
            table: list[tuple[int, int]] = [_EMPTY_SLOT] * slots
            for entry in entries:
                slot = (entry[0] >> 8) % slots
                while table[slot] is not _EMPTY_SLOT:
                    slot = (slot + 1) % slots
                table[slot] = entry
            chunks.append(struct.pack("!" + "Iq" * slots, *itertools.chain.from_iterable(table)))
            position += slots * _SLOT.size
        self.dbfile.write(b"".join(chunks))


_EMPTY_SLOT = (0, 0)
_SLOT = struct.Struct("!Iq")  # hash value, key position: what HashWriter writes per slot


class _Lengths:
    """A per-document reader's ``doc_field_length`` that does not look for a length column of a
    field that never has one (Whoosh checks the file exists, per posting)."""

    def __init__(self, reader, schema) -> None:  # type: ignore[no-untyped-def]
        self._reader = reader
        self._scorable = frozenset(name for name, field in schema.items() if field.scorable)

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        if fieldname not in self._scorable:
            return default
        return self._reader.doc_field_length(docnum, fieldname, default)

    def close(self) -> None:
        self._reader.close()


class _Child:
    """A forked process that adds the rows sent to it to a new segment of the parent writer's
    index, and answers with the segment (or why it failed) once sent ``None``."""

    def __init__(self, writer: UnitWriter) -> None:
        context = multiprocessing.get_context("fork")  # the child inherits the storage and its key
        self._connection, theirs = context.Pipe()
        self._process = context.Process(target=_write_segment, args=(theirs, writer), daemon=True)
        # the collector of a forked child would touch every object it inherited, copying the
        # whole heap page by page; frozen objects are never collected
        gc.freeze()
        try:
            self._process.start()
        finally:
            gc.unfreeze()
        theirs.close()
        self._broken = False

    def send(self, rows: list[dict[str, object]] | None) -> None:
        if not self._broken:
            try:
                self._connection.send(rows)
            except OSError:  # the child is gone; finish() says why
                self._broken = True

    def finish(self) -> object:
        """The segment written (None if no row came), or ``IndexWriteFailed``; ``send(None)``
        first."""
        try:
            result = self._connection.recv()
        except (EOFError, OSError):
            result = ""
        finally:
            self._connection.close()
            self._process.join()
        if isinstance(result, str):
            code = self._process.exitcode
            return IndexWriteFailed(result or f"an indexing process ended without a result (exit code {code}); "
                                    "the batch was not committed")
        return result

    def stop(self) -> None:
        self._connection.close()
        self._process.terminate()
        self._process.join()


def _write_segment(connection, parent: UnitWriter) -> None:  # type: ignore[no-untyped-def]
    # runs in the child; the parent holds the write lock, and the new segment's name is random.
    # Nothing here makes reference cycles worth collecting, and the child is short-lived.
    gc.disable()
    try:
        writer = UnitWriter(parent._ix, _lk=False, codec=parent.codec)
        while (rows := connection.recv()) is not None:
            for row in rows:
                writer.add_document(**row)
        if writer._added:
            connection.send(writer._finalize_segment())
        else:
            writer._close_segment()
            connection.send(None)
    except BaseException as error:  # reported to the parent, which fails the commit
        # the type only: a message could quote the text of a unit
        connection.send(f"an indexing process failed ({type(error).__name__}); the batch was not committed")
    finally:
        connection.close()
