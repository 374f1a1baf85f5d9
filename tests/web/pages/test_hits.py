"""Readable hits: documents with their hits beneath, masked titles, removable filters, and the
document view opened from a hit (the search's words highlighted, previous/next hit, back to the
same results). Through real HTTP, on SQLite (the pages add no SQL of their own)."""

from __future__ import annotations

import html
import re

import pytest

from tests.conftest import ingest_bytes
from tests.search.conftest import release
from tests.web.pages.conftest import csrf_of, search, sign_in
from web.pages import _search

REAL_NAMES = ("Hadrien", "Quillon", "Quentin", "Malaure")
ENTRY = re.compile(r'<article class="hit">.*?</article>', re.S)
TITLE_LINK = re.compile(r'<h2><a href="([^"]+)">([^<]*)</a></h2>')
# three turns holding "noose", under a file name that names the protected man
NOOSES = (b"[00:00:01] QM: The noose, again.\n[00:00:04] H: What noose?\n"
          b"[00:00:08] QM: Hadrien knows which noose.\n[00:00:12] H: Leave me alone.\n")


@pytest.fixture
def nooses(world):
    """A third released call, titled by its file name "audition_Hadrien_Quillon.txt"."""
    document = ingest_bytes(world.vault, world.case, NOOSES, "audition_Hadrien_Quillon.txt")
    release(world.vault, document.id, world.users["reviewer"], world.users["reviewer2"])
    world.app.state.services.search.catch_up()
    return document


def link(text: str, rel: str) -> str:
    return html.unescape(re.search(rf'<a rel="{rel}" href="([^"]+)"', text).group(1))


def assert_no_real_name(text: str, where: str) -> None:
    for name in REAL_NAMES:
        assert name not in text, f"{name} leaked into {where}"


def test_hits_of_one_document_are_grouped_under_its_masked_title(world, nooses):
    ivy = sign_in(world, "investigator")
    page = search(ivy, csrf_of(ivy), "noose")
    assert page.status_code == 200
    assert "4 hits in 2 documents" in page.text
    entries = ENTRY.findall(page.text)
    assert len(entries) == 2, "each document is listed once"
    titles = {TITLE_LINK.search(e).group(2): e for e in entries}
    assert set(titles) == {"call1.txt", "audition_H.txt"}, titles  # the file name's name is masked
    grouped = titles["audition_H.txt"]
    assert grouped.count('class="document-hit"') == 3 and "3 hits" in grouped
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\d">', grouped)  # the date its hits carry
    assert_no_real_name(page.text, "the results")


def test_results_are_paged_by_documents_and_a_document_is_on_one_page_only(world, nooses, monkeypatch):
    monkeypatch.setattr(_search, "PER_PAGE", 1)
    ivy = sign_in(world, "investigator")
    first = search(ivy, csrf_of(ivy), "noose")
    assert "4 hits in 2 documents, page 1" in first.text
    second = ivy.get(link(first.text, "next"))
    assert second.status_code == 200 and "page 2" in second.text and 'rel="next"' not in second.text
    ids = [set(re.findall(r'/documents/([0-9a-f-]{36})', ENTRY.findall(p.text)[0])) for p in (first, second)]
    assert len(ids[0]) == len(ids[1]) == 1 and not ids[0] & ids[1]
    assert ivy.get(link(second.text, "prev")).text.count('class="document-hit"') == \
        first.text.count('class="document-hit"')


def test_an_active_filter_is_a_chip_that_removes_that_filter_alone(world):
    ivy = sign_in(world, "investigator")
    token = csrf_of(ivy)
    narrowed = search(ivy, token, 'noose kind:"transcript" date:[2020-01-01 TO 2099-12-31]')
    assert narrowed.status_code == 200
    assert "Kind: Transcript" in narrowed.text and "Date: 2020-01-01 to 2099-12-31" in narrowed.text
    page = narrowed.url.path
    removed = ivy.post(f"{page}/remove", data={"csrf": token, "filter": "0", "sort": "relevance"})
    assert removed.status_code == 303
    assert re.fullmatch(r"/search/[0-9a-f]{32}", removed.headers["location"]) and removed.headers["location"] != page
    wider = ivy.get(removed.headers["location"])
    assert 'value="noose date:[2020-01-01 TO 2099-12-31]"' in wider.text
    assert "Kind: Transcript" not in wider.text and "Date: 2020-01-01 to 2099-12-31" in wider.text
    # a filter under NOT is no chip: taking it out alone would change what the rest means
    assert 'class="chips"' not in search(ivy, token, "noose NOT kind:court_record").text
    # the filter's number, never the query, in the form; anyone else's search is a 404
    for persona in ("reviewer", "outsider", "admin"):
        client = sign_in(world, persona)
        answer = client.post(f"{page}/remove", data={"csrf": csrf_of(client), "filter": "0"})
        assert answer.status_code == 404, (persona, answer.status_code)
        assert "noose" not in answer.text
    assert ivy.post(f"{page}/remove", data={"csrf": token, "filter": "x"}).status_code == 400


def test_a_hit_opens_its_document_at_the_hit_and_walks_to_the_next_and_back(world, nooses):
    ivy = sign_in(world, "investigator")
    results = search(ivy, csrf_of(ivy), "noose")
    results_page = results.url.path
    entry = next(e for e in ENTRY.findall(results.text) if "audition_H.txt" in e)
    href = html.unescape(re.findall(r'<a class="where" href="([^"]+)"', entry)[1])  # the second hit listed
    assert "noose" not in href and href.endswith("#current-hit") and "search=" in href
    opened = ivy.get(href)
    assert opened.status_code == 200
    marks = re.findall(r'<mark class="search-hit( current)?" id="([^"]+)" data-hit="(\d)">([^<]*)</mark>', opened.text)
    assert [m[3].lower() for m in marks] == ["noose"] * 3, marks  # each word of the search, in the masked text
    assert [m[1] for m in marks if m[0]] == ["current-hit"]  # the page stands at the hit it was opened at
    current = int(next(m[2] for m in marks if m[0]))
    unit = int(re.search(r"unit=(\d+)", href).group(1))
    assert re.search(rf'<li id="turn-{unit}">.*?id="current-hit"', opened.text.split("</li>")[unit] + "</li>", re.S)
    assert f"Hit {current} of 3" in opened.text
    # previous and next hits, by number: the page stands at each in turn
    walked = ivy.get(link(opened.text, "next")) if current < 3 else ivy.get(link(opened.text, "prev"))
    assert walked.status_code == 200
    assert f"Hit {current + 1 if current < 3 else current - 1} of 3" in walked.text
    back = html.unescape(re.search(r'<a class="back" href="([^"]+)"', walked.text).group(1))
    assert back == f"{results_page}?page=1&sort=relevance"
    assert ivy.get(back).text.count('class="document-hit"') == results.text.count('class="document-hit"')
    assert_no_real_name(opened.text + walked.text, "the document view")


def test_another_persons_search_id_on_a_document_is_a_404_and_never_its_words(world):
    ivy = sign_in(world, "investigator")
    page = search(ivy, csrf_of(ivy), "tighten").url.path
    search_id = page.rsplit("/", 1)[1]
    document = world.documents["call1"].id
    assert ivy.get(f"/documents/{document}?search={search_id}&unit=0").status_code == 200
    for persona in ("reviewer", "reviewer2", "outsider", "admin"):
        client = sign_in(world, persona)
        theirs = client.get(f"/documents/{document}?search={search_id}&unit=0")
        none = client.get(f"/documents/{document}?search={'0' * 32}&unit=0")
        assert theirs.status_code == none.status_code == 404, (persona, theirs.status_code)
        assert theirs.text == none.text, f"{persona} can tell ivy's search exists"
        assert "tighten" not in theirs.text and 'class="search-hit' not in theirs.text
    # a bad page or sort is a clear 400, a stranger's id a 404 before the document is read
    assert ivy.get(f"/documents/{document}?search={search_id}&page=0").status_code == 400
    assert ivy.get(f"/documents/{document}?search={search_id}&sort=bogus").status_code == 400
    assert ivy.get(f"/documents/{document}?search={search_id}&hit=-3").status_code == 200
    views = [e for e in world.vault.audit_entries(limit=10_000) if e.action == "document.view"
             and e.details.get("user") != world.users["investigator"].id]
    assert not views, "a document was read for a search id that is not the reader's"
    # and the search's own owner, on a document she may not see, gets the same 404 as for none
    assert ivy.get(f"/documents/{world.documents['review'].id}?search={search_id}").status_code == 404


@pytest.mark.parametrize("typed", ["Hadrien", "Quillon", "hadrien quillon", "Hadri*", "Quillon~1"])
def test_an_investigators_real_name_query_highlights_no_pseudonym(world, nooses, typed):
    """The man's real name typed by an investigator finds nothing and lights up nothing: above
    all not the "H" standing where the name was, which would tell her who H is."""
    ivy = sign_in(world, "investigator")
    results = search(ivy, csrf_of(ivy), typed)
    search_id = results.url.path.rsplit("/", 1)[1]
    for document in (nooses.id, world.documents["call1"].id, world.documents["call2"].id):
        for where in ("unit=0", "unit=2", "hit=1"):
            opened = ivy.get(f"/documents/{document}?search={search_id}&{where}")
            assert opened.status_code == 200
            assert 'class="search-hit' not in opened.text, f"{typed!r} lit up a pseudonym in {document}"
            assert "No hit of your search in this document" in opened.text
            assert_no_real_name(opened.text, "the document view")


def test_the_label_typed_lights_up_the_pseudonym_and_a_reviewer_sees_the_name_they_typed(world, nooses):
    ivy = sign_in(world, "investigator")
    search_id = search(ivy, csrf_of(ivy), "H").url.path.rsplit("/", 1)[1]
    opened = ivy.get(f"/documents/{nooses.id}?search={search_id}&unit=2")
    lit = re.findall(r'<mark class="search-hit[^"]*"[^>]*><span class="pseudonym" title="pseudonym">([^<]*)</span>',
                     opened.text)
    assert lit == ["H"], lit  # turn 2: "H knows which noose" (the H of the speaker column is no hit)
    rex = sign_in(world, "reviewer")
    search_id = search(rex, csrf_of(rex), "Hadrien").url.path.rsplit("/", 1)[1]
    opened = rex.get(f"/documents/{nooses.id}?search={search_id}&unit=2")
    assert re.search(r'<mark class="search-hit current" id="current-hit" data-hit="1"><span class="revealed"[^>]*>'
                     r'Hadrien Quillon</span></mark>', opened.text)
