"""The search page sorts by date, and keeps the sort when paging and when a facet narrows the query."""

from __future__ import annotations

import re
from datetime import date

from tests.conftest import ingest_bytes, set_document_dates
from tests.search.conftest import release
from tests.web.pages.conftest import csrf_of, search, sign_in

DAYS = re.compile(r'<time class="document-date" datetime="(\d{4}-\d{2}-\d{2})">')  # the hit's document date


def _lanterns(world, count: int) -> list[str]:
    """``count`` released calls that mention a lantern, one a day from 1 January 2024 on; their
    days, in order."""
    days = {}
    for i in range(count):
        call = f"[00:00:01] QM: the lantern, call {i}.\n[00:00:05] H: Yes.\n".encode()
        document = ingest_bytes(world.vault, world.case, call, f"lantern{i}.txt")
        release(world.vault, document.id, world.users["reviewer"], world.users["reviewer2"])
        days[document.id] = date(2024, 1, 1 + i)
    set_document_dates(world.vault.db.engine, days)
    world.app.state.services.search.reindex()  # the index reads the dates when it is rebuilt
    return sorted(d.isoformat() for d in days.values())


def test_the_search_page_keeps_a_date_sort_across_pages_and_facets(world):
    days = _lanterns(world, 12)
    ivy = sign_in(world, "investigator")
    token = csrf_of(ivy)
    first = search(ivy, token, "lantern", case="", sort="oldest")
    assert first.status_code == 200, first.text[:2000]
    assert first.url.params["sort"] == "oldest" and '<option value="oldest" selected>' in first.text
    assert DAYS.findall(first.text) == days[:10]
    # the next page is a link on the search's own id; each facet's form carries the sort
    path = first.url.path
    assert f'href="{path}?page=2&amp;sort=oldest"' in first.text
    kept = re.findall(r'<input type="hidden" name="sort" value="(\w+)">', first.text)
    facets = first.text.count('name="facet"')
    assert facets >= 2 and kept == ["oldest"] * facets
    second = ivy.get(f"{path}?page=2&sort=oldest")
    assert DAYS.findall(second.text) == days[10:] and '<option value="oldest" selected>' in second.text
    narrowed = search(ivy, token, "lantern", case="", sort="newest", facet="date:[2024-01-01 TO 2024-12-31]")  # the year's
    assert DAYS.findall(narrowed.text) == days[::-1][:10] and '<option value="newest" selected>' in narrowed.text
    assert narrowed.url.path != path  # a narrowed query is a search of its own


def test_an_unknown_sort_is_an_error_page(world):
    ivy = sign_in(world, "investigator")
    answer = ivy.post("/search", data={"csrf": csrf_of(ivy), "q": "lantern", "sort": "date"})
    assert answer.status_code == 400 and "sort is one of relevance, newest, oldest" in answer.text
