"""The viewers for originals in a real browser (Debian's Chromium through Playwright): a reviewer
sees a PDF's first page as an image beside its text; a call uploaded with its audio plays beside
its turns, a click on a turn seeks the audio there and highlights the turn; an investigator
without grants sees that the audio is not theirs to hear. Screenshots go to
``tests/artifacts/screens/viewers-*.png`` (or ``$CASEVAULT_TEST_ARTIFACTS/screens``)."""

from __future__ import annotations

import io
import os
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.conftest import ingest_bytes
from tests.search.conftest import release
from tests.vault.originals_data import CALL_VTT, DECISION_PDF, wav
from tests.web.pages.test_browser import chromium, open_page, sign_in  # noqa: F401 (fixtures)

SCREENS = Path(os.environ.get("CASEVAULT_TEST_ARTIFACTS", Path(__file__).parents[2] / "artifacts")) / "screens"


def shot(page: Page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def until(page: Page, script: str, seconds: float = 15) -> None:
    """Wait until ``script`` is true in the page (polled from here: the page's CSP forbids the
    eval that ``wait_for_function`` uses)."""
    for _ in range(int(seconds * 10)):
        if page.evaluate(script):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"never true: {script}")


def test_a_reviewer_sees_the_pdf_page_beside_its_text(world, open_page):  # noqa: F811
    pdf = ingest_bytes(world.vault, world.case, DECISION_PDF, "decision.pdf")
    page = open_page()
    sign_in(page, world, "reviewer")
    page.goto(f"/review/{pdf.id}")
    image = page.locator("#original-page-1 img")
    expect(image).to_be_visible()
    until(page, "document.querySelector('#original-page-1 img').naturalWidth > 500")
    text, pages = page.locator("#units").bounding_box(), page.locator("#original-pages").bounding_box()
    assert abs(text["y"] - pages["y"]) < 50 and pages["x"] < text["x"]  # side by side, the original first
    shot(page, "viewers-pdf-page-beside-text")


def test_a_call_with_its_audio_plays_and_a_click_on_a_turn_seeks_it(world, open_page):  # noqa: F811
    call = world.vault.ingest(io.BytesIO(CALL_VTT), case=world.case, filename="call.vtt", actor="tester",
                              audio=io.BytesIO(wav()))
    page = open_page()
    sign_in(page, world, "reviewer")
    page.goto(f"/review/{call.id}")
    audio = page.locator("#player-audio")
    expect(audio).to_be_visible()
    until(page, "document.getElementById('player-audio').readyState >= 1")  # metadata, by range
    assert page.evaluate("document.getElementById('player-audio').duration") > 2.5
    before = page.evaluate("document.getElementById('player-audio').currentTime")
    turn = page.locator('.unit[data-unit="1"][data-field="text"]')
    turn.click()
    until(page, "document.getElementById('player-audio').currentTime >= 1.0")
    assert page.evaluate("document.getElementById('player-audio').currentTime") != before
    expect(turn).to_have_class("unit seekable playing")
    expect(page.locator(".playing")).to_have_count(1)
    shot(page, "viewers-audio-turn-seeked")
    page.evaluate("document.getElementById('player-audio').pause()")
    page.locator('.unit[data-unit="2"][data-field="text"]').click()
    expect(page.locator('.unit[data-unit="2"][data-field="text"]')).to_have_class("unit seekable playing")
    expect(turn).not_to_have_class("unit seekable playing")


def test_an_investigator_without_grants_is_told_the_audio_is_not_theirs(world, open_page):  # noqa: F811
    call = world.vault.ingest(io.BytesIO(CALL_VTT), case=world.case, filename="call.vtt", actor="tester",
                              audio=io.BytesIO(wav()))
    release(world.vault, call.id, world.users["reviewer"], world.users["reviewer2"])
    page = open_page()
    sign_in(page, world, "investigator")
    page.goto(f"/documents/{call.id}")
    expect(page.locator("#player-hint")).to_contain_text("not available to you")
    expect(page.locator("#player-audio")).to_be_hidden()
    assert page.evaluate("document.getElementById('player-audio').getAttribute('src')") is None
    shot(page, "viewers-audio-refused-investigator")
