"""Reviewers fix the masking, in a real browser (Debian's Chromium through Playwright, the
fixtures of ``test_browser``): the review page shows the text as written with each mask marked
("C'est Quentin." stays "C'est Quentin.", marked as Caller 1); a reviewer adds an alias from the
page, leaves the clerk "Hadrien Mercadier" as written (he is not H) and releases, and the
investigator reads the clerk's name while H stays masked elsewhere; a reviewer reopens a released
document and the investigator's search no longer finds it. Screenshots:
``tests/artifacts/screens/fixes-*.png``."""

from __future__ import annotations

import io

from playwright.sync_api import Page, expect

from tests.web.pages.test_admin_browser import shot
from tests.web.pages.test_browser import chromium, open_page, sign_in  # noqa: F401 (fixtures)
from vault import DocumentStatus

RECORD = ("Greffier : M. Hadrien Mercadier, lors des débats. Hadrien Quillon est absent; Hadrien a signé. "
          "Au téléphone : « C'est Quentin. »").encode()


def _search(page: Page, q: str) -> None:
    page.goto("/search")
    page.fill("input[name=q]", q)
    page.click("form.search button[type=submit]")
    expect(page.locator("p.total")).to_contain_text("hit")


def test_a_reviewer_leaves_the_clerk_as_written_and_the_investigator_reads_him(world, open_page):  # noqa: F811
    document = world.vault.ingest(io.BytesIO(RECORD), case=world.case, filename="arret.txt", actor="tester")
    page = open_page()
    sign_in(page, world, "reviewer")
    page.goto(f"/review/{document.id}")
    expect(page.locator("#legend")).to_contain_text("Category mask")
    # Caller 1 gets the alias "Quentin" from the review page; the text stays as written
    page.click("#edit-identity summary")
    page.select_option("#edit-identity select[name=identity]", label="Caller 1 (Quentin Malaure)")
    page.fill("#edit-identity input[name=add_aliases]", "Quentin")
    page.click("#edit-identity button[type=submit]")
    expect(page.locator("p.notice")).to_contain_text("The identity is changed")
    text = page.locator(".unit[data-field=text] .unit-text").first
    expect(text).to_contain_text("« C'est Quentin. »")
    quentin = text.locator("mark.identity", has_text="Quentin")
    expect(quentin).to_have_attribute("title", "becomes the pseudonym Caller 1")
    assert "Quentin Malaure" not in text.inner_text()
    shot(page, "fixes-01-verbatim-with-masks")
    page.click("button[aria-label^='not H: Hadrien at 1:']")  # the first mention: the clerk's first name
    expect(page.locator("p.notice")).to_contain_text("left as written")
    expect(text.locator("mark.excepted")).to_have_text("Hadrien")
    expect(text.locator("mark.identity", has_text="Hadrien")).to_have_count(2)
    shot(page, "fixes-02-not-this-identity")
    rows = page.locator("table.suggestions tbody tr")
    for i in range(rows.count()):
        rows.nth(i).locator("input[value=reject]").check()
    if rows.count():
        page.click("text=Save decisions")
    page.check("form[action$='/release'] input[name=confirm]")  # releasing asks "I understand"
    page.click("text=Release to investigators")
    expect(page).to_have_url(f"{world.base}/review")
    assert world.vault.document(document.id).status is DocumentStatus.RELEASED

    reader = open_page()
    sign_in(reader, world, "investigator")
    reader.goto(f"/documents/{document.id}")
    body = reader.locator("section.page p.text")
    expect(body).to_contain_text("M. Hadrien Mercadier, lors des débats.")
    expect(body).to_contain_text("C'est Caller 1.")
    expect(body.locator(".pseudonym", has_text="H")).to_have_count(2)
    html = reader.content()
    assert html.count("Hadrien") == 1 and "Quillon" not in html and "Quentin" not in html and "Malaure" not in html
    shot(reader, "fixes-03-investigator-reads-the-clerk")


def test_a_reopened_document_leaves_the_investigators_search(world, open_page):  # noqa: F811
    call1 = world.documents["call1"]
    reader = open_page()
    sign_in(reader, world, "investigator")
    _search(reader, "noose")
    expect(reader.locator(f"article.hit a[href^='/documents/{call1.id}']").first).to_be_visible()
    page = open_page()
    sign_in(page, world, "reviewer")
    page.goto(f"/documents/{call1.id}")
    page.click("#reviewer-view")
    expect(page.locator("#reopen")).to_be_visible()
    shot(page, "fixes-04-released-reviewer-view")
    page.click("#reopen")
    expect(page.locator("p.notice")).to_contain_text("back in review")
    expect(page.locator("text=Save decisions").or_(page.locator("text=No suggestion is undecided"))).to_be_visible()
    shot(page, "fixes-05-reopened")
    assert world.vault.document(call1.id).status is DocumentStatus.IN_REVIEW
    _search(reader, "noose")
    expect(reader.locator("p.total")).to_contain_text("0 hits")
    expect(reader.locator(f"a[href^='/documents/{call1.id}']")).to_have_count(0)
    shot(reader, "fixes-06-investigator-search-without-it")
    assert reader.goto(f"/documents/{call1.id}").status == 404
