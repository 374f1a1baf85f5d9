"""The document browser's listings (vault._browsing) on SQLite and PostgreSQL: each persona lists
what the policy lets them see of a case, titles masked as the document page masks them (a name
registered later is masked in a title listed before), a name a title shows is audited, and the
filters, sorting and paging work on what is visible only."""

from __future__ import annotations

import io

import pytest

from tests.vault.conftest import SECRETS, release_all
from vault import CaseDocuments, DocumentFilter, DocumentSort, DocumentStatus, Kind

REASON = "The transcript is needed to establish who made the threats in the 2024 calls."


@pytest.fixture
def filed(vault, case, people):
    """A released court record whose title names H, a released call, a call left in review."""
    record = vault.ingest(io.BytesIO(b"Hadrien Quillon v. the Republic\nThe court heard Quillon.\n"), case=case,
                          filename="r.txt", actor="tester", kind=Kind.COURT_RECORD)
    call = vault.ingest(io.BytesIO(b"[00:00:04] QM: Think again.\n[00:00:09] H: No.\n"), case=case,
                        filename="call.txt", actor=people["ivy"].id, kind=Kind.TRANSCRIPT)
    waiting = vault.ingest(io.BytesIO(b"[00:00:04] QM: Still no?\n"), case=case, filename="waiting.txt",
                           actor=people["rita"].id, kind=Kind.TRANSCRIPT)
    for document in (record, call):
        release_all(vault, people, document.id)
    return {"record": record.id, "call": call.id, "waiting": waiting.id}


def listing(vault, case, user, **where):
    return CaseDocuments(vault.store).listing(case, vault.user(user), DocumentFilter(**where), actor="tester")


def test_each_persona_lists_what_the_policy_lets_them_see(vault, case, people, filed):
    ivy = listing(vault, case, "ivy")
    assert {d.id for d in ivy.documents} == {filed["record"], filed["call"]}, "a document in review leaked"
    assert ivy.queue == ()  # nothing in review reaches an investigator
    for document in ivy.documents:
        for secret in SECRETS:
            assert secret not in document.title, f"{secret} leaked to ivy in a title"
    assert {d.title for d in ivy.documents} >= {"H v. the Republic"}
    rex = listing(vault, case, "rex")
    assert {d.id for d in rex.documents} == set(filed.values())
    assert [d.id for d in rex.queue] == [filed["waiting"]]
    assert "Hadrien Quillon v. the Republic" in {d.title for d in rex.documents}  # reviewers see real names
    assert {d.uploader for d in rex.documents} == {"tester", "ivy", "rita"}  # users by name
    ada = people["ada"]
    assert CaseDocuments(vault.store).listing(case, ada, actor="tester").documents == ()
    assert listing(vault, case, "otto").documents == ()


def test_a_name_registered_after_a_listing_is_masked_in_the_next(vault, case, people):
    document = vault.ingest(io.BytesIO(b"Zoltan Brecker hearing\nNothing else.\n"), case=case, filename="z.txt",
                            actor="tester", kind=Kind.COURT_RECORD)
    release_all(vault, people, document.id)  # the suggestion "Zoltan Brecker" rejected: shown as written
    assert [d.title for d in listing(vault, case, "ivy").documents] == ["Zoltan Brecker hearing"]
    vault.add_identity(case, name="Zoltan Brecker", aliases=["Brecker"], label="ZB", actor="tester")
    assert [d.title for d in listing(vault, case, "ivy").documents] == ["ZB hearing"]


def test_a_name_a_title_shows_through_a_grant_is_audited(vault, case, people, filed):
    request = vault.request_unmask(people["ivy"], case, "H", REASON, actor="tester")
    vault.decide_unmask(request.id, people["rex"], approve=True, actor="tester")
    titles = {d.id: d.title for d in listing(vault, case, "ivy").documents}
    assert titles[filed["record"]] == "Hadrien Quillon v. the Republic"
    entry = [e for e in vault.audit_entries(limit=1000) if e.action == "case.browse"][-1]
    assert entry.target == case.id and entry.details["revealed"] == [vault.identity(case, "H").id]


def test_filters_sort_and_pages_work_on_what_is_visible(vault, case, people, filed):
    assert [d.id for d in listing(vault, case, "rex", kind=Kind.COURT_RECORD).documents] == [filed["record"]]
    assert [d.id for d in listing(vault, case, "rex", status=DocumentStatus.IN_REVIEW).documents] == [filed["waiting"]]
    assert listing(vault, case, "ivy", status=DocumentStatus.IN_REVIEW).total == 0
    assert [d.id for d in listing(vault, case, "rex", uploader="rita").documents] == [filed["waiting"]]
    oldest = listing(vault, case, "rex", sort=DocumentSort.DATE, descending=False)
    assert [d.id for d in oldest.documents] == [filed["record"], filed["call"], filed["waiting"]]
    assert listing(vault, case, "rex", page=2).documents == () and listing(vault, case, "rex").pages == 1


def test_a_document_is_listed_under_its_own_date_once_it_has_one(vault, case, people, filed):
    """The browser's Date column is the document's own date (found in it or set by a reviewer),
    and the upload day only for a document without one."""
    from datetime import date
    before = {d.id: d for d in listing(vault, case, "ivy").documents}
    assert before[filed["record"]].document_date is None
    assert before[filed["record"]].date == before[filed["record"]].uploaded_at.date()
    vault.dates.set(filed["record"], vault.user("rex"), "2023-03-14", actor="tester")
    after = {d.id: d for d in listing(vault, case, "ivy").documents}
    assert after[filed["record"]].document_date == date(2023, 3, 14) == after[filed["record"]].date


def test_a_title_masked_by_hand_after_a_listing_is_masked_in_the_next(vault, case, people):
    """A reviewer reopens a released document, masks a name in its title by hand and releases it
    again: no identity or grant changed (the policy epoch stands), yet the next listing must not
    serve the title cached from the masked form before."""
    from vault._masking import TITLE_FIELD, TITLE_POSITION
    document = vault.ingest(io.BytesIO(b"Zoltan Brecker hearing\nNothing else.\n"), case=case, filename="z.txt",
                            actor="tester", kind=Kind.COURT_RECORD)
    release_all(vault, people, document.id)  # the suggestion "Zoltan Brecker" rejected: shown as written
    assert [d.title for d in listing(vault, case, "ivy").documents] == ["Zoltan Brecker hearing"]
    rex = vault.user("rex")
    vault.corrections.reopen(document.id, rex, actor="tester")
    vault.add_span(document.id, rex, unit=TITLE_POSITION, start=len("Zoltan "), end=len("Zoltan Brecker"),
                   field_name=TITLE_FIELD, category="person", actor="tester")  # the surname (the whole was rejected)
    vault.release(document.id, rex, actor="tester")
    titles = [d.title for d in listing(vault, case, "ivy").documents]
    assert len(titles) == 1 and "Brecker" not in titles[0], titles
