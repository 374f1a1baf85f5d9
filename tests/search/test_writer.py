"""search._engine._writer: segments written in one pass, and by several processes, read as Whoosh's own.

``UnitWriter`` writes the term dictionary and the postings itself, so its files are held to the
bytes Whoosh's ``SegmentWriter`` writes for the same rows, and what a reader finds in an index
written by two processes is held to what it finds in one written by one. A process that fails
fails the whole batch and leaves the index as it was.
"""

from __future__ import annotations

import io
import os
import random
from datetime import datetime
from pathlib import Path

import pytest
from whoosh.codec.whoosh3 import W3TermInfo
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from keys import SecretKey
from search._engine import _index, _writer
from search._engine._analysis import case_schema
from search._engine._index import CaseIndex, _rewrite_segments_with_deletions
from search._engine._writer import CaseCodec, UnitWriter, _inlined_terminfo, _singleton_terminfo
from search.errors import IndexWriteFailed

WORDS = ("noose tighten sister mother harbour keeper notice red lyon family waiting called money return home "
         "villa lawyer ferry morning evening twice keys letter station Gérard Genève frère 香港警察 "
         "cvxabcdefghijklmnop").split()
SPEAKERS = ("QM", "Caller 2", "cvxqrstuvwxyzabcdef", None)


def rows(count: int, *, seed: int = 5, documents: int = 40) -> list[dict[str, object]]:
    """Index units as ``units_of`` makes them: a few words repeat in hundreds of units (several
    posting blocks), most pairs occur once (inlined), some a few times."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        text = " ".join(rng.choices(WORDS, k=rng.randint(1, 12))) + f" w{rng.randrange(3 * count)}"
        day = datetime(2026, 1 + n % 12, 1 + n % 28)
        row: dict[str, object] = {"document": f"doc-{n % documents:03d}", "version": 1 + n % 3, "position": n,
                                  "kind": ("transcript", "court_record")[n % 2], "date": day, "year": day.year,
                                  "text": text, "pairs": text}
        speaker = SPEAKERS[n % len(SPEAKERS)]
        if speaker:
            row |= {"speaker": speaker, "speaker_facet": speaker}
        out.append(row)
    return out


def segment_files(folder: Path) -> dict[str, bytes]:
    """Each file of the index's segments by its extension (segment ids are random)."""
    return {name.split(".", 1)[1]: (folder / name).read_bytes() for name in os.listdir(folder)
            if name.startswith("MAIN_") and "." in name and not name.endswith(".toc")}


def build(folder: Path, writer_class, batch: list[dict[str, object]]) -> Path:
    index = FileStorage(str(folder)).create().create_index(case_schema())
    writer = writer_class(index, codec=CaseCodec(), compound=False)
    for row in batch:
        writer.add_document(**row)
    writer.commit()
    return folder


def contents(index) -> dict[str, object]:
    """What a reader finds: every term's postings as (unit position, weight, value), the stored
    fields, the columns and field lengths, per unit."""
    with index.searcher() as searcher:
        reader = searcher.reader()
        units = {docnum: fields["position"] for docnum, fields in reader.iter_docs()}
        postings = {}
        for field, term in reader.all_terms():
            matcher = reader.postings(field, term)
            found = []
            while matcher.is_active():
                # a field without values gives b"" from an inlined list and None from a block
                found.append((units[matcher.id()], matcher.weight(), matcher.value() or b""))
                matcher.next()
            info = reader.term_info(field, term)
            postings[(field, term)] = (sorted(found), info.doc_frequency(), info.weight(), info.max_weight())
        stored = sorted(tuple(sorted(fields.items())) for fields in reader.all_stored_fields())
        columns = {name: sorted(zip(map(units.get, range(reader.doc_count_all())), reader.column_reader(name)))
                   for name in ("kind", "date", "year", "speaker_facet")}
        lengths = sorted((units[d], reader.doc_field_length(d, "text")) for d in units)
        return {"postings": postings, "stored": stored, "columns": columns, "lengths": lengths,
                "count": reader.doc_count(), "text_length": reader.field_length("text")}


# -- one pass, Whoosh's bytes ---------------------------------------------------------------------

def test_a_segment_has_the_bytes_whoosh_writes(tmp_path):
    """Every file: term dictionary (with its hash tables), postings (inlined, one block, several
    blocks), stored fields, columns and lengths. 700 units take docnums past 255 (another pickle
    opcode) and common words past one 128-posting block."""
    batch = rows(700)
    ours = segment_files(build(tmp_path / "ours", UnitWriter, batch))
    whoosh = segment_files(build(tmp_path / "whoosh", SegmentWriter, batch))
    assert sorted(ours) == sorted(whoosh) == sorted(["trm", "pst", "_stored.col", "_text_len.col", "kind.col",
                                                     "date.col", "year.col", "speaker_facet.col"])
    assert len(ours["trm"]) > 50_000 and len(ours["pst"]) > 5_000  # a real dictionary and real blocks
    for name in whoosh:
        assert ours[name] == whoosh[name], name


@pytest.mark.parametrize("docnum", [0, 1, 255, 256, 65535, 65536, 2**31 - 1, 2**31, 2**32 - 1])
@pytest.mark.parametrize(("weight", "value", "length"), [(1.0, b"\0\0\0\1", 7), (3.0, b"\0\0\0\3", 0),
                                                          (1, b"", 0), (2.5, b"x", 300)])
def test_one_posting_terminfo_is_whooshs(docnum, weight, value, length):
    """The cached pieces of a one-posting term entry give what Whoosh's postings writer gives,
    for every pickle opcode a docnum can take."""
    rounded = byte_to_length(length_to_byte(length)) if length else 0  # what Whoosh reads back
    postwriter = CaseCodec().postings_writer(StructFile(io.BytesIO()))
    postwriter.start_postings(case_schema()["text"].format, W3TermInfo())
    postwriter.add_posting(docnum, weight, value, rounded or None)
    expected = postwriter.finish_postings().to_bytes()
    assert _singleton_terminfo(docnum, weight, value, rounded) == expected
    assert _inlined_terminfo([(docnum, weight, value)], {docnum: rounded} if rounded else {}) == expected


def test_a_merge_writes_what_whoosh_writes(tmp_path):
    """A commit whose merge policy copies old segments (a purge) goes through Whoosh's pool; the
    rows added in the same commit are merged into that stream, in order."""
    first, second, third = rows(300, seed=1), rows(300, seed=2), rows(200, seed=3)

    def history(folder: Path, writer_class) -> dict[str, bytes]:
        index = FileStorage(str(folder)).create().create_index(case_schema())
        for batch in (first, second):
            writer = writer_class(index, codec=CaseCodec())
            for row in batch:
                writer.add_document(**row)
            writer.commit()
        writer = writer_class(index, codec=CaseCodec(), compound=False)
        writer.delete_by_term("document", "doc-007")
        for row in third:
            writer.add_document(**row)
        writer.commit(mergetype=_rewrite_segments_with_deletions)
        assert len(index._segments()) == 1  # both old segments had deletions: copied
        return segment_files(folder)

    assert history(tmp_path / "ours", UnitWriter) == history(tmp_path / "whoosh", SegmentWriter)


def test_a_bad_value_leaves_no_part_of_its_unit(tmp_path):
    """Whoosh's writer leaves the postings of the fields before a bad one in its pool, where the
    next unit (which takes the same docnum) inherits them; this writer computes everything first."""
    good, bad, after = rows(3)
    bad = bad | {"document": "doc-bad", "text": 12}  # not text: fails after "document" is analysed
    index = FileStorage(str(tmp_path)).create().create_index(case_schema())
    writer = UnitWriter(index)
    writer.add_document(**good)
    with pytest.raises(ValueError) as raised:
        writer.add_document(**bad)
    assert "12" not in str(raised.value)  # an error names no value: it could be a unit's text
    writer.add_document(**after)
    writer.commit()
    with index.searcher() as searcher:
        assert searcher.doc_count() == 2
        assert "doc-bad" not in list(searcher.lexicon("document"))
        assert [f["position"] for f in searcher.all_stored_fields()] == [good["position"], after["position"]]


# -- several processes ----------------------------------------------------------------------------

@pytest.fixture
def case_index(tmp_path, monkeypatch):
    monkeypatch.setattr(_index, "PARALLEL_ABOVE_UNITS", 100)  # two processes from 101 rows
    index = CaseIndex(tmp_path / "index", SecretKey.generate(), "case/released", cache_bytes=1 << 24)
    yield index
    index.close()


def test_two_processes_write_what_one_writes(tmp_path, case_index, monkeypatch):
    """Rows past the threshold go to two forked writers, in chunks while more come; the index
    they make reads like one written in this process, in an encrypted storage."""
    batch = rows(1300)
    monkeypatch.setattr(_writer, "_CHUNK_ROWS", 100)  # several chunks each, and a remainder
    single = CaseIndex(tmp_path / "single", SecretKey.generate(), "case/single", cache_bytes=1 << 24)
    single.replace([], iter(batch), purge=False, procs=1)
    with case_index.writing(purge=False, procs=2) as writer:
        writer.parallel_above = 250
        writer.add_units(iter(batch[:700]))
        assert len(writer._children) == 2  # forked once past 250 rows
        writer.add_units(iter(batch[700:]))
    assert len(case_index.index._segments()) == 2  # one per process
    assert contents(case_index.index) == contents(single.index)
    single.close()


def test_a_failed_process_fails_the_batch_and_changes_nothing(case_index, monkeypatch):
    case_index.replace([], rows(50, seed=9), purge=False)
    before = contents(case_index.index)
    batch = rows(600)
    batch[450] = batch[450] | {"text": 12}  # fails in the second process
    with pytest.raises(IndexWriteFailed) as raised:
        case_index.replace(["doc-001"], batch, purge=False, procs=2)
    assert raised.value.code == "INDEX_WRITE_FAILED" and "ValueError" in raised.value.message
    assert "12" not in raised.value.message
    assert contents(case_index.index) == before  # neither the deletion nor the other process's segment
    assert len([name for name in os.listdir(case_index.path) if name.endswith(".seg")]) == 2  # one was written
    case_index.replace([], rows(5, seed=4), purge=False)  # the lock was released
    # and the segment the first process wrote went with the next commit
    live = {f"{segment.segment_id()}.seg" for segment in case_index.index._segments()}
    assert len(live) == 2 and {name for name in os.listdir(case_index.path) if name.endswith(".seg")} == live
    assert contents(case_index.index)["count"] == before["count"] + 5


def test_a_process_that_dies_fails_the_batch(case_index, monkeypatch):
    """A writer killed (the kernel's OOM killer, say) sends nothing: the commit fails with its
    exit code instead of waiting, or committing without its rows."""
    add = UnitWriter.add_document

    def dying(self, **row):
        if row["position"] == 500 and os.getpid() != parent:
            os._exit(9)
        return add(self, **row)

    parent = os.getpid()
    monkeypatch.setattr(UnitWriter, "add_document", dying)  # inherited by the forked processes
    with pytest.raises(IndexWriteFailed, match="exit code 9"):
        case_index.replace([], rows(600, seed=6), purge=False, procs=2)
    assert case_index.doc_count() == 0


def test_a_commit_that_fails_inside_whoosh_fails_the_batch_and_changes_nothing(case_index, monkeypatch):
    """An exception raised by Whoosh inside its commit (one of its assertions, say) is the index's
    own typed failure, never a bare error that would turn a stored upload's answer into a 500;
    nothing of the batch is committed and the write lock is released."""
    case_index.replace([], rows(20, seed=3), purge=False)
    before = contents(case_index.index)
    commit_toc = UnitWriter._commit_toc

    def failing(self, segments):  # type: ignore[no-untyped-def]
        raise AssertionError("a segment's compound file already exists")

    monkeypatch.setattr(UnitWriter, "_commit_toc", failing)
    with pytest.raises(IndexWriteFailed) as raised:
        case_index.replace(["doc-001"], rows(5, seed=8), purge=False)
    assert raised.value.code == "INDEX_WRITE_FAILED" and "compound" not in raised.value.message
    assert contents(case_index.index) == before
    monkeypatch.setattr(UnitWriter, "_commit_toc", commit_toc)
    case_index.replace([], rows(5, seed=8), purge=False)  # the lock was released
    assert contents(case_index.index)["count"] == before["count"] + 5


def test_segments_are_named_apart_whoever_seeds_random(case_index):
    """Whoosh names a new segment from the process's shared ``random``, which anything in the
    process may seed (Hypothesis does, before each example, in a test that runs the server in
    its own process): two segments named alike made the second commit fail or overwrite the
    first. Segment names come from the operating system's randomness instead."""
    import random

    random.seed(7)
    case_index.replace([], rows(5, seed=1), purge=False)
    random.seed(7)
    case_index.replace([], rows(5, seed=2), purge=False)
    assert contents(case_index.index)["count"] == 10
    assert len({segment.segment_id() for segment in case_index.index._segments()}) == len(case_index.index._segments())
