"""Search through the policy: what each persona finds, and what nobody can learn through it.

SECURITY-TESTS.md items 21-27 (leaks through the index and the answers), 44-46 (the query
language's limits), 47-48 (reconciliation with the database).
"""

from __future__ import annotations

import concurrent.futures
import json
import random
import unicodedata
from collections import Counter
from collections.abc import Iterator
from datetime import UTC

import pytest
import sqlalchemy as sa
from whoosh.reading import SegmentReader

from keys import SecretKey
from search import QueryNotAllowed, Search, SearchError
from search.errors import IndexWriteFailed
from search import _follower
from search._engine._index import CaseIndex
from tests.conftest import ingest_bytes
from tests.search.conftest import NAMES, release
from vault import DocumentStatus
from vault._models import DocumentRow
from vault.errors import StateTampered


def _forms(names=NAMES) -> set[str]:
    return {f for n in names for f in (n, n.upper(), n.casefold(), unicodedata.normalize("NFD", n))}


def assert_no_name(text: str, who: str) -> None:
    leaked = sorted(f for f in _forms() if f.casefold() in text.casefold())
    assert not leaked, f"{who} saw {leaked}"


def _answer(search, user, query, **kwargs) -> dict:
    return search.search(user, query, actor="tester", **kwargs).to_json()


# -- what each persona finds ---------------------------------------------------------------------

def test_an_investigator_finds_the_turn_with_pseudonyms_only(search, people, corpus):
    answer = _answer(search, people["ivy"], '"noose tighten"')
    assert answer["total"] == 1
    [hit] = answer["hits"]
    assert hit["id"] == corpus["call1"].id and hit["kind"] == "transcript" and hit["case"] == "Affaire H"
    day = corpus["call1"].created_at.astimezone(UTC).date().isoformat()  # the day it came in
    # no date of its own (none in the call), the day it came in beside it
    assert hit["location"] == {"turn": 0, "speaker": "Caller 1", "start_ms": 4000, "end_ms": 9000, "date": None,
                               "uploaded": day}
    [snippet] = hit["snippets"]
    assert snippet["text"] == "H, the noose will tighten around your sister."
    assert [snippet["text"][a:b] for a, b in snippet["highlights"]] == ["noose", "tighten"]
    assert_no_name(json.dumps(answer, ensure_ascii=False), "ivy")


def test_labels_in_a_query_find_the_identity(search, people, corpus):
    by_speaker = _answer(search, people["ivy"], 'speaker:"Caller 1" mother')
    assert [h["id"] for h in by_speaker["hits"]] == [corpus["call2"].id]
    by_label = _answer(search, people["ivy"], "H sister")
    assert by_label["total"] == 1 and by_label["hits"][0]["snippets"][0]["text"].startswith("H, the noose")
    assert _answer(search, people["ivy"], "speaker:H")["facets"]["speaker"] == {"H": 2}


def test_a_speaker_label_finds_its_turns_whether_or_not_it_was_linked_to_the_identity(vault, search, people, case, corpus):
    """``speaker:H`` was rewritten to H's token only: after a reviewer rejected the suggestion
    that the speaker "H" is the identity H, the turns shown with speaker "H" were never found."""
    call = b"[00:03:00] H: The ferry leaves at dawn.\n[00:03:05] QM: Then be on it.\n[00:03:09] H: I will.\n"
    unlinked = ingest_bytes(vault, case, call, "call4.txt")
    pending = [r["id"] for u in vault.masked(unlinked.id).units for r in u.suggestions if r["state"] == "pending"]
    assert any(r["field"] == "speaker" and r["text"] == "H" for u in vault.masked(unlinked.id).units for r in u.suggestions)
    vault.decide(unlinked.id, people["rex"], pending, accept=False, actor="tester")  # "H" stays a plain label
    vault.release(unlinked.id, people["rita"], actor="tester")
    search.catch_up()
    for persona in ("ivy", "rex"):
        answer = _answer(search, people[persona], "speaker:H", per_page=50)
        found = {h["id"] for h in answer["hits"]}
        assert unlinked.id in found, f"{persona} did not find the turns shown with the unlinked speaker H"
        assert {corpus["call1"].id, corpus["call2"].id} <= found, f"{persona} lost the turns linked to H"
    assert _answer(search, people["ivy"], "speaker:H")["facets"]["speaker"] == {"H": 2 + 2}
    assert _answer(search, people["ivy"], "speaker:H ferry")["total"] == 1


def test_facets_and_counts_cover_only_what_the_user_may_see(search, people):
    investigator = _answer(search, people["ivy"], "noose")
    reviewer = _answer(search, people["rex"], "noose")
    assert investigator["total"] == 1 and reviewer["total"] == 2  # the third call is in review
    assert investigator["facets"]["speaker"] == {"Caller 1": 1}
    assert reviewer["facets"]["speaker"] == {"Quentin Malaure": 2}  # a reviewer sees real names
    assert set(investigator["facets"]) == {"kind", "year", "upload_year", "speaker"} and investigator["facets"]["kind"] == {"transcript": 1}


def test_reviewers_search_by_real_name_and_the_reveal_is_audited(vault, search, people):
    answer = _answer(search, people["rex"], "Quillon")
    assert answer["total"] == 5  # every mention of H, in both released calls and the one in review
    assert "Hadrien Quillon" in json.dumps(answer)
    entry = [e for e in vault.audit_entries(limit=1000) if e.action == "search"][-1]
    assert entry.details["query"] == "Quillon" and len(entry.details["revealed"]) == 2


def test_an_approved_unmask_lets_that_investigator_search_by_the_name(vault, search, people, case):
    request = vault.request_unmask(people["ivy"], case, "H", "Needed to match the caller with the 2023 file.", actor="tester")
    vault.decide_unmask(request.id, people["rex"], approve=True, actor="tester")
    answer = _answer(search, people["ivy"], "Quillon")
    assert answer["total"] == 4 and "Hadrien Quillon" in json.dumps(answer)
    assert_no_name(json.dumps(_answer(search, people["ivy"], "Malaure")).replace("Hadrien Quillon", ""), "ivy")


def test_accents_and_stems_match(search, people, corpus):
    assert _answer(search, people["ivy"], "gerard")["total"] == 1
    assert _answer(search, people["ivy"], "GÉRARD notices")["total"] == 1
    assert _answer(search, people["ivy"], "tigh*")["total"] == 1
    assert _answer(search, people["ivy"], "notise~1")["total"] == 2


def test_cjk_text_is_searchable_by_bigrams(vault, case, people):
    document = ingest_bytes(vault, case, "[00:00:01] QM: 他住在東京都的一家旅館。\n".encode(), "cjk.txt")
    release(vault, document.id, people["rex"], people["rita"])
    with Search.open(vault) as search:
        assert _answer(search, people["ivy"], "東京都")["total"] == 1
        assert _answer(search, people["ivy"], '"東京都"')["total"] == 1
        assert _answer(search, people["ivy"], "京都府")["total"] == 0


# -- what nobody learns --------------------------------------------------------------------------

def _index_plaintext(search) -> bytes:
    """Every file of every index, decrypted, plus every term and stored field."""
    out = []
    for index in search.follower.indexes():
        storage = index.storage
        for name in storage.list():
            if "WRITELOCK" not in name and not name.endswith(".tmp"):
                try:
                    out.append(storage.open_file(name).read())
                except IsADirectoryError:
                    continue
        reader = index.searcher().reader()
        out += [f"{field}:{term!r}".encode() for field, term in reader.all_terms()]
        out += [json.dumps(fields, default=str).encode() for fields in reader.all_stored_fields()]
    return b"\n".join(out)


def _assert_index_clean(search, names=NAMES) -> None:
    plain = _index_plaintext(search)
    for form in _forms(names):
        for encoded in (form.encode(), form.encode("utf-16-le")):
            assert encoded.lower() not in plain.lower(), f"{form!r} is in the index"
    # the check can fail: the index does hold the other words of the same calls
    assert b"noos" in plain and b"sister" in plain


def test_no_real_name_in_any_term_stored_field_or_file(vault, search, people):
    search.catch_up()
    _assert_index_clean(search)
    raw = b"".join(p.read_bytes() for p in search.root.rglob("*") if p.is_file())
    assert b"noos" not in raw and b"sister" not in raw  # on disk, even the other words are ciphertext


def test_a_name_registered_later_is_rewritten_out_of_the_index_files(vault, case, people, search):
    document = ingest_bytes(vault, case, "[00:00:01] QM: Odile Verlaine keeps the keys; your sister too.\n".encode(), "late.txt")
    release(vault, document.id, people["rex"], people["rita"])
    search.catch_up()
    assert b"verlain" in _index_plaintext(search).lower()  # unregistered: indexed like any word
    vault.add_identity(case, name="Odile Verlaine", label="Relative 1", actor="tester")
    search.catch_up()
    _assert_index_clean(search, ["Odile Verlaine", "Verlaine", "Odile"])
    assert _answer(search, people["ivy"], '"Relative 1" keys')["total"] == 1


def test_the_long_lived_searcher_sees_deletions_and_purges(tmp_path):
    """Whoosh's own refresh kept a segment's reader, and its old deletions, as long as the
    segment's id stayed, and added back the segments a purge had just rewritten away: the
    searcher went on counting released units in the review index, and a re-masked unit's old
    terms. The searcher reads exactly the segments of the latest commit."""
    from whoosh import query

    from keys import SecretKey
    from tests.search.test_writer import rows

    index = CaseIndex(tmp_path / "index", SecretKey.generate(), "case/released", cache_bytes=1 << 24)
    units = rows(12, documents=3)  # doc-000, doc-001, doc-002: four units each, in both segments
    index.replace([], units[:6], purge=False)
    index.replace([], units[6:], purge=False)
    assert index.searcher().doc_count() == 12

    def segments() -> tuple[list[str], list[str]]:
        searched = [reader.segment().segment_id() for reader, _ in index.searcher().reader().leaf_readers()]
        return searched, [segment.segment_id() for segment in index.index._segments()]

    index.replace(["doc-000"], [], purge=False)  # deletions only: the segments keep their ids
    searcher = index.searcher()
    assert searcher.doc_count() == 8 and len(searcher.search(query.Term("document", "doc-000"))) == 0
    assert segments()[0] == segments()[1]
    index.replace(["doc-001"], [], purge=True)  # both segments rewritten into one
    searcher = index.searcher()
    searched, committed = segments()
    assert searched == committed and len(committed) == 1
    assert searcher.doc_count() == 4 and list(searcher.lexicon("document")) == [b"doc-002"]
    index.close()


def test_a_reviewers_counts_follow_releases(vault, search, people, case):
    """Each release deletes the document's units from the review index without adding any
    there; the reviewer's total counts each unit once, from the index of its status."""
    for n in range(3):
        lines = "".join(f"[00:00:{t:02d}] QM: the harbour keeper {n} called ({t}).\n" for t in range(10))
        document = ingest_bytes(vault, case, lines.encode(), f"harbour-{n}.txt")
        assert _answer(search, people["rex"], "harbour")["total"] == 10 * (n + 1)
        assert _answer(search, people["ivy"], "harbour")["total"] == 10 * n
        release(vault, document.id, people["rex"], people["rita"])
        assert _answer(search, people["rex"], "harbour")["total"] == 10 * (n + 1)
        assert _answer(search, people["ivy"], "harbour")["total"] == 10 * (n + 1)


def test_a_real_name_answers_like_a_random_word(search, people):
    for persona in ("ivy", "otto", "nobody"):
        for name, random_word in (("Quillon", "Zorbliq"), ("Hadrien Quillon", "Zorbliq Vantreux"), ("Malaure", "Pelvrine")):
            real, fake = _answer(search, people[persona], name), _answer(search, people[persona], random_word)
            assert real == fake and real["total"] == 0
            assert len(json.dumps(real)) == len(json.dumps(fake))
        for probe in ("Quil*", "Quillon~1", "Qillon~2", "Brener~2", "Hadr*", "malaure~1"):
            assert _answer(search, people[persona], probe)["total"] == 0, probe


@pytest.fixture
def index_work(monkeypatch) -> Iterator[Counter]:
    """A tally of what a search asks of the index and the database: posting lists, stored fields,
    files decrypted, SQL statements. Latency follows from it; bench/search.py times it."""
    work: Counter = Counter()

    def counting(owner, name):  # type: ignore[no-untyped-def]
        original = getattr(owner, name)

        def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
            work[f"{owner.__name__}.{name}"] += 1
            return original(*args, **kwargs)
        monkeypatch.setattr(owner, name, counted)

    for owner, name in ((SegmentReader, "postings"), (SegmentReader, "term_info"), (SegmentReader, "stored_fields"),
                        (SegmentReader, "expand_prefix"), (SegmentReader, "terms_within"), (SecretKey, "decrypt")):
        counting(owner, name)

    def statement(*_args) -> None:  # type: ignore[no-untyped-def]
        work["SQL statements"] += 1
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", statement)
    yield work
    sa.event.remove(sa.engine.Engine, "before_cursor_execute", statement)


def test_real_name_and_random_queries_do_the_same_work(search, people, index_work):
    """Item 27 without a clock: for someone who may not see it, a real name costs the index and
    the database exactly what a random word costs (bench/search.py times the two)."""
    def work(persona: str, query: str) -> Counter:
        index_work.clear()
        _answer(search, people[persona], query)
        return +index_work

    for persona in ("ivy", "otto", "nobody"):
        work(persona, "Zorbliq")  # warm: vocabularies, displays, searchers
        for name, random_word in (("Quillon", "Zorbliq"), ("Hadrien Quillon", "Zorbliq Vantreux"), ("Malaure", "Pelvrine"),
                                  ("Quil*", "Zorb*"), ("Quillon~1", "Zorbliq~1")):
            real, fake = work(persona, name), work(persona, random_word)
            assert real == fake, f"{persona}: the real name {name!r} cost {dict(real)}, a random word {dict(fake)}"
    assert work("ivy", "noose") != work("ivy", "Zorbliq"), "the tally does not see the index work of a hit"


def test_a_user_who_may_see_nothing_gets_an_empty_answer_without_whoosh(search, people, monkeypatch):
    def refuse(*_args):
        raise AssertionError("Whoosh was called for a user who may see nothing")

    monkeypatch.setattr(CaseIndex, "searcher", refuse)
    for persona in ("ada", "nobody"):
        assert _answer(search, people[persona], "noose") == {"total": 0, "page": 1, "hits": [], "facets": {}}
    with pytest.raises(QueryNotAllowed):  # the query is still checked, the same for everyone
        _answer(search, people["nobody"], "*oose")


def test_another_case_is_not_found_and_its_documents_never_appear(search, people, case):
    assert _answer(search, people["otto"], "noose")["total"] == 0
    from vault.errors import NotFound
    with pytest.raises(NotFound):
        _answer(search, people["otto"], "noose", case=case)


def test_every_hit_is_rechecked_against_the_database(vault, search, people, corpus):
    assert _answer(search, people["ivy"], "noose")["total"] == 1
    # the database says the call is back in review (a write of the vault's, with its MAC); the
    # index, not told, still says released
    with vault.store.write() as work:
        work.session.get(DocumentRow, corpus["call1"].id).status = "in_review"
    answer = _answer(search, people["ivy"], "noose")
    assert answer["hits"] == [] and answer["total"] == 0


def test_a_hit_whose_status_was_forged_refuses_the_search_and_is_never_shown(vault, search, people, corpus):
    """SECURITY-TESTS 61: a document put back in review, then released by raw SQL, with an outbox
    row so the indexes look at it: no investigator finds it, and a search it would answer is
    refused as tampered."""
    assert _answer(search, people["rex"], "alone")["total"] == 1  # the call in review
    assert _answer(search, people["ivy"], "alone")["total"] == 0
    with vault.db.engine.begin() as connection:
        connection.execute(sa.text("update document set status = 'released' where id = :id"), {"id": corpus["review"].id})
        connection.execute(sa.text("insert into index_outbox (case_id, document_id, purge, created_at) "
                                   "select case_id, id, :no, created_at from document where id = :id"),
                           {"id": corpus["review"].id, "no": False})
    search.catch_up()  # the follower leaves the tampered document out of every index
    assert _answer(search, people["ivy"], "alone")["total"] == 0
    with pytest.raises(StateTampered):  # had an index kept it, its hit refuses the search
        vault.feed.document_states([corpus["review"].id])


def test_every_search_is_audited_and_the_query_is_encrypted_at_rest(vault, search, people):
    _answer(search, people["ivy"], "secretive tangerine")
    entry = [e for e in vault.audit_entries(limit=1000) if e.action == "search"][-1]
    assert entry.details["user"] == people["ivy"].id and entry.details["query"] == "secretive tangerine"
    with vault.db.engine.connect() as connection:
        raw = b"".join(bytes(r[0]) for r in connection.execute(sa.text("select details_ct from audit_log")) if r[0])
    assert b"tangerine" not in raw


# -- the query language's limits -----------------------------------------------------------------

@pytest.mark.parametrize("query, code", [
    ("*oose", "QUERY_NOT_ALLOWED"),
    ("no?se", "QUERY_NOT_ALLOWED"),
    ("no*", "QUERY_NOT_ALLOWED"),
    ("noose~3", "QUERY_NOT_ALLOWED"),
    ("r\"no+se\"", "QUERY_NOT_ALLOWED"),
    ("/no+se/", "QUERY_NOT_ALLOWED"),
    ("document:abc", "QUERY_NOT_ALLOWED"),
    ("document:abc OR noose", "QUERY_NOT_ALLOWED"),
    ("pairs:noose", "QUERY_NOT_ALLOWED"),  # searched nothing, as if a word matched nowhere
    ("noose status:released", "QUERY_NOT_ALLOWED"),  # searched "status" and "released" as words
    ("version:1", "QUERY_NOT_ALLOWED"),
    ("(noose OR Speaker:H)", "QUERY_NOT_ALLOWED"),
    ("kind:video", "QUERY_INVALID"),
    ("date:yesterday", "QUERY_INVALID"),
    ('"noose', "QUERY_INVALID"),
    ("(" * 200 + "noose" + ")" * 200, "QUERY_TOO_COMPLEX"),
    (" OR ".join(f"w{i}" for i in range(65)), "QUERY_TOO_COMPLEX"),
    ("noose " * 200, "QUERY_TOO_LONG"),
    ("   ", "EMPTY_QUERY"),
])
def test_a_query_that_breaks_a_rule_is_refused_with_the_rule(search, people, query, code, monkeypatch):
    if query.startswith("*"):  # item 44: a leading wildcard is refused before any other work
        def refuse(*_args, **_kwargs):  # type: ignore[no-untyped-def]
            raise AssertionError(f"{query!r} reached the vault before it was refused")
        monkeypatch.setattr(search.vault, "heads", refuse)
        monkeypatch.setattr(CaseIndex, "searcher", refuse)
    with pytest.raises(QueryNotAllowed) as refused:
        _answer(search, people["ivy"], query)
    assert refused.value.code == code and refused.value.message


def test_random_queries_never_fail_with_anything_but_a_search_error(search, people):
    rng = random.Random(11)
    alphabet = 'abc noose"()*?~:^-+[]{}\\/!&|OR AND NOT speaker:kind:date:é東\u200b'
    for _ in range(300):
        query = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
        try:
            _answer(search, people["ivy"], query)
        except SearchError:
            pass


def test_prefixes_expand_within_a_bound(vault, case, people):
    words = " ".join(f"tango{i:03d}" for i in range(200))
    document = ingest_bytes(vault, case, f"[00:00:01] QM: {words}\n".encode(), "many.txt")
    release(vault, document.id, people["rex"], people["rita"])
    with Search.open(vault) as search:
        assert _answer(search, people["ivy"], "tango00*")["total"] == 1
        with pytest.raises(QueryNotAllowed) as broad:
            _answer(search, people["ivy"], "tango*")
        assert broad.value.code == "QUERY_TOO_BROAD"


def test_a_slow_search_stops_at_its_time_limit(vault, corpus, people):
    from search import SearchTimeout
    with Search.open(vault, time_limit=0.0) as search, pytest.raises(SearchTimeout):
        _answer(search, people["ivy"], "noose")


# -- following the database ----------------------------------------------------------------------

def test_changes_committed_while_no_index_was_open_are_replayed_at_open(vault, case, people, search):
    search.close()  # as if the process died after the database commit, before the index update
    document = ingest_bytes(vault, case, "[00:00:01] QM: the lighthouse keeper called.\n".encode(), "new.txt")
    release(vault, document.id, people["rex"], people["rita"])
    with Search.open(vault) as reopened:
        assert _answer(reopened, people["ivy"], "lighthouse")["total"] == 1


def test_an_index_commit_whose_mark_was_lost_is_replayed_without_duplicates(vault, search, people, case):
    before = _answer(search, people["ivy"], "noose red")
    index = search.follower.index(case.id, DocumentStatus.RELEASED)
    count = index.doc_count()
    index.set_mark(0)  # the process died after the index commit, before the mark moved
    search.close()
    with Search.open(vault) as reopened:
        assert _answer(reopened, people["ivy"], "noose red") == before
        assert reopened.follower.index(case.id, DocumentStatus.RELEASED).doc_count() == count


def test_a_tampered_index_is_rebuilt_at_open(vault, search, people, case):
    before = _answer(search, people["ivy"], "noose")
    search.close()
    segments = [p for p in (search.root / case.id / "released").iterdir() if p.suffix == ".seg"]
    assert segments
    data = bytearray(segments[0].read_bytes())
    data[len(data) // 2] ^= 1
    segments[0].write_bytes(bytes(data))
    with Search.open(vault) as reopened:
        assert _answer(reopened, people["ivy"], "noose") == before


def test_reindex_gives_the_same_answers(vault, search, people):
    before = [_answer(search, people[p], q) for p in ("ivy", "rex") for q in ("noose", "red notice", "speaker:H")]
    assert search.reindex() == 3  # every document of every case (the other case has none)
    assert [_answer(search, people[p], q) for p in ("ivy", "rex") for q in ("noose", "red notice", "speaker:H")] == before


def test_a_release_moves_the_document_between_indexes(vault, search, people, corpus):
    assert _answer(search, people["ivy"], "knows")["total"] == 0
    release(vault, corpus["review"].id, people["rex"], people["rita"])
    assert _answer(search, people["ivy"], "knows")["total"] == 1
    assert _answer(search, people["rex"], "knows")["total"] == 1  # once, not from both indexes



def test_a_case_created_after_the_indexes_opened_is_followed(vault, search):
    late = vault.create_case("Late case", actor="tester")
    reviewer = vault.add_user("rhea", "reviewer", cases=(late.id,), actor="tester")[0]
    ingest_bytes(vault, late, "[00:00:01] QM: the harbour master called.\n".encode(), "late.txt")
    assert _answer(search, reviewer, "harbour")["total"] == 1  # in review: its reviewer finds it


def test_a_rebuild_by_two_processes_answers_like_one(vault, search, people, case, monkeypatch):
    from search._engine import _index

    def answers() -> dict[str, dict]:
        # hits of equal score come in index order, which the processes' segments change
        found = {q: _answer(search, people["rex"], q) for q in ("noose", '"noose tighten"', "speaker:H",
                                                                "red OR notice", "tigh*")}
        for answer in found.values():
            answer["hits"].sort(key=lambda hit: (-hit["score"], hit["id"], hit["location"]["turn"]))
        return found

    before = answers()
    monkeypatch.setattr(_index, "PARALLEL_ABOVE_UNITS", 0)  # fork even for this small case
    monkeypatch.setattr(_follower, "INDEX_PROCS", 2)
    search.rebuild(case.id)
    assert answers() == before
    for status in (DocumentStatus.RELEASED, DocumentStatus.IN_REVIEW):
        index = search.follower.index(case.id, status)
        assert index.doc_count() > 0
        assert len(index.searcher().reader().leaf_readers()) == 2  # a segment from each process


def test_writers_forked_while_other_threads_search(vault, search, people, case, monkeypatch):
    """A fork copies a process whose other threads may hold locks (the storage's cache of
    decrypted files, above all). Searches run in three threads while every write forks two
    writer processes: no write hangs or fails, and every answer is one of the index's states."""
    import threading

    from search._engine import _index

    monkeypatch.setattr(_index, "PARALLEL_ABOVE_UNITS", 0)  # every write forks
    monkeypatch.setattr(_follower, "INDEX_PROCS", 2)
    start = _answer(search, people["ivy"], "harbour")["total"]
    stop, errors, totals = threading.Event(), [], set()

    def searching() -> None:
        while not stop.is_set():
            try:
                totals.add(_answer(search, people["ivy"], "harbour")["total"])
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

    threads = [threading.Thread(target=searching) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        for n in range(6):
            lines = "".join(f"[00:00:{t:02d}] QM: the harbour keeper {n} called twice ({t}).\n" for t in range(10))
            document = ingest_bytes(vault, case, lines.encode(), f"harbour-{n}.txt")
            release(vault, document.id, people["rex"], people["rita"])
            search.catch_up()
            assert len(search.follower.index(case.id, DocumentStatus.RELEASED).searcher().reader().leaf_readers()) >= 2
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert not errors
    assert _answer(search, people["ivy"], "harbour")["total"] == start + 60
    assert totals <= {start + 10 * n for n in range(7)} and len(totals) > 1


def test_an_index_of_an_older_format_is_rebuilt_at_open(vault, search, people, case):
    before = _answer(search, people["ivy"], "noose")
    search.close()
    marks = list((search.root / case.id).glob("*/format.mark"))
    assert len(marks) == 2  # released and in review
    marks[0].unlink()  # what an index written by an earlier version lacks
    with Search.open(vault) as reopened:
        assert _answer(reopened, people["ivy"], "noose") == before
        assert all(path.exists() for path in marks)


def test_searches_from_many_threads_answer_like_one_at_a_time(search, people):
    queries = ["noose", '"red notice"', "speaker:H", "sister OR mother", "tigh*", "notise~1"]
    expected = {q: _answer(search, people["rex"], q) for q in queries}
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda i: (queries[i % len(queries)], _answer(search, people["rex"], queries[i % len(queries)])),
                                range(96)))
    assert all(answer == expected[query] for query, answer in answers)


def test_a_decision_rewrites_a_segment_shared_with_other_documents(vault, search, people, case):
    """A purge copies the live units of a segment into a new one. Whoosh read the short posting
    lists kept in the term entry of value-less fields (document, kind, date, ...) back with a str
    value, and its posting pool refused them (AssertionError): every search then failed with 500."""
    first = ingest_bytes(vault, case, "[00:00:01] QM: Odile Verlaine keeps the harbour keys.\n".encode(), "a.txt")
    ingest_bytes(vault, case, "[00:00:01] QM: the harbour master called twice.\n".encode(), "b.txt")
    search.catch_up()  # one commit: both documents in one segment of the review index
    pending = [r["id"] for u in vault.masked(first.id).units for r in u.suggestions if r["state"] == "pending"]
    assert pending
    vault.decide(first.id, people["rex"], pending, accept=False, actor="tester")  # re-masked: a purge
    search.catch_up()
    assert _answer(search, people["rex"], "harbour")["total"] == 2
    assert _answer(search, people["rex"], "master")["total"] == 1


def test_a_failed_index_commit_releases_the_write_lock(vault, search, people, case, monkeypatch):
    """A commit that raises cancels its writer. Before, the writer kept the index's write lock for
    as long as the exception lived (an error handler or log holds it; its frames hold the writer):
    the next write waited WRITE_LOCK_SECONDS holding the sync lock, and every search behind it."""
    from search._engine import _index

    def broken(_writer, _segments):
        raise RuntimeError("merge failed")

    index = search.follower.index(case.id, DocumentStatus.IN_REVIEW)
    merge = _index._merge_when_many
    monkeypatch.setattr(_index, "WRITE_LOCK_SECONDS", 0.5)
    monkeypatch.setattr(_index, "_merge_when_many", broken)
    try:
        index.replace([], [], purge=False)
    except IndexWriteFailed as error:  # the engine's own failure, whatever Whoosh raised inside
        failed = error  # kept alive, with its traceback
    monkeypatch.setattr(_index, "_merge_when_many", merge)
    index.replace([], [], purge=False)  # IndexLocked if the failed writer still held the lock
    assert failed.__traceback__ is not None
    assert _answer(search, people["rex"], "knows")["total"] == 1


class _Writing:
    """Another thread holding the indexes' write lock, as an upload's indexing does."""

    def __init__(self, search) -> None:
        import threading
        self._held, self._done = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._hold, args=(search,))

    def _hold(self, search) -> None:
        with search.follower.lock:
            self._held.set()
            self._done.wait(30)

    def __enter__(self):
        self._thread.start()
        assert self._held.wait(5)
        return self

    def __exit__(self, *_exc) -> None:
        self._done.set()
        self._thread.join(5)


def test_a_search_answers_from_the_last_commit_while_another_thread_indexes_additions(vault, search, people, case):
    """An addition pending behind another thread's write does not hold a search up: it answers
    as if it had come a moment earlier, and the next search once the write is done finds it."""
    late = ingest_bytes(vault, case, "[00:00:01] QM: the harbour master called.\n".encode(), "late.txt")
    with _Writing(search), concurrent.futures.ThreadPoolExecutor(1) as pool:
        answer = pool.submit(_answer, search, people["rex"], "harbour")
        assert answer.result(timeout=10)["total"] == 0  # answered while the lock was held
    assert _answer(search, people["rex"], "harbour")["hits"][0]["id"] == late.id


def test_a_search_waits_for_a_pending_purge_and_never_counts_its_old_terms(vault, search, people, case):
    """A re-masking pending behind another thread's write could leave a now-masked word in the
    index: the search waits for it rather than count it."""
    document = ingest_bytes(vault, case, "[00:00:01] QM: Odile Verlaine keeps the keys.\n".encode(), "late.txt")
    release(vault, document.id, people["rex"], people["rita"])
    assert _answer(search, people["ivy"], "verlaine")["total"] == 1  # unregistered: an ordinary word
    vault.add_identity(case, name="Odile Verlaine", label="Relative 1", actor="tester")  # re-masks: a purge
    with _Writing(search) as writing, concurrent.futures.ThreadPoolExecutor(1) as pool:
        answer = pool.submit(_answer, search, people["ivy"], "verlaine")
        with pytest.raises(concurrent.futures.TimeoutError):
            answer.result(timeout=1)  # waiting for the lock, not answering from before the purge
        writing.__exit__()
        assert answer.result(timeout=30)["total"] == 0
