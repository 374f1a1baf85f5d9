"""The bulk path (search._engine._bulk) answers exactly as Whoosh's matcher walk does.

Over a corpus spread across several segments, with deleted units in the in-review index (a
release deletes without rewriting), random queries of every shape the language has are
answered twice, from posting lists in bulk and by the collector walking Whoosh's matchers: the
same totals, facets, hits, order and scores.
"""

from __future__ import annotations

import random
from datetime import date

import pytest
from whoosh import query as q

from search import Search
from search._engine import _bulk
from search._engine._parse import expand, parse
from tests.conftest import ingest_bytes, set_document_dates
from vault import DocumentStatus

WORDS = ("noose tighten sister mother harbour keeper notice red lyon family waiting called money "
         "return home villa lawyer ferry morning evening twice keys letter station").split()


@pytest.fixture
def database_url() -> None:
    return None  # the index is the subject here; the storage tests run both databases


@pytest.fixture
def spread(vault, case, people):
    """60 transcripts in six commits: released ones leave deleted units in the review index."""
    rng = random.Random(11)
    with Search.open(vault) as search:
        for batch in range(6):
            documents = []
            for n in range(10):
                turns = [f"[00:00:{t:02d}] {rng.choice(['H', 'QM'])}: " + " ".join(rng.choices(WORDS, k=rng.randint(4, 14)))
                         for t in range(rng.randint(1, 6))]
                documents.append(ingest_bytes(vault, case, ("\n".join(turns) + "\n").encode(), f"b{batch}-{n}.txt"))
            # days spread over a week, so a date sort has days to order and ties within each
            set_document_dates(vault.db.engine, {d.id: date(2026, 3, rng.randint(1, 7)) for d in documents})
            search.catch_up()
            released = documents[: 4 + batch]
            for document in released:  # decided (re-masked: a purge), and indexed so ...
                _decide_all(vault, document.id, people["rex"])
            search.catch_up()
            for document in released:  # ... the release only deletes from the review index
                vault.release(document.id, people["rita"], actor="tester")
            search.catch_up()
        yield search


def _decide_all(vault, document_id, reviewer) -> None:
    pending = [r["id"] for u in vault.masked(document_id).units for r in u.suggestions if r["state"] == "pending"]
    if pending:
        vault.decide(document_id, reviewer, pending, accept=False, actor="tester")


def _queries(rng: random.Random) -> list[str]:
    def word() -> str:
        return rng.choice(WORDS)
    shapes = [
        lambda: word(),
        lambda: f"{word()} {word()}",
        lambda: f"{word()} OR {word()}",
        lambda: f'"{word()} {word()}"',
        lambda: f"{word()} NOT {word()}",
        lambda: f"{word()} ANDMAYBE {word()}",
        lambda: f"({word()} OR {word()}) {word()}",
        lambda: f"speaker:H {word()}",
        lambda: f"kind:transcript {word()}",
        lambda: f"kind:court_record {word()} {word()}",
        lambda: f"{rng.choice([w for w in WORDS if len(w) >= 5])[:4]}*",
        lambda: f"{word()}~1",
        lambda: f"({word()} OR {word()* 2}) NOT ({word()} {word()})",
        # the corpus's units came in on 2026-03-01 .. 07
        lambda: f"date:2026-03-0{rng.randint(1, 7)} {word()}",
        lambda: f"date:[2026-03-0{rng.randint(1, 4)} TO 2026-03-0{rng.randint(4, 8)}] {word()}",
        lambda: f"date:[2026-03-0{rng.randint(1, 7)} TO 2026-03-0{rng.randint(1, 7)}]",
        lambda: f"{word()} NOT date:2026-03-0{rng.randint(1, 7)}",
        lambda: f"{word()} OR date:2026-03-0{rng.randint(1, 7)}",
        lambda: rng.choice(["date:2026", "date:2025", "date:2026-03", "kind:transcript date:2026"]),
    ]
    return [rng.choice(shapes)() for _ in range(120)]


def test_bulk_answers_like_the_matcher_walk(spread, people):
    rng = random.Random(5)
    for persona in ("rex", "ivy"):
        for query in _queries(rng):
            for page, sort in ((1, "relevance"), (2, "relevance"), (1, "newest"), (2, "oldest")):
                spread.bulk = True
                bulk = spread.search(people[persona], query, actor="tester", page=page, sort=sort).to_json()
                spread.bulk = False
                walked = spread.search(people[persona], query, actor="tester", page=page, sort=sort).to_json()
                assert bulk == walked, (persona, query, page, sort)
    spread.bulk = True


def test_andnot_is_a_set_difference_where_whoosh_walk_is_not(spread, case):
    """Whoosh's AndNotMatcher lets through a unit holding the excluded word (here the review
    index answers ``notice ANDNOT ferry`` with one unit that says "ferry"): the bulk path is held
    to the difference of the two words' own matches instead of to the walk."""
    for status in (DocumentStatus.RELEASED, DocumentStatus.IN_REVIEW):
        index = spread.follower.index(case.id, status)
        searcher = index.searcher()
        for a, b in (("notice", "ferry"), ("sister", "mother"), ("keys", "red")):
            first = {hit.docnum for hit in searcher.search(parse(a).query, limit=None)}
            second = {hit.docnum for hit in searcher.search(parse(b).query, limit=None)}
            query = parse(f"{a} ANDNOT {b}").query
            matched = _bulk.run(query, searcher, 10_000, index.segment_lengths, index.columns, deadline=float("inf"))
            assert {docnum for _, _, docnum in matched.top} == first - second, (status, a, b)


def test_the_corpus_has_what_the_comparison_needs(spread, case):
    """Several segments, and deleted units in one of them: else the test above proves less."""
    review = spread.follower.index(case.id, DocumentStatus.IN_REVIEW).searcher()
    released = spread.follower.index(case.id, DocumentStatus.RELEASED).searcher()
    assert len(released.reader().leaf_readers()) > 1
    assert any(reader.has_deletions() for reader, _ in review.reader().leaf_readers())


def test_bulk_scores_equal_whoosh_scores_unit_by_unit(spread, case):
    """Below the service: the scores of every match, from the bulk path and from Whoosh."""
    searcher = spread.follower.index(case.id, DocumentStatus.RELEASED).searcher()
    index = spread.follower.index(case.id, DocumentStatus.RELEASED)
    for text in ("noose", "harbour keeper", "red OR lyon", "sister NOT mother", "speaker:H money",
                 "kind:transcript keys", "kind:court_record OR keys"):
        query = expand(parse(text).query, searcher.reader())
        matched = _bulk.run(query, searcher, 10_000, index.segment_lengths, index.columns, deadline=float("inf"))
        whoosh = {hit.docnum: hit.score for hit in searcher.search(query, limit=None)}
        assert matched.total == len(whoosh) > 0, text
        assert {d: round(s, 9) for s, _, d in matched.top} == {d: round(s, 9) for d, s in whoosh.items()}, text


def test_what_the_bulk_path_does_not_answer_is_left_to_the_walk(spread, people):
    assert _bulk.supported(parse("date:2026").query) and _bulk.supported(parse("date:[2026-03-01 TO 2026-03-04] noose").query)
    assert not _bulk.supported(q.NumericRange("year", 2020, 2026))
    assert not _bulk.supported(q.Not(q.Term("text", "noos")))
    assert _bulk.supported(parse("noose NOT sister").query)
    answer = spread.search(people["rex"], "date:2026 noose", actor="tester")
    assert answer.total > 0


def test_the_walk_counts_every_match_once_its_page_is_full(spread, case):
    """The walk (date ranges take it) counted only the matches seen before its page filled:
    TopCollector's rising minimum score let Whoosh prune the posting lists that could not beat
    it. Totals and facets count every match."""
    from search._engine._walk import CountingCollector
    missed = []
    for status in (DocumentStatus.RELEASED, DocumentStatus.IN_REVIEW):
        index = spread.follower.index(case.id, status)
        searcher = index.searcher()
        for text in [*WORDS, *(f"{word}~1" for word in WORDS), "red OR lyon OR keys"]:
            query = expand(parse(text).query, searcher.reader())
            for limit in (1, 10):
                collector = CountingCollector(limit, index.columns)
                searcher.search_with_collector(query, collector)
                if sum(collector.facets["kind"].values()) != len(searcher.search(query, limit=None)):
                    missed.append((status, text, limit))
    assert not missed


def test_a_posting_list_the_bulk_path_cannot_read_is_left_to_the_walk(spread, people, monkeypatch):
    expected = spread.search(people["rex"], "keys OR red", actor="tester").to_json()

    def unreadable(*_args):
        raise _bulk.Unsupported("a matcher of another kind")
    monkeypatch.setattr(_bulk, "_postings", unreadable)
    assert spread.search(people["rex"], "keys OR red", actor="tester").to_json() == expected


@pytest.mark.parametrize("operator, meaning", [("ANDNOT", "NOT"), ("REQUIRE", "AND")])
def test_andnot_and_require_answer_as_and_not_and_and_on_both_paths(spread, people, operator, meaning):
    """Whoosh's walk answered ``a ANDNOT b`` (and ``a REQUIRE b``) with units holding ``b``
    (its AndNotMatcher); both are rewritten when parsed, so the walk and the bulk path agree
    with ``a NOT b`` and ``a AND b``."""
    for a, b in (("notice", "ferry"), ("sister", "mother"), ("keys", "red"), ("harbour", "keeper")):
        for persona in ("rex", "ivy"):
            for bulk in (True, False):
                spread.bulk = bulk
                asked = spread.search(people[persona], f"{a} {operator} {b}", actor="tester", per_page=50).to_json()
                meant = spread.search(people[persona], f"{a} {meaning} {b}", actor="tester", per_page=50).to_json()
                assert asked == meant, (persona, "bulk" if bulk else "walk", f"{a} {operator} {b}")
    spread.bulk = True
