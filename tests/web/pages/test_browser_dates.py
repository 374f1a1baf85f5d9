"""Document dates in a real browser (Debian's Chromium, as tests/web/pages/test_browser.py drives
it): a reviewer sets a document's date on the review page, and a search with ``date:2023`` finds
it, its hit showing 2023 beside the upload day. Screenshots go to ``tests/artifacts/screens/``."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import expect

from tests.web.pages.test_browser import chromium, open_page, sign_in  # noqa: F401 (fixtures)
from tests.web.pages.test_browser_search import shot


def test_a_reviewer_sets_a_date_and_a_search_by_that_year_finds_it(world, open_page):
    document = world.documents["review"]  # in review, no date in it
    page = open_page()
    sign_in(page, world, "reviewer2")
    page.goto(f"/review/{document.id}")
    form = page.locator("form.document-date")
    expect(form).to_contain_text("none found in the text")
    shot(page, "dates-review-before")
    form.locator("input[name=date]").fill("2023-03-14")
    form.get_by_role("button", name="Save date").click()
    expect(page).to_have_url(f"{world.base}/review/{document.id}?notice=date-set")
    expect(page.locator("p.notice")).to_have_text("The document date was saved.")
    expect(form.locator("input[name=date]")).to_have_value("2023-03-14")
    shot(page, "dates-review-set")
    reload = page.reload()  # a reload fetches the page again, posts nothing
    assert reload is not None and reload.request.method == "GET"

    page.goto("/search")
    page.fill("form.search input[name=q]", "date:2023")
    page.click("form.search button[type=submit]")
    hits = page.locator("article.hit")
    expect(hits.first).to_be_visible()
    expect(page.locator(f'article.hit a[href^="/documents/{document.id}"]').first).to_be_visible()
    dated = hits.first.locator("time.document-date")
    expect(dated).to_have_attribute("datetime", "2023-03-14")
    expect(dated).to_have_text("2023-03-14")
    today = datetime.now(UTC).date().isoformat()
    expect(hits.first.locator("span.uploaded")).to_contain_text(today)
    expect(page.locator("aside.facets")).to_contain_text("Year (document date)")
    expect(page.locator("aside.facets")).to_contain_text("Year uploaded")
    shot(page, "dates-search-2023")

    page.fill("form.search input[name=q]", "date:2022")
    page.click("form.search button[type=submit]")
    expect(page.locator("p.total")).to_contain_text("0 hits")
