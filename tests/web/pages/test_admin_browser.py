"""The admin pages in a real browser (Debian's Chromium through Playwright, the fixtures of
``test_browser``): rotating keys asks first and happens once however often the page is reloaded,
a secret is shown on one line with a copy button and a reload does not make another, and the
audit log filters and exports. Screenshots go to ``tests/artifacts/screens/`` (or
``$CASEVAULT_TEST_ARTIFACTS/screens``)."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.web.pages.test_browser import chromium, open_page, sign_in  # noqa: F401 (fixtures)

SCREENS = Path(os.environ.get("CASEVAULT_TEST_ARTIFACTS", Path(__file__).parents[2] / "artifacts")) / "screens"


def shot(page: Page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def test_an_admin_rotates_the_keys_once_however_often_the_page_is_reloaded(world, open_page):  # noqa: F811
    page = open_page()
    sign_in(page, world, "admin")
    page.goto("/admin/keys")
    rotate = page.locator("form[action='/admin/keys/rotate']")
    expect(rotate.locator("button.danger")).to_have_css("background-color", "rgb(179, 38, 30)")
    rotate.locator("button").click()  # the box is not ticked: the browser does not send the form
    assert page.url.endswith("/admin/keys") and set(world.vault.key_status().case_key_versions) == {1}
    shot(page, "admin-keys-confirm")
    rotate.locator("input[name=confirm]").check()
    rotate.locator("button").click()
    expect(page.locator(".notice")).to_contain_text("Every case key has a new version")
    assert page.url.endswith("/admin/keys?notice=case-keys-rotated")  # a GET: reloading posts nothing
    rotated = world.vault.key_status().case_key_versions
    assert max(rotated) == 2
    page.reload()
    page.reload()
    expect(page.locator(".notice")).to_contain_text("new version")
    assert world.vault.key_status().case_key_versions == rotated, "the keys were rotated more than once"
    shot(page, "admin-keys-rotated")


def test_a_reset_shows_its_code_once_on_one_line_and_a_reload_makes_no_other(world, open_page):  # noqa: F811
    page = open_page()
    sign_in(page, world, "admin")
    page.goto("/admin/users/otto")
    reset = page.locator("form[action$='/reset-sign-in']")
    expect(reset.locator("button")).to_have_class("danger")
    reset.locator("input[name=confirm]").check()
    reset.locator("button").click()
    code = page.locator("#enrolment-code")
    assert code.inner_text().startswith("cve_")
    expect(code).to_have_css("white-space", "nowrap")
    copy = page.locator("button[data-copy=enrolment-code]")
    expect(copy).to_be_visible()
    copy.click()
    expect(copy).to_have_text("Copied")
    shot(page, "admin-secret-shown-once")
    resets = sum(1 for e in world.vault.audit_entries(limit=10_000) if e.action == "user.reset")
    page.reload()  # Chromium sends the POST again, with its spent one-time token
    expect(page.locator("main")).to_contain_text("sent already")
    assert "cve_" not in page.content()
    assert sum(1 for e in world.vault.audit_entries(limit=10_000) if e.action == "user.reset") == resets
    shot(page, "admin-secret-reload-refused")


def test_an_admin_filters_the_audit_log_and_exports_it(world, open_page, tmp_path):  # noqa: F811
    world.vault.set_active("rita", active=False, actor="tester")
    page = open_page()
    sign_in(page, world, "admin")
    page.goto("/admin/audit")
    head = world.vault.verify_audit()
    expect(page.locator("#head-position")).to_have_text(str(head.entries))
    expect(page.locator("#head-hash")).to_have_text(head.head.hex())
    first = int(page.locator("table.audit tbody tr td").first.inner_text())
    assert first == head.entries, "newest first"
    shot(page, "admin-audit")
    page.select_option("select[name=action]", "user.disable")
    page.click("#audit-filter button[type=submit]")
    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("rita")  # the target by name
    shot(page, "admin-audit-filtered")
    with page.expect_download() as download:
        page.click("#audit-download >> text=CSV")
    saved = tmp_path / "audit.csv"
    download.value.save_as(saved)
    exported = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert [(r["action"], r["target_name"]) for r in exported] == [("user.disable", "rita")]
    with page.expect_download() as download:
        page.click("#audit-download >> text=JSON")
    download.value.save_as(tmp_path / "audit.json")
    assert [e["action"] for e in json.loads((tmp_path / "audit.json").read_text())] == ["user.disable"]
    page.goto("/admin/audit")
    page.click("text=Verify the chain")
    expect(page.locator("p.notice")).to_contain_text("Intact")
    assert "verified=intact" in page.url
    shot(page, "admin-audit-verified")
