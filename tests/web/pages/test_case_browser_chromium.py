"""The document browser in a real browser (Debian's Chromium through Playwright, the fixtures of
``test_browser``): an admin creates a case and adds an investigator, a reviewer of the case
confirms the membership, the investigator opens their cases, the case's documents and filters them
by kind, seeing only masked titles, and the reviewer finds the case's review queue there.
Screenshots go to ``tests/artifacts/screens/browser-*.png`` (or ``$CASEVAULT_TEST_ARTIFACTS/screens``)."""

from __future__ import annotations

import io

from playwright.sync_api import expect

from tests.search.conftest import CALL_1, IN_REVIEW, release
from tests.web.pages.test_admin_browser import shot
from tests.web.pages.test_browser import assert_no_real_name, chromium, open_page, sign_in  # noqa: F401 (fixtures)
from vault import Kind

RECORD = b"Judgment of the district court.\nHadrien Quillon asked for asylum; the court heard Quillon.\n"


def _stock(vault, case) -> dict[str, str]:
    """The operator makes rex and rita reviewers of the new case and files three documents: a
    court record and a call released, a call left in review."""
    for name in ("rex", "rita"):
        vault.set_membership(name, case, member=True, actor="tester")
    rex, rita = vault.user("rex"), vault.user("rita")
    vault.add_identity(case, name="Hadrien Quillon", aliases=["Quillon", "Hadrien"], label="H", actor="tester")
    vault.add_identity(case, name="Quentin Malaure", aliases=["Malaure", "QM"], label="Caller 1", actor="tester")
    record = vault.ingest(io.BytesIO(RECORD), case=case, filename="judgment_Hadrien_Quillon.txt", actor="tester",
                          kind=Kind.COURT_RECORD)
    call = vault.ingest(io.BytesIO(CALL_1), case=case, filename="call_Quillon.txt", actor="tester")
    waiting = vault.ingest(io.BytesIO(IN_REVIEW), case=case, filename="call_waiting.txt", actor="tester")
    for document in (record, call):
        masked = vault.masked(document.id)
        rest = [r["id"] for u in masked.units for r in u.suggestions if r["state"] == "pending"
                and not (r["field"] == "speaker" and r["text"] == "H")]
        rest += [r["id"] for r in masked.title_suggestions if r["state"] == "pending"]
        if rest:
            vault.decide(document.id, rex, rest, accept=False, actor="tester")
        release(vault, document.id, rex, rita)
    return {"record": record.id, "call": call.id, "waiting": waiting.id}


def test_an_admin_makes_a_case_an_investigator_browses_it_and_a_reviewer_finds_the_queue(world, open_page):  # noqa: F811
    admin = open_page()
    sign_in(admin, world, "admin")
    admin.click("header nav >> text=Cases")
    expect(admin).to_have_url(f"{world.base}/admin/cases")
    admin.fill("#create-case input[name=name]", "Harbour inquiry")
    admin.click("#create-case button[type=submit]")
    expect(admin.locator(".notice")).to_contain_text("The case is created")
    shot(admin, "browser-admin-case-created")
    admin.select_option("#add-member select[name=user]", "ivy")
    admin.click("#add-member button[type=submit]")
    expect(admin.locator(".notice")).to_contain_text("once a reviewer of the case confirms it")
    expect(admin.locator("#members")).to_contain_text("waiting for a reviewer's confirmation")
    remove = admin.locator("#members form").first
    expect(remove.locator("button.danger")).to_have_css("background-color", "rgb(179, 38, 30)")
    shot(admin, "browser-admin-member-added")
    assert_no_real_name(admin)

    vault = world.vault
    case = vault.case("Harbour inquiry")
    assert case.id not in vault.user("ivy").cases, "an admin's membership reached the case unconfirmed"
    documents = _stock(vault, case)

    rex = open_page()
    sign_in(rex, world, "reviewer")
    rex.goto("/confirmations")
    rex.locator("tr", has_text="ivy").locator("button[value='1']").click()
    expect(rex.locator(".notice")).to_contain_text("Confirmed")
    assert case.id in vault.user("ivy").cases

    ivy = open_page()
    sign_in(ivy, world, "investigator")
    ivy.click("header nav >> text=Cases")
    expect(ivy).to_have_url(f"{world.base}/cases")
    expect(ivy.locator("#cases")).to_contain_text("Harbour inquiry")
    shot(ivy, "browser-cases")
    ivy.click("#cases >> text=Harbour inquiry")
    expect(ivy).to_have_url(f"{world.base}/cases/{case.id}")
    rows = ivy.locator("#documents tbody tr")
    expect(rows).to_have_count(2)  # the call in review is not there
    expect(ivy.locator("#documents")).to_contain_text("Court record")
    expect(ivy.locator("#documents")).to_contain_text("Transcript")
    assert documents["waiting"] not in ivy.content()
    assert ivy.locator("#queue").count() == 0
    assert_no_real_name(ivy)
    shot(ivy, "browser-case-documents")
    ivy.select_option("#document-filters select[name=kind]", "court_record")
    ivy.click("#document-filters button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Court record")
    expect(rows.first.locator("a")).to_have_attribute("href", f"/documents/{documents['record']}")
    assert "kind=court_record" in ivy.url  # a GET: Back and reload show the same list
    assert_no_real_name(ivy)
    shot(ivy, "browser-filtered-by-kind")
    rows.first.locator("a").click()
    expect(ivy).to_have_url(f"{world.base}/documents/{documents['record']}")
    assert_no_real_name(ivy)

    rex.goto(f"/cases/{case.id}")
    queue = rex.locator("#queue")
    expect(queue.locator("tbody tr")).to_have_count(1)
    expect(queue.locator("a")).to_have_attribute("href", f"/review/{documents['waiting']}")
    expect(rex.locator("#documents tbody tr")).to_have_count(3)
    shot(rex, "browser-reviewer-queue")
    queue.locator("a").click()
    expect(rex).to_have_url(f"{world.base}/review/{documents['waiting']}")
    shot(rex, "browser-reviewer-opens-review")
