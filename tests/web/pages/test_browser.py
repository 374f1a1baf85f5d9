"""The pages in a real browser: Debian's Chromium driven by Playwright, against the app served on
loopback. Each step saves a screenshot under ``test-artifacts/screenshots/`` (or
``$CASEVAULT_TEST_ARTIFACTS``) to be looked at.

Four journeys: an investigator searches, opens a transcript and sees only pseudonyms; a reviewer
accepts a suggestion, masks a span by selecting it, and releases a document; an investigator asks
for a name, a second reviewer approves, and the name appears for that investigator only; an admin
issues an access key, which works, and revokes it, which stops it at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.web.pages.conftest import code_for
from vault import DocumentStatus

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("CASEVAULT_TEST_ARTIFACTS", Path(__file__).parents[3] / "test-artifacts")) / "screenshots"
REAL_NAMES = ("Hadrien", "Quillon", "Quentin", "Malaure")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Chromium is not installed: `apt-get install chromium` (.ci/run does)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def open_page(chromium, world):
    contexts = []

    def make() -> Page:
        context = chromium.new_context(base_url=world.base, viewport={"width": 1280, "height": 900})
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, world, persona: str) -> None:
    page.goto("/login")
    page.fill("input[name=name]", world.users[persona].name)
    page.fill("input[name=password]", world.passwords[persona])
    if persona in world.totp:
        page.fill("input[name=code]", code_for(world.totp[persona]))
    page.click("button[type=submit]")
    expect(page.locator(".who")).to_contain_text(world.users[persona].name)


def assert_no_real_name(page: Page) -> None:
    html = page.content()
    for name in REAL_NAMES:
        assert name not in html, f"{name} leaked into {page.url}"


def test_an_investigator_searches_opens_a_transcript_and_sees_only_pseudonyms(world, open_page):
    page = open_page()
    page.goto("/search")
    expect(page).to_have_url(f"{world.base}/login")
    shot(page, "01-sign-in")
    sign_in(page, world, "investigator")
    page.fill("input[name=q]", "noose")
    page.click("form.search button[type=submit]")
    expect(page.locator("p.total")).to_contain_text("hit")
    hits = page.locator("article.hit")
    assert hits.count() >= 1
    expect(page.locator(".facets")).to_contain_text("Transcript")
    shot(page, "02-search-results")
    assert_no_real_name(page)
    hits.first.locator("h2 a").click()
    expect(page.locator("ol.turns")).to_be_visible()
    expect(page.locator("ol.turns .pseudonym").first).to_be_visible()
    assert page.locator(".revealed").count() == 0
    shot(page, "03-transcript")
    assert_no_real_name(page)
    page.goto("/search")
    page.fill("input[name=q]", "Quillon")
    page.click("form.search button[type=submit]")
    expect(page.locator("p.total")).to_contain_text("0 hits")
    assert page.locator("article.hit").count() == 0


def test_a_reviewer_accepts_a_suggestion_masks_a_selection_and_releases(world, open_page):
    document = world.documents["review"]  # uploaded by rex: rita reviews and releases it
    page = open_page()
    sign_in(page, world, "reviewer2")
    page.click("nav >> text=Review")
    shot(page, "04-review-queue")
    page.click(f"a[href='/review/{document.id}']")
    shot(page, "05-review-page")
    radios = page.locator("table.suggestions tbody tr")
    count = radios.count()
    assert count >= 1
    radios.nth(0).locator("input[value=accept]").check()
    for i in range(1, count):
        radios.nth(i).locator("input[value=reject]").check()
    page.click("text=Save decisions")
    expect(page.locator("ul.decided")).to_contain_text("accepted")
    # select a word of a turn's text and mask it as a location
    unit = page.locator(".unit[data-field=text] .unit-text").first
    word = page.evaluate("""(element) => {
        const node = [...element.childNodes].find(n => n.nodeType === Node.TEXT_NODE && /\\w{4,}/.test(n.textContent));
        const match = /\\w{4,}/.exec(node.textContent);
        const range = document.createRange();
        range.setStart(node, match.index); range.setEnd(node, match.index + match[0].length);
        const selection = window.getSelection(); selection.removeAllRanges(); selection.addRange(range);
        return match[0];
    }""", unit.element_handle())
    expect(page.locator("#selection")).to_contain_text(word)
    page.select_option("#add-span select[name=category]", "place")
    shot(page, "06-review-selection")
    page.click("#add-span-button")
    expect(page.locator("ul.decided")).to_contain_text(f"{word} · place · accepted")
    page.check("form[action$='/release'] input[name=confirm]")  # releasing asks "I understand"
    page.click("text=Release to investigators")
    expect(page).to_have_url(f"{world.base}/review")
    shot(page, "07-review-released")
    assert world.vault.document(document.id).status is DocumentStatus.RELEASED


def test_a_reviewer_masks_a_selection_of_the_title(world, open_page):
    document = world.documents["review"]  # its title is its file name, "call3.txt"
    page = open_page()
    sign_in(page, world, "reviewer2")
    page.goto(f"/review/{document.id}")
    title = page.locator(".unit[data-field=title] .unit-text")
    expect(title).to_have_text("call3.txt")
    page.evaluate("""(element) => {
        const node = element.firstChild;
        const range = document.createRange();
        range.setStart(node, 0); range.setEnd(node, 5);
        const selection = window.getSelection(); selection.removeAllRanges(); selection.addRange(range);
    }""", title.element_handle())
    expect(page.locator("#selection")).to_contain_text("\u201ccall3\u201d in the title")
    page.click("#add-span-button")
    expect(page.locator("ul.decided")).to_contain_text("call3 · other · accepted")
    assert [(r["start"], r["end"], r["state"]) for r in world.vault.masked(document.id).title_suggestions] == [
        (0, 5, "accepted")]


def test_an_unmask_approved_by_a_second_reviewer_shows_the_name_to_that_investigator_only(world, open_page):
    other, _ = world.vault.add_user("iris", "investigator", cases=(world.case.id,), actor="tester")
    world.users["colleague"] = other
    world.passwords["colleague"], _ = world.vault.reset_sign_in("iris", actor="tester")
    call = world.documents["call1"]
    ivy = open_page()
    sign_in(ivy, world, "investigator")
    ivy.goto(f"/documents/{call.id}")
    ivy.select_option("select[name=identity]", "H")
    ivy.fill("textarea[name=justification]", "to prepare the extradition hearing of 14 May with counsel")
    ivy.click("text=Request unmask")
    expect(ivy.locator(".notice")).to_contain_text("unmask request was sent")
    shot(ivy, "08-unmask-requested")
    rex = open_page()
    sign_in(rex, world, "reviewer")
    rex.goto("/unmask")
    shot(rex, "09-unmask-to-decide")
    rex.click("button[name=approve][value='1']")
    expect(rex.locator("tbody")).to_contain_text("approved")
    ivy.goto(f"/documents/{call.id}")
    expect(ivy.locator(".revealed").first).to_contain_text("Hadrien Quillon")
    shot(ivy, "10-name-revealed")
    iris = open_page()
    sign_in(iris, world, "colleague")
    iris.goto(f"/documents/{call.id}")
    expect(iris.locator("ol.turns")).to_be_visible()
    assert iris.locator(".revealed").count() == 0
    assert_no_real_name(iris)


def test_an_admin_issues_and_revokes_an_access_key(world, open_page):
    page = open_page()
    sign_in(page, world, "admin")
    shot(page, "11-admin-users")
    page.click("a[href='/admin/users/otto']")
    assert page.locator("text=Issue a new key").count() == 0  # nobody issues a key for someone else
    page.check("form[action$='/reset-sign-in'] input[name=confirm]")  # a destructive form asks first
    page.click("text=Reset credentials")
    assert page.locator("#enrolment-code").inner_text().startswith("cve_")  # for otto to redeem
    assert page.locator("#access-key, #password, #totp-secret").count() == 0
    page.goto("/admin/users/ada")
    page.fill("input[name=days]", "30")
    page.click("text=Issue a new key")
    key = page.locator("#access-key").inner_text()
    assert key.startswith("cvk_")
    shot(page, "12-access-key-shown-once")
    with httpx.Client(base_url=world.base, headers={"Authorization": f"Bearer {key}"}) as api:
        assert api.get("/api/v1/cases").status_code == 200
        page.click("text=Back to ada")
        row = page.locator("tr", has_text=key[:12])
        row.locator("input[name=confirm]").check()
        row.locator("text=Revoke").click()
        expect(page.locator(".notice")).to_contain_text("revoked")
        shot(page, "13-access-key-revoked")
        assert api.get("/api/v1/cases").status_code == 401
    page.goto("/admin/keys")
    page.check("form[action='/admin/keys/rotate'] input[name=confirm]")
    page.click("text=Rotate the case keys")
    expect(page.locator(".notice")).to_contain_text("new version")
    shot(page, "14-encryption-keys-rotated")
    assert 2 in world.vault.key_status().case_key_versions
    page.goto("/admin/audit")
    page.click("text=Verify the chain")
    expect(page.locator("p.notice")).to_contain_text("Intact")
    shot(page, "15-audit-verified")
