"""Orders of a search (relevance, newest, oldest), paging through them, and the counts beside them.

Personas: rob and rae, reviewers of two cases (they see released and in-review documents of
both); ivy, investigator of the first case only.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from search import Search
from tests.conftest import ingest_bytes
from tests.search.conftest import release
from vault._models import DocumentRow


def _answer(search, user, query, **kwargs) -> dict:
    return search.search(user, query, actor="tester", **kwargs).to_json()


def _transcript(*lines: str) -> bytes:
    return "".join(f"[00:00:{i:02d}] QM: {line}\n" for i, line in enumerate(lines)).encode()


def _set_days(vault, days: dict[str, date]) -> None:
    """Move documents to the day they came in (the index reads it at the next rebuild)."""
    with vault.db.engine.begin() as connection:
        for document_id, day in days.items():
            moment = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
            connection.execute(sa.update(DocumentRow).where(DocumentRow.id == document_id).values(created_at=moment))


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
