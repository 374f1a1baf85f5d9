"""Search in a real browser (Debian's Chromium, as tests/web/pages/test_browser.py drives it):
Back after opening a hit returns to the results without asking to post the form again, a reload
fetches them again, a refused query stays in the box beside its error, and a saved search is
listed. Screenshots go to ``tests/artifacts/screens/``."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.web.pages.test_browser import assert_no_real_name, chromium, open_page, sign_in  # noqa: F401 (fixtures)

SCREENS = Path(__file__).parents[2] / "artifacts" / "screens"
OWN_PAGE = re.compile(r".*/search/[0-9a-f]{32}$")


def shot(page: Page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def test_back_after_a_hit_returns_to_the_results_and_a_refused_query_stays_in_the_box(world, open_page):
    page = open_page()
    sign_in(page, world, "investigator")
    page.goto("/search")
    page.fill("form.search input[name=q]", "noose")
    page.click("form.search button[type=submit]")
    expect(page).to_have_url(OWN_PAGE)  # the search's own page: an id, never the query
    assert "noose" not in page.url
    results = page.url
    hits = page.locator("article.hit")
    expect(hits.first).to_be_visible()
    count = hits.count()
    hits.first.locator("h2 a").click()
    expect(page.locator("ol.turns")).to_be_visible()
    back = page.go_back()
    # a POST answered no-store would come back as Chromium's "Confirm Form Resubmission" (ERR_CACHE_MISS)
    assert back is not None and back.request.method == "GET" and back.status == 200
    assert page.url == results
    expect(page.locator("article.hit")).to_have_count(count)
    expect(page.locator("form.search input[name=q]")).to_have_value("noose")
    assert_no_real_name(page)
    shot(page, "search-back")
    reloaded = page.reload()
    assert reloaded is not None and reloaded.request.method == "GET" and page.url == results
    expect(page.locator("article.hit")).to_have_count(count)

    page.fill("form.search input[name=q]", "*oose")
    page.click("form.search button[type=submit]")
    expect(page.locator("#query-error")).to_be_visible()
    expect(page.locator("form.search input[name=q]")).to_have_value("*oose")
    shot(page, "search-refused")

    page.goto(results)
    page.fill("input[name=name]", "Nooses in calls")
    page.click("text=Save this search")
    expect(page).to_have_url(re.compile(r".*/searches$"))
    expect(page.locator("table.saved-searches")).to_contain_text("Nooses in calls")
    expect(page.locator("td.new-hits")).to_contain_text("nothing new")
    shot(page, "saved-searches")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page).to_have_url(results)
    expect(page.locator("article.hit")).to_have_count(count)
