"""Orders of a search (relevance, newest, oldest), paging through them, and the counts beside them.

Personas: rob and rae, reviewers of two cases (they see released and in-review documents of
both); ivy, investigator of the first case only; nobody, investigator of no case.
"""

from __future__ import annotations

from datetime import date

import pytest

from search import Search
from tests.conftest import ingest_bytes, set_document_dates
from tests.search.conftest import release
from vault.errors import InvalidInput

SORTS = ["relevance", "newest", "oldest"]


def _answer(search, user, query, **kwargs) -> dict:
    return search.search(user, query, actor="tester", **kwargs).to_json()


def _transcript(*lines: str) -> bytes:
    return "".join(f"[00:00:{i:02d}] QM: {line}\n" for i, line in enumerate(lines)).encode()


@pytest.fixture
def cases(vault, case):
    return {"h": case, "k": vault.create_case("Affaire K", actor="tester")}


@pytest.fixture
def users(vault, cases):
    both = (cases["h"].id, cases["k"].id)
    return {
        "rob": vault.add_user("rob", "reviewer", cases=both, actor="tester")[0],
        "rae": vault.add_user("rae", "reviewer", cases=both, actor="tester")[0],
        "ivy": vault.add_user("ivy", "investigator", cases=(cases["h"].id,), actor="tester")[0],
        "nobody": vault.add_user("nobody", "investigator", actor="tester")[0],
    }


def _ingest(vault, users, case, data: bytes, name: str, *, released: bool) -> str:
    document = ingest_bytes(vault, case, data, name)
    if released:
        release(vault, document.id, users["rob"], users["rae"])
    return document.id


# -- counts --------------------------------------------------------------------------------------

def test_the_total_counts_every_match_when_one_word_of_an_or_cannot_reach_the_page(vault, cases, users):
    # a better unit found once the page is full raises the lowest score on the page; Whoosh hands
    # that score to the matcher, which, while "noose" has matches ahead, then skips what only
    # "rope" matches (it cannot reach the page): skipped by the counts too. Indexed in this order
    # (the order the documents came in), it would be.
    _ingest(vault, users, cases["h"], _transcript("a noose, once", "and a turn"), "noose1.txt", released=True)
    _ingest(vault, users, cases["h"], _transcript("noose noose noose", "and a turn"), "noose3.txt", released=True)
    for i in range(12):
        _ingest(vault, users, cases["h"], _transcript(f"rope number {i} among many other words", "and a turn"),
                f"rope{i}.txt", released=True)
    _ingest(vault, users, cases["h"], _transcript("the noose again", "and a turn"), "noose-last.txt", released=True)
    with Search.open(vault) as search:
        for per_page in (1, 2, 20):
            answer = _answer(search, users["ivy"], "noose OR rope", per_page=per_page)
            assert answer["total"] == 15, per_page
            assert answer["facets"]["kind"] == {"transcript": 15}, per_page


# -- by date -------------------------------------------------------------------------------------

OLD, MID, NEW = date(2024, 3, 1), date(2024, 3, 5), date(2024, 3, 9)
# name: (case, released, day, turns); ingested in this order, which is no order of days
DATED = {
    "k-mid-review": ("k", False, MID, ("a noose in review", "and a turn")),
    "h-new-review": ("h", False, NEW, ("the noose, newly", "and a turn")),
    "h-mid-weak": ("h", True, MID, ("the noose among many other words said", "and a turn")),
    "h-old": ("h", True, OLD, ("the noose, long ago", "and a turn")),
    "k-new": ("k", True, NEW, ("a noose, new in K", "and a turn")),
    "h-mid-strong": ("h", True, MID, ("noose noose noose", "and a turn")),
}


@pytest.fixture
def dated(vault, cases, users):
    """Units that match "noose", on three days, in two cases, released and in review; the names
    of the documents by id."""
    names = {_ingest(vault, users, cases[c], _transcript(*turns), f"{name}.txt", released=released): name
             for name, (c, released, _day, turns) in DATED.items()}
    set_document_dates(vault.db.engine, {document_id: DATED[name][2] for document_id, name in names.items()})
    return names


def _order(answer: dict, names: dict[str, str]) -> list[tuple[str, str]]:
    return [(h["location"]["date"], names[h["id"]]) for h in answer["hits"]]


def _assert_relevance_within_days(answer: dict) -> None:
    days: dict[str, list[float]] = {}
    for hit in answer["hits"]:
        days.setdefault(hit["location"]["date"], []).append(hit["score"])
    for day, scores in days.items():
        assert scores == sorted(scores, reverse=True), f"{day}: {scores} is not the most relevant first"


def test_newest_and_oldest_order_by_the_day_then_by_relevance_across_cases_and_statuses(vault, users, dated):
    with Search.open(vault) as search:
        newest = _answer(search, users["rob"], "noose", sort="newest")
        oldest = _answer(search, users["rob"], "noose", sort="oldest")
        by_relevance = _answer(search, users["rob"], "noose")
        # pages of two: each index keeps only the best few, by the key of the sort
        paged = {sort: [h for page in (1, 2, 3) for h in _answer(search, users["rob"], "noose", sort=sort,
                                                                  page=page, per_page=2)["hits"]]
                 for sort in SORTS}
    assert paged == {"relevance": by_relevance["hits"], "newest": newest["hits"], "oldest": oldest["hits"]}
    assert newest["total"] == oldest["total"] == by_relevance["total"] == 6
    for answer, days in ((newest, [NEW] * 2 + [MID] * 3 + [OLD]), (oldest, [OLD] + [MID] * 3 + [NEW] * 2)):
        assert [day for day, _ in _order(answer, dated)] == [d.isoformat() for d in days]
        _assert_relevance_within_days(answer)
        mid = [name for day, name in _order(answer, dated) if day == MID.isoformat()]
        assert mid.index("h-mid-strong") < mid.index("h-mid-weak")  # one index: relevance decides
    assert {name for _, name in _order(newest, dated)} == set(DATED)
    scores = [h["score"] for h in by_relevance["hits"]]
    assert scores == sorted(scores, reverse=True)  # relevance stays the default
    assert by_relevance["facets"] == newest["facets"] == oldest["facets"]


def test_an_investigator_sees_the_date_order_of_what_they_may_see_page_by_page(vault, users, dated):
    # one index (the released units of case H): with one hit a page, the index itself must keep
    # the best by the day first ("h-old" scores above "h-mid-weak", below "h-mid-strong")
    expected = {"newest": ["h-mid-strong", "h-mid-weak", "h-old"], "oldest": ["h-old", "h-mid-strong", "h-mid-weak"]}
    with Search.open(vault) as search:
        for sort, names in expected.items():
            whole = _answer(search, users["ivy"], "noose", sort=sort)
            assert [name for _, name in _order(whole, dated)] == names and whole["total"] == 3
            paged = [_answer(search, users["ivy"], "noose", sort=sort, page=page, per_page=1) for page in (1, 2, 3)]
            assert [name for p in paged for _, name in _order(p, dated)] == names, sort


@pytest.mark.parametrize("sort", SORTS)
def test_paging_through_many_equal_keys_gives_every_hit_once(vault, cases, users, sort):
    # 25 units that score alike within their index, all of one day, in four indexes (two cases,
    # released and in review); 15 of them in one index, in five documents: more than a page, so
    # the index itself cuts among equals, and a page boundary falls among them
    layout = {("h", True): (3, 3, 3, 3, 3), ("h", False): (4,), ("k", True): (3,), ("k", False): (3,)}
    documents = []
    for (c, released), turns in layout.items():
        for n, count in enumerate(turns):
            name = f"{c}-{released}-{n}"
            data = _transcript(*["the noose"] * count, f"over and out, {name}")
            documents.append(_ingest(vault, users, cases[c], data, f"{name}.txt", released=released))
    set_document_dates(vault.db.engine, dict.fromkeys(documents, MID))
    with Search.open(vault) as search:
        pages = [_answer(search, users["rob"], "noose", sort=sort, page=page, per_page=10) for page in (1, 2, 3)]
    assert [len(p["hits"]) for p in pages] == [10, 10, 5] and {p["total"] for p in pages} == {25}
    seen = [(h["id"], h["location"]["turn"]) for p in pages for h in p["hits"]]
    twice = sorted({hit for hit in seen if seen.count(hit) > 1})
    assert not twice, f"on two pages: {twice}"
    assert len(set(seen)) == 25


def test_an_unknown_sort_is_refused_with_the_sorts_there_are(vault, users, dated):
    with Search.open(vault) as search:
        for persona in ("rob", "nobody"):  # the same for a user who may see nothing
            with pytest.raises(InvalidInput) as refused:
                _answer(search, users[persona], "noose", sort="date")
            assert refused.value.message == "sort is one of relevance, newest, oldest"
