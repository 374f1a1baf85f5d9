"""Bulk review in a real browser (Debian's Chromium through Playwright, the fixtures of
``test_browser``): a reviewer opens a long transcript, moves through its groups of suggestions
with the keyboard and rejects a whole group with "r" (after confirming); the group leaves the list
and the count of undecided suggestions drops. Screenshots go to ``tests/artifacts/screens/bulk-*``.

Plain "Agent" is no longer suggested at all (a generic role, redaction/_generic.py): the group
rejected here is the speaker label "Agent Zorvath", a role word beside a surname, which still is."""

from __future__ import annotations

import io
import os
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.web.pages.test_browser import chromium, open_page, sign_in  # noqa: F401 (fixtures)

SCREENS = Path(os.environ.get("CASEVAULT_TEST_ARTIFACTS", Path(__file__).parents[2] / "artifacts")) / "screens"
TURNS = 2000  # about 170 KB
SPEAKERS = ("Agent Zorvath", "Caller 2", "Agent Zorvath", "Témoin")
LONG = "".join(
    f"[{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}] {SPEAKERS[i % 4]}: "
    f"Le dossier de Odile Quillonaz avance{', dit Mireille Vantorek' if i % 5 == 0 else ''}, point {i}.\n"
    for i in range(TURNS)).encode()


def shot(page: Page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"))


def test_a_reviewer_rejects_a_group_with_the_keyboard(world, open_page):  # noqa: F811
    document = world.vault.ingest(io.BytesIO(LONG), case=world.case, filename="long-call.txt",
                                  actor=world.users["reviewer2"].id)
    page = open_page()
    sign_in(page, world, "reviewer")
    page.goto(f"/review/{document.id}")
    rows = page.locator("#groups tr.group")
    expect(rows).to_have_count(3)  # Odile Quillonaz, Agent Zorvath, Mireille Vantorek
    texts = rows.evaluate_all("rows => rows.map(r => r.dataset.text)")
    assert "Agent" not in texts and "Caller 2" not in texts and "Témoin" not in texts
    count = page.locator("#pending-count")
    expect(count).to_contain_text("undecided in 3 groups")
    before = count.inner_text()
    expect(rows.first.locator("button.danger")).to_have_css("background-color", "rgb(179, 38, 30)")  # red
    shot(page, "bulk-01-groups")
    target = texts.index("Agent Zorvath")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")  # back one: j, j, k lands on the second group
    for _ in range(target - 1):
        page.keyboard.press("n")
    expect(rows.nth(target)).to_have_class("group current")
    shot(page, "bulk-02-selected")
    page.once("dialog", lambda dialog: dialog.accept())
    page.keyboard.press("r")
    expect(count).to_contain_text("undecided in 2 groups", timeout=30_000)  # one new masked version
    assert count.inner_text() != before
    remaining = page.locator("#groups tr.group").evaluate_all("rows => rows.map(r => r.dataset.text)")
    assert "Agent Zorvath" not in remaining and len(remaining) == 2
    expect(page.locator("ul.decided")).to_contain_text("Agent Zorvath · person · rejected ×")
    shot(page, "bulk-03-rejected")
    # a dismissed confirmation rejects nothing
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.keyboard.press("r")
    expect(page.locator("#groups tr.group")).to_have_count(2)
