"""A page of documents with their hits (``Search.grouped``), the filters a results page offers
as chips, and the search's words highlighted in a document view (``search._highlight``)."""

from __future__ import annotations

import dataclasses

import pytest

from redaction import TOKEN_PATTERN
from search import query_filters, without_filter
from search._highlight import highlights
from tests.conftest import ingest_bytes
from tests.search.conftest import NAMES, release
from vault import MaskedDocument


@pytest.fixture
def nooses(vault, case, people, corpus):
    document = ingest_bytes(vault, case, b"[00:00:01] QM: The noose.\n[00:00:04] H: Which noose?\n"
                                         b"[00:00:08] QM: Hadrien knows which noose.\n",
                            "audition_Hadrien_Quillon.txt")
    release(vault, document.id, people["rex"], people["rita"])
    return document


def test_a_page_lists_each_document_once_with_its_hits_under_its_masked_title(vault, search, people, nooses):
    search.catch_up()
    page = search.grouped(people["ivy"], "noose", actor="ivy")
    assert (page.total, page.documents, page.complete) == (4, 2, True)
    titles = {e.title: e for e in page.entries}
    assert set(titles) == {"call1.txt", "audition_H.txt"}
    entry = titles["audition_H.txt"]
    assert entry.document_id == nooses.id and len(entry.hits) == 3 and entry.more == 0
    assert {h.document_id for h in entry.hits} == {nooses.id}
    for name in NAMES:
        assert name not in repr(page), f"{name} leaked into an investigator's results"
    one = search.grouped(people["ivy"], "noose", actor="ivy", per_page=1, page=2)
    assert one.has_next is False and len(one.entries) == 1 and one.entries[0].title == page.entries[1].title


def test_a_title_shows_a_real_name_only_to_who_may_see_it_and_the_reveal_is_audited(vault, search, people, nooses):
    search.catch_up()
    page = search.grouped(people["rex"], "noose", actor="rex")
    assert "audition_Hadrien Quillon.txt" in {e.title for e in page.entries}
    entry = vault.audit_entries(limit=10_000)[-1]
    assert entry.action == "search" and entry.details.get("revealed")


@pytest.mark.parametrize(("query", "chips", "without_first"), [
    ('noose kind:"court_record"', ["Kind: Court record"], "noose"),
    ("noose speaker:H date:[2024-01-01 TO 2024-12-31]", ["Speaker: H", "Year: 2024"], "noose date:[2024-01-01 TO 2024-12-31]"),
    ("noose date:[2024-01-01 TO 2024-06-30]", ["Date: 2024-01-01 to 2024-06-30"], "noose"),
    # under NOT, OR or parentheses a filter is no chip: taking it out alone changes the rest
    ("noose NOT kind:transcript", [], None),
    ("noose OR kind:transcript", [], None),
    ("(noose kind:transcript) OR rope", [], None),
    ('"kind:transcript noose"', [], None),
])
def test_the_filters_offered_as_chips(query, chips, without_first):
    assert [f.label for f in query_filters(query)] == chips
    if without_first is not None:
        assert without_filter(query, 0) == without_first
    assert without_filter(query, 7) == query  # no such filter: the query unchanged


def test_a_view_that_is_not_the_masked_form_gets_no_highlight(vault, search, people, corpus):
    document = corpus["call1"].id
    view = vault.view(document, people["ivy"], actor="ivy")
    masked = vault.masked(document)
    token = TOKEN_PATTERN.search(masked.units[0].text).group()  # H, where "Hadrien" was
    assert highlights(view, masked, frozenset({"noos", token})).count >= 2
    # re-masked in between: the text around a token moved; nothing lights up rather than the wrong words
    moved = dataclasses.replace(masked, units=tuple(dataclasses.replace(u, text="x " + u.text) for u in masked.units))
    assert highlights(view, MaskedDocument.from_json(moved.to_json()), frozenset({"noos", token})).count == 0
