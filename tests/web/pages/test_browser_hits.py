"""Readable hits in a real browser (Debian's Chromium, as tests/web/pages/test_browser.py drives
it): a search lists documents with their hits beneath; a hit opens its document with the search's
words highlighted and the page scrolled to the hit; the next hit; back to the same results (no
"Confirm Form Resubmission"); a facet's chip removes that filter. Screenshots go to
``tests/artifacts/screens/hits-*.png``."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ingest_bytes
from tests.search.conftest import release
from tests.web.pages.test_browser import assert_no_real_name, chromium, open_page, sign_in  # noqa: F401 (fixtures)
from tests.web.pages.test_browser_search import OWN_PAGE, SCREENS, shot


@pytest.fixture
def long_call(world):
    """A long released call (80 turns) whose "noose"s stand far down the page."""
    turns = [f"[00:{i // 60:02d}:{i % 60:02d}] {'QM' if i % 2 else 'H'}: Nothing happened on day {i}." for i in range(80)]
    turns[61] = "[00:01:01] QM: Hadrien, the noose is ready."
    turns[70] = "[00:01:10] H: Which noose?"
    turns[75] = "[00:01:15] QM: The noose of your sister."
    document = ingest_bytes(world.vault, world.case, "\n".join(turns).encode(), "long_call_Quillon.txt")
    release(world.vault, document.id, world.users["reviewer"], world.users["reviewer2"])
    world.app.state.services.search.catch_up()
    return document


def investigator_searches(open_page, world, query: str) -> Page:
    page = open_page()
    sign_in(page, world, "investigator")
    page.goto("/search")
    page.fill("form.search input[name=q]", query)
    page.click("form.search button[type=submit]")
    expect(page).to_have_url(OWN_PAGE)  # the search's own page: an id, never the query
    return page


def test_grouped_hits_open_at_the_hit_walk_to_the_next_and_come_back(world, open_page, long_call):
    page = investigator_searches(open_page, world, "noose")
    results = page.url
    expect(page.locator("p.total")).to_have_text("4 hits in 2 documents")
    entry = page.locator("article.hit", has_text="long_call_H.txt")
    expect(entry.locator("li.document-hit")).to_have_count(3)
    expect(entry.locator("p.meta")).to_contain_text("3 hits")
    assert_no_real_name(page)
    shot(page, "hits-results")

    entry.locator("li.document-hit", has_text="turn 70").locator("a.where").click()
    current = page.locator("#current-hit")
    expect(current).to_be_visible()
    expect(current).to_be_in_viewport()  # scrolled to the hit, far down a long call
    expect(current).to_have_text(re.compile("noose", re.I))
    expect(page.locator("li#turn-70 #current-hit")).to_have_count(1)
    expect(page.locator("mark.search-hit")).to_have_count(3)
    expect(page.locator("nav.hit-nav .position")).to_have_text("Hit 2 of 3")
    assert "noose" not in page.url
    assert page.evaluate("window.scrollY") > 0
    assert_no_real_name(page)
    shot(page, "hits-document")
    page.screenshot(path=str(SCREENS / "hits-document-viewport.png"))  # what the reader sees on arrival

    page.click("nav.hit-nav a[rel=next]")
    expect(page.locator("nav.hit-nav .position")).to_have_text("Hit 3 of 3")
    expect(page.locator("li#turn-75 #current-hit")).to_be_in_viewport()
    expect(page.locator("nav.hit-nav a[rel=next]")).to_have_count(0)
    shot(page, "hits-next")

    page.click("nav.hit-nav a.back")
    expect(page).to_have_url(re.compile(re.escape(results) + r"\?page=1&sort=relevance$"))
    expect(page.locator("p.total")).to_have_text("4 hits in 2 documents")
    expect(page.locator("form.search input[name=q]")).to_have_value("noose")
    # and the browser's own Back, from a hit, fetches the results again (no form resubmission)
    page.locator("article.hit h2 a").first.click()
    expect(page.locator("nav.hit-nav")).to_be_visible()
    back = page.go_back()
    assert back is not None and back.request.method == "GET" and back.status == 200
    expect(page.locator("p.total")).to_have_text("4 hits in 2 documents")
    shot(page, "hits-back")

    # a facet narrows the search; its chip takes that filter away again
    page.locator(".facets button", has_text="Transcript").click()
    expect(page).to_have_url(OWN_PAGE)
    chip = page.locator("ul.chips li.chip")
    expect(chip).to_have_count(1)
    expect(chip).to_contain_text("Kind: Transcript")
    expect(page.locator("form.search input[name=q]")).to_have_value('noose kind:"transcript"')
    shot(page, "hits-chip")
    chip.get_by_role("button", name="Remove the filter Kind: Transcript").click()
    expect(page).to_have_url(OWN_PAGE)
    expect(page.locator("ul.chips")).to_have_count(0)
    expect(page.locator("form.search input[name=q]")).to_have_value("noose")
    expect(page.locator("p.total")).to_have_text("4 hits in 2 documents")
    shot(page, "hits-chip-removed")


def test_an_investigator_typing_the_real_name_sees_no_highlight_on_the_pseudonym(world, open_page, long_call):
    page = investigator_searches(open_page, world, "Hadrien")
    expect(page.locator("p.total")).to_contain_text("0 hits")
    search_id = page.url.rsplit("/", 1)[1]
    page.goto(f"/documents/{long_call.id}?search={search_id}&unit=61#current-hit")
    expect(page.locator("li#turn-61 .pseudonym")).to_have_text("H")
    expect(page.locator("mark.search-hit")).to_have_count(0)
    expect(page.locator("nav.hit-nav .position")).to_have_text("No hit of your search in this document")
    assert_no_real_name(page)
    shot(page, "hits-real-name-no-highlight")
