"""The encrypted Whoosh storage: same answers as plain files, nothing readable on disk, every file
bound to its index and name, a bounded cache, orphans swept, and a killed writer survived."""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from whoosh import writing
from whoosh.fields import ID, KEYWORD, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.index import FileIndex
from whoosh.qparser import QueryParser

from keys import SecretKey
from search import EncryptedStorage, IndexCorrupt, IndexLocked

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Schema(id=ID(stored=True, unique=True), speaker=KEYWORD(stored=True), body=TEXT(stored=True))
CANARY = "Quillonzzcanary"
VOCABULARY = [f"{a}{b}" for a in ("word", "alpha", "court", "ruling", "call") for b in range(60)]
QUERIES = ["quillonzzcanary", "alpha3 AND word12", '"word1 word2"', "court1*", "speaker:judge",
           "alpha5 OR ruling7", "quillonzzcanary NOT call9"]


def _documents(start: int, count: int) -> list[dict[str, str]]:
    rng = random.Random(start)
    docs = []
    for number in range(start, start + count):
        words = rng.choices(VOCABULARY, k=40)
        words.insert(rng.randrange(len(words)), CANARY)
        if number % 7 == 0:
            words[3:3] = ["word1", "word2"]
        speaker = "judge" if number % 3 == 0 else f"speaker {CANARY}"
        docs.append({"id": f"doc-{number}", "speaker": speaker, "body": " ".join(words)})
    return docs


def _add(ix: FileIndex, docs: list[dict[str, str]], **writer_options: object) -> None:
    writer = ix.writer(**writer_options)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()


def _hits(ix: FileIndex) -> dict[str, list[tuple[str, float]]]:
    with ix.searcher() as searcher:
        parser = QueryParser("body", ix.schema)
        return {query: [(hit["id"], round(hit.score, 6))
                        for hit in searcher.search(parser.parse(query), limit=None)]
                for query in QUERIES}


def _open(path: Path, key: SecretKey, index_id: str = "case-1", **options: int) -> FileIndex:
    return EncryptedStorage(path, key, index_id, **options).open_index()


@pytest.fixture
def key() -> SecretKey:
    return SecretKey.generate()


@pytest.fixture
def storage(tmp_path: Path, key: SecretKey) -> EncryptedStorage:
    return EncryptedStorage(tmp_path / "index", key, "case-1").create()


@pytest.fixture
def ix(storage: EncryptedStorage) -> FileIndex:
    """An index of three segments (no merging), 120 documents."""
    index = storage.create_index(SCHEMA)
    for start in (0, 40, 80):
        _add(index, _documents(start, 40), merge=False)
    return index


def _segment_files(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir() if p.name.endswith(".seg"))


# Same answers as plain files


def test_searches_answer_exactly_like_a_plain_file_storage(tmp_path, storage):
    plain = FileStorage(str(tmp_path / "plain")).create().create_index(SCHEMA)
    encrypted = storage.create_index(SCHEMA)
    for index in (plain, encrypted):
        _add(index, _documents(0, 300), limitmb=1)
        _add(index, _documents(300, 100))
        with index.writer() as writer:
            writer.delete_by_term("id", "doc-5")
    assert _hits(encrypted) == _hits(plain)
    assert len(_hits(plain)["quillonzzcanary"]) == 399
    for index in (plain, encrypted):
        index.optimize()
    assert _hits(encrypted) == _hits(plain)


def test_an_index_reopens_after_close_and_takes_more_documents(tmp_path, key, ix, storage):
    before = _hits(ix)
    ix.close()
    storage.close()
    reopened = _open(tmp_path / "index", key)
    assert _hits(reopened) == before
    _add(reopened, _documents(120, 10))
    assert reopened.doc_count() == 130


# Nothing readable on disk


def _needles() -> dict[bytes, str]:
    needles = {}
    for form in {CANARY, CANARY.lower(), CANARY.upper()}:
        for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
            needles[form.encode(encoding)] = f"{form!r} ({encoding})"
    return needles


@pytest.fixture
def graveyard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every file deleted during the test is copied here first, so scans see short-lived files too
    (posting runs, column buffers, multiprocessing job lists, temporary TOCs). Forked writer
    processes inherit the patch. The system temporary directory is a fresh one under tmp_path."""
    kept = tmp_path / "graveyard"
    kept.mkdir()
    system_temp = tmp_path / "system-temp"
    system_temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_temp))

    def keeping(delete: Callable[..., None]) -> Callable[..., None]:
        def delete_after_copy(path: str, *args: object, **kwargs: object) -> None:
            if not args and not kwargs and os.path.isfile(path):
                shutil.copyfile(path, kept / f"{uuid.uuid4().hex}-{os.path.basename(path)}")
            delete(path, *args, **kwargs)
        return delete_after_copy

    monkeypatch.setattr(os, "remove", keeping(os.remove))
    monkeypatch.setattr(os, "unlink", keeping(os.unlink))
    return kept


@pytest.fixture
def spilled_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the posting runs the writers of this process spilled to their temporary storage."""
    runs: list[str] = []
    new_run = writing.PostingPool._new_run

    def recording(pool: writing.PostingPool) -> tuple[str, object]:
        name, handle = new_run(pool)
        runs.append(name)
        return name, handle

    monkeypatch.setattr(writing.PostingPool, "_new_run", recording)
    return runs


def _index_every_way(ix: FileIndex) -> None:
    """Spilled runs, two forked writer processes (one and several segments), deletions, a merge."""
    _add(ix, _documents(0, 1500), limitmb=1)
    _add(ix, _documents(1500, 400), procs=2, batchsize=50, limitmb=1)
    _add(ix, _documents(1900, 200), procs=2, batchsize=50, multisegment=True)
    with ix.writer() as writer:
        writer.delete_by_term("id", "doc-7")
    ix.optimize()


def _leaks(*roots: Path) -> set[str]:
    needles = _needles()
    return {f"{path.relative_to(root.parent)}: {label}"
            for root in roots for path in root.rglob("*") if path.is_file()
            for needle, label in needles.items() if needle in path.read_bytes()}


def test_the_scan_finds_the_canary_in_a_plain_index(tmp_path, graveyard, spilled_runs):
    # the control: without encryption the same indexing leaves the canary on disk, runs included
    plain = FileStorage(str(tmp_path / "plain")).create().create_index(SCHEMA)
    _index_every_way(plain)
    assert len(spilled_runs) >= 5
    assert any(".run" in leak for leak in _leaks(graveyard)), "the posting runs were not seen"
    assert _leaks(tmp_path / "plain")


def test_no_byte_on_disk_holds_the_canary(tmp_path, storage, graveyard, spilled_runs):
    ix = storage.create_index(SCHEMA)
    _index_every_way(ix)
    assert len(spilled_runs) >= 5
    assert len(list(graveyard.iterdir())) >= len(spilled_runs)
    assert ix.doc_count() == 2099
    leaked = _leaks(tmp_path / "index", tmp_path / "system-temp", graveyard)
    assert not leaked, f"plaintext at rest: {sorted(leaked)[:10]}"


def test_every_file_opens_under_its_own_name_and_the_lock_is_empty(tmp_path, key, ix):
    fresh = EncryptedStorage(tmp_path / "index", key, "case-1", cache_bytes=0)
    names = fresh.list()
    assert {n for n in names if n.endswith("WRITELOCK")} == {"MAIN_WRITELOCK"}
    assert (tmp_path / "index" / "MAIN_WRITELOCK").read_bytes() == b""  # a lock holds nothing
    for name in names:
        if name != "MAIN_WRITELOCK":
            assert len(fresh.open_file(name).read()) == fresh.file_length(name)


# Tampering: every way of changing the files is one clear error


def _flip_a_bit(index: Path, key: SecretKey) -> None:
    target = index / _segment_files(index)[0]
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))


def _truncate_a_segment(index: Path, key: SecretKey) -> None:
    target = index / _segment_files(index)[0]
    target.write_bytes(target.read_bytes()[:-1])


def _truncate_the_toc(index: Path, key: SecretKey) -> None:
    target = index / "_MAIN_3.toc"
    target.write_bytes(target.read_bytes()[:20])


def _swap_two_segments(index: Path, key: SecretKey) -> None:
    first, second = (index / name for name in _segment_files(index)[:2])
    first.rename(index / "swap")
    second.rename(first)
    (index / "swap").rename(second)


def _rename_the_toc_to_a_later_generation(index: Path, key: SecretKey) -> None:
    (index / "_MAIN_3.toc").rename(index / "_MAIN_4.toc")


def _copy_in_the_same_name_from_another_index(index: Path, key: SecretKey) -> None:
    # same key, same file name, another index: the index id in the associated data differs
    name = _segment_files(index)[0]
    other = EncryptedStorage(index.parent / "other", key, "case-2").create()
    with other.create_file(name) as handle:
        handle.write(b"a segment of another index")
    shutil.copyfile(index.parent / "other" / name, index / name)


@pytest.mark.parametrize("tamper", [
    _flip_a_bit,
    _truncate_a_segment,
    _truncate_the_toc,
    _swap_two_segments,
    _rename_the_toc_to_a_later_generation,
    _copy_in_the_same_name_from_another_index,
])
def test_a_changed_index_file_raises_index_corrupt(tmp_path, key, ix, tamper):
    tamper(tmp_path / "index", key)
    with pytest.raises(IndexCorrupt, match="casevault reindex"):
        _hits(_open(tmp_path / "index", key))


def test_another_key_raises_index_corrupt(tmp_path, ix):
    with pytest.raises(IndexCorrupt):
        _open(tmp_path / "index", SecretKey.generate())
    with pytest.raises(IndexCorrupt):  # the same material under another version is another key
        _open(tmp_path / "index", SecretKey(ix.storage._key.material, version=2))


def test_a_file_replaced_under_a_warm_cache_is_read_again(tmp_path, ix):
    _hits(ix)  # everything is cached now
    index = tmp_path / "index"
    _swap_two_segments(index, ix.storage._key)
    with pytest.raises(IndexCorrupt):
        _hits(ix)


def test_a_search_held_between_its_seek_and_its_read_keeps_its_place(ix, monkeypatch):
    """Whoosh opens a segment's postings file once per reader and every matcher shares it: a
    posting block is read by a seek, then reads. Threads searching one long-lived searcher (as
    CaseIndex shares it) moved each other's position: UnpicklingError "invalid load key", seen
    while forked writers ran. Here one search is held right after its seek while another thread
    reads other posting lists of the same segments, then goes on."""
    searcher = ix.searcher()
    parser = QueryParser("body", ix.schema)
    expected = {query: [hit["id"] for hit in searcher.search(parser.parse(query), limit=None)]
                for query in ("quillonzzcanary", "word1 OR alpha3 OR court7")}
    sought, read_elsewhere = threading.Event(), threading.Event()
    seek = StructFile.seek

    def seek_and_wait(self, *args):  # type: ignore[no-untyped-def]
        seek(self, *args)
        if threading.current_thread().name == "held" and str(self._name).endswith(".pst") and not sought.is_set():
            sought.set()
            assert read_elsewhere.wait(30), "the other search did not run"

    monkeypatch.setattr(StructFile, "seek", seek_and_wait)
    answers: dict[str, object] = {}

    def held() -> None:
        try:
            answers["held"] = [hit["id"] for hit in searcher.search(parser.parse("quillonzzcanary"), limit=None)]
        except Exception as error:  # noqa: BLE001 - compared below
            answers["held"] = error

    thread = threading.Thread(target=held, name="held")
    thread.start()
    assert sought.wait(30), "the held search never read a postings file"
    other = [hit["id"] for hit in searcher.search(parser.parse("word1 OR alpha3 OR court7"), limit=None)]
    read_elsewhere.set()
    thread.join(30)
    assert other == expected["word1 OR alpha3 OR court7"]
    assert answers["held"] == expected["quillonzzcanary"], \
        f"a search read where another thread had sought in the shared postings file: {answers['held']!r:.200}"


def test_rename_re_encrypts_under_the_new_name(tmp_path, storage):
    with storage.create_file("first.bin") as handle:
        handle.write(b"some masked text")
    before = (tmp_path / "index" / "first.bin").read_bytes()
    storage.rename_file("first.bin", "second.bin")
    assert not storage.file_exists("first.bin")
    assert (tmp_path / "index" / "second.bin").read_bytes() != before
    assert storage.open_file("second.bin").read() == b"some masked text"
    with storage.create_file("third.bin") as handle:
        handle.write(b"other")
    with pytest.raises(NameError):
        storage.rename_file("third.bin", "second.bin", safe=True)
    os.rename(tmp_path / "index" / "second.bin", tmp_path / "index" / "fourth.bin")  # behind our back
    with pytest.raises(IndexCorrupt, match="fourth.bin"):
        storage.open_file("fourth.bin")


def test_a_missing_file_stays_file_not_found(storage):
    # Whoosh retries a reader on OSError (a writer may just have deleted an old segment)
    with pytest.raises(FileNotFoundError):
        storage.open_file("MAIN_nothing.seg")


# The cache


@pytest.fixture
def decryptions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    decrypt = SecretKey.decrypt

    def counting(self: SecretKey, token: bytes, context: object) -> bytes:
        calls.append(len(token))
        return decrypt(self, token, context)

    monkeypatch.setattr(SecretKey, "decrypt", counting)
    return calls


def test_warm_searches_decrypt_nothing(tmp_path, key, ix, decryptions):
    reopened = _open(tmp_path / "index", key)
    first = _hits(reopened)
    assert decryptions, "the first searches read the files"
    decryptions.clear()
    for _ in range(3):
        assert _hits(reopened) == first  # new searchers: Whoosh closes and reopens every file
    assert decryptions == []


def test_a_fresh_commit_is_searched_without_decrypting(ix, decryptions):
    _add(ix, _documents(120, 10))
    _hits(ix)
    assert decryptions == []


@pytest.mark.parametrize("budget", [0, 100_000, 200_000])
def test_the_cache_stays_within_its_budget(tmp_path, key, ix, budget, decryptions):
    expected = _hits(ix)
    sizes = [os.path.getsize(tmp_path / "index" / name) for name in _segment_files(tmp_path / "index")]
    assert max(sizes) < 100_000 and sum(sizes) > 200_000  # a budget holds some segments, not all
    bounded = _open(tmp_path / "index", key, cache_bytes=budget)
    assert _hits(bounded) == expected
    assert bounded.storage.cached_bytes <= budget
    decryptions.clear()
    assert _hits(bounded) == expected
    assert bounded.storage.cached_bytes <= budget
    if budget == 0:
        assert bounded.storage.cached_bytes == 0
        assert len(decryptions) >= len(sizes)
    else:
        assert bounded.storage.cached_bytes > 0


def test_a_negative_budget_is_refused(tmp_path, key):
    with pytest.raises(ValueError):
        EncryptedStorage(tmp_path, key, "case-1", cache_bytes=-1)


# One process, or forked processes only


def test_the_storage_and_its_key_are_never_pickled(storage):
    with pytest.raises(TypeError, match="never pickled"):
        pickle.dumps(storage)


def test_a_spawned_writer_process_is_refused_before_it_starts(ix):
    before = _hits(ix)
    original = multiprocessing.get_start_method()
    multiprocessing.set_start_method("spawn", force=True)
    try:
        writer = ix.writer(procs=2, batchsize=5)
        with pytest.raises(TypeError, match="never pickled"):
            for doc in _documents(120, 10):
                writer.add_document(**doc)
        writer.cancel()
    finally:
        multiprocessing.set_start_method(original, force=True)
    assert _hits(ix) == before


# Orphans


def _referenced(ix: FileIndex) -> set[str]:
    toc = f"_MAIN_{ix.latest_generation()}.toc"
    prefixes = tuple(f"{segment.segment_id()}." for segment in ix._segments())
    return {toc, "MAIN_WRITELOCK"} | {name for name in ix.storage.list() if name.startswith(prefixes)}


def test_sweep_removes_what_interrupted_writers_left(tmp_path, key, ix, storage, spilled_runs):
    index = tmp_path / "index"
    before = _hits(ix)
    cancelled = ix.writer(limitmb=1)
    for doc in _documents(120, 600):
        cancelled.add_document(**doc)
    cancelled.cancel()  # leaves its segment files, as Whoosh does on plain files
    abandoned = ix.writer(limitmb=1)
    for doc in _documents(720, 600):
        abandoned.add_document(**doc)
    del abandoned  # dropped without commit or cancel: its posting runs stay in MAIN.tmp
    gc.collect()
    assert spilled_runs and list((index / "MAIN.tmp").iterdir())
    with storage.create_file("_MAIN_9.toc.1712345678.5") as handle:  # a TOC that was never renamed
        handle.write(b"toc")
    (index / "._MAIN_9.toc.0123456789abcdef.partial").write_bytes(b"half a file")
    (index / "other-index-file").write_bytes(b"not ours")
    live = _referenced(ix)
    orphans = set(os.listdir(index)) - live - {"other-index-file"}
    assert any(name.endswith(".trm") for name in orphans)

    assert set(storage.sweep_orphans()) == orphans
    assert set(os.listdir(index)) == live | {"other-index-file"}
    assert _hits(_open(index, key)) == before
    _add(ix, _documents(2000, 5))
    assert ix.doc_count() == 125
    assert storage.sweep_orphans() == []


def test_sweep_leaves_a_running_writer_alone(ix, storage):
    writer = ix.writer()
    writer.add_document(**_documents(120, 1)[0])
    with pytest.raises(IndexLocked):
        storage.sweep_orphans()
    writer.commit()
    assert storage.sweep_orphans() == []
    assert ix.doc_count() == 121


KILLED_WRITER = """
import sys
from keys import SecretKey
from search import EncryptedStorage
from tests.search.test_storage import _documents

key = SecretKey(bytes.fromhex(sys.stdin.readline()))
ix = EncryptedStorage(sys.argv[1], key, "case-1").open_index()
count = ix.doc_count()
while True:
    with ix.writer() as writer:
        for doc in _documents(count, 20):
            writer.add_document(**doc)
    count += 20
    print(count, flush=True)
"""


def test_an_index_survives_writers_killed_mid_commit(tmp_path, key, ix, storage):
    index = tmp_path / "index"
    committed = 120
    for delay in (0.0, 0.05, 0.15, 0.3, 0.5):
        with subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(index)], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as writer:
            writer.stdin.write(key.material.hex() + "\n")
            writer.stdin.flush()
            assert writer.stdout.readline(), "the writer process died before its first commit"
            time.sleep(delay)
            writer.send_signal(signal.SIGKILL)
            writer.wait()
        reopened = _open(index, key)
        count = reopened.doc_count()
        assert count > committed and count % 20 == 0, f"{count} documents: not a commit boundary"
        committed = count
        storage.sweep_orphans()
        assert set(os.listdir(index)) == _referenced(reopened)
        with reopened.searcher() as searcher:
            parser = QueryParser("body", SCHEMA)
            assert len(searcher.search(parser.parse("quillonzzcanary"), limit=None)) == count
