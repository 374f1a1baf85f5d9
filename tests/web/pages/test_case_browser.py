"""The document browser and the admin's case pages over real HTTP: each role lists what the policy
lets them see of a case, titles masked (never a real name for an investigator or an admin), a
case one may not know is a 404 like one that does not exist, filters, sorting and paging hold, and
an admin creates a case and adds and removes its members (asked first, waiting for a reviewer)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ingest_bytes
from tests.search.conftest import release
from tests.web.pages.conftest import form_of, sign_in
from vault import CaseDocuments, DocumentFilter, DocumentSort, Kind
from vault.errors import InvalidInput

REAL_NAMES = ("Hadrien", "Quillon", "Quentin", "Malaure")
ROW = re.compile(r'<tr class="status-([a-z_]+)">.*?<a href="/(?:documents|review)/([0-9a-f-]+)">', re.S)


def listed(page) -> list[tuple[str, str]]:
    """(status, document id) of each row of the browser's table, in order."""
    table = page.text.split('<table id="documents">', 1)[1].split("</table>", 1)[0]
    return ROW.findall(table)


@pytest.fixture
def named(world):
    """A released court record whose file name holds a real name: its title must show masked."""
    document = ingest_bytes(world.vault, world.case, b"Decision of the court. Hadrien Quillon appeared.\n",
                            "decision_Hadrien_Quillon.txt", kind=Kind.COURT_RECORD)
    masked = world.vault.masked(document.id)
    rest = [r["id"] for u in masked.units for r in u.suggestions if r["state"] == "pending"]
    rest += [r["id"] for r in masked.title_suggestions if r["state"] == "pending"]
    if rest:
        world.vault.decide(document.id, world.users["reviewer"], rest, accept=False, actor="tester")
    release(world.vault, document.id, world.users["reviewer"], world.users["reviewer2"])
    return document


# -- who sees what ----------------------------------------------------------------------------

def test_an_investigator_lists_the_released_documents_of_their_case_titles_masked(world, named):
    ivy = sign_in(world, "investigator")
    page = ivy.get(f"/cases/{world.case.id}")
    assert page.status_code == 200
    rows = listed(page)
    shown = {doc for _, doc in rows}
    assert shown == {world.documents["call1"].id, world.documents["call2"].id, named.id}
    assert world.documents["review"].id not in page.text, "a document in review leaked to an investigator"
    assert {status for status, _ in rows} == {"released"}
    for name in REAL_NAMES:
        assert name not in page.text, f"{name} leaked into the investigator's browser"
    assert "Decision of the court. H appeared." in page.text  # the title as the document page shows it
    assert 'id="queue"' not in page.text and "Court record" in page.text and "Transcript" in page.text
    assert "/admin/cases" not in page.text


def test_a_reviewer_sees_documents_in_review_and_their_queue_linking_to_review(world):
    rex = sign_in(world, "reviewer")
    page = rex.get(f"/cases/{world.case.id}")
    assert page.status_code == 200
    review_id = world.documents["review"].id
    assert ("in_review", review_id) in listed(page)
    queue = page.text.split('id="queue"', 1)[1].split("</section>", 1)[0]
    assert f'href="/review/{review_id}"' in queue
    assert world.documents["call1"].id not in queue
    assert "rex" in page.text  # the uploader by name


def test_an_admin_reaches_the_case_page_and_sees_no_document_nor_a_real_name(world, named):
    ada = sign_in(world, "admin")
    page = ada.get(f"/cases/{world.case.id}")
    assert page.status_code == 200
    assert listed(page) == [] and f'href="/admin/cases/{world.case.id}"' in page.text
    for document in (*world.documents.values(), named):
        assert document.id not in page.text, "a document reached an admin"
    for name in REAL_NAMES:
        assert name not in page.text, f"{name} reached an admin"
    assert world.case.name in ada.get("/cases").text


@pytest.mark.parametrize("persona", ["outsider", "investigator", "reviewer"])
def test_a_case_one_may_not_know_answers_like_one_that_does_not_exist(world, persona):
    other = world.vault.case("Another case")
    client = sign_in(world, persona)
    hidden = other if persona != "outsider" else world.case
    refused = client.get(f"/cases/{hidden.id}")
    missing = client.get("/cases/00000000-0000-4000-8000-000000000000")
    assert refused.status_code == missing.status_code == 404
    assert refused.text.replace(hidden.id, "X") == missing.text.replace("00000000-0000-4000-8000-000000000000", "X")
    assert hidden.name not in client.get("/cases").text
    assert client.get(f"/cases/{world.case.name}").status_code == 404  # pages link by id, never a name


def test_the_index_lists_ones_cases_with_the_count_one_may_see(world):
    ivy = sign_in(world, "investigator")
    index = ivy.get("/cases")
    assert index.status_code == 200 and f'href="/cases/{world.case.id}"' in index.text
    assert "Another case" not in index.text
    assert re.search(r"</a></td><td>2</td>", index.text), "the count shows what ivy may see: two released"
    assert 'href="/cases"' in index.text  # in the menu


# -- filters, sorting, paging -----------------------------------------------------------------

def test_filters_by_kind_status_uploader_and_title_narrow_the_list(world, named):
    rex = sign_in(world, "reviewer")
    base = f"/cases/{world.case.id}"
    assert [d for _, d in listed(rex.get(base, params={"kind": "court_record"}))] == [named.id]
    assert [d for _, d in listed(rex.get(base, params={"status": "in_review"}))] == [world.documents["review"].id]
    assert [d for _, d in listed(rex.get(base, params={"uploader": "rex"}))] == [world.documents["review"].id]
    # no free-text filter: a typed name would sit in the address; `q` narrows nothing
    page = rex.get(base, params={"q": "CALL1"})
    assert len(listed(page)) == 4 and 'name="q"' not in page.text
    ivy = sign_in(world, "investigator")
    assert listed(ivy.get(base, params={"status": "in_review"})) == []


def test_sorting_by_title_both_ways_and_a_bad_parameter_is_a_400(world):
    ivy = sign_in(world, "investigator")
    base = f"/cases/{world.case.id}"
    up = [d for _, d in listed(ivy.get(base, params={"sort": "title", "order": "asc"}))]
    down = [d for _, d in listed(ivy.get(base, params={"sort": "title", "order": "desc"}))]
    assert up == [world.documents["call1"].id, world.documents["call2"].id] and down == up[::-1]
    for bad in ({"sort": "size"}, {"order": "sideways"}, {"kind": "photo"}, {"page": "0"}, {"page": "x"},
                {"page": str(2**70)}, {"status": "shredded"}):
        answer = ivy.get(base, params=bad)
        assert answer.status_code == 400, (bad, answer.status_code)


def test_pages_of_a_long_listing(world, named):
    many = [ingest_bytes(world.vault, world.case, f"Note {n:02d}.\n".encode(), f"note-{n:02d}.txt") for n in range(26)]
    everything = CaseDocuments(world.vault.store).listing(world.case, world.users["reviewer"], actor="tester")
    assert everything.total == 3 + 1 + 26 and everything.pages == 2 and len(everything.documents) == 25
    second = CaseDocuments(world.vault.store).listing(
        world.case, world.users["reviewer"], DocumentFilter(sort=DocumentSort.TITLE, descending=False, page=2),
        actor="tester")
    assert [d.title for d in second.documents] == [f"Note {n:02d}." for n in range(21, 26)]
    assert many[-1].id == second.documents[-1].id
    rex = sign_in(world, "reviewer")
    page = rex.get(f"/cases/{world.case.id}", params={"page": "2"})
    assert len(listed(page)) == 5 and "page 2 of 2" in page.text and 'rel="prev"' in page.text
    assert len(listed(rex.get(f"/cases/{world.case.id}", params={"page": "3"}))) == 0


def test_a_filter_refuses_what_it_does_not_know():
    with pytest.raises(InvalidInput):
        DocumentFilter.parse(sort="size")
    assert DocumentFilter.parse().descending and not DocumentFilter.parse(sort="title").descending


# -- the admin's case pages -------------------------------------------------------------------

def test_an_admin_creates_a_case_once_and_adds_and_removes_a_member(world):
    ada = sign_in(world, "admin")
    form = form_of(ada, "/admin/cases", "/admin/cases")
    made = ada.post("/admin/cases", data=form | {"name": "Harbour inquiry"})
    assert made.status_code == 303
    location = made.headers["location"]
    case = world.vault.case("Harbour inquiry")
    assert location == f"/admin/cases/{case.id}?notice=case-created"
    assert ada.post("/admin/cases", data=form | {"name": "Harbour inquiry 2"}).status_code == 409  # sent again
    page = ada.get(location)
    assert page.status_code == 200 and "The case is created" in page.text
    add = form_of(ada, location, f"/admin/cases/{case.id}/memberships")
    added = ada.post(f"/admin/cases/{case.id}/memberships", data=add | {"user": "ivy", "member": "1"})
    assert added.status_code == 303 and added.headers["location"].endswith("?notice=member-added")
    ivy = world.vault.user("ivy")
    assert case.id in ivy.pending and case.id not in ivy.cases, "an admin's membership must wait for a reviewer"
    shown = ada.get(added.headers["location"]).text
    assert "waiting for a reviewer" in shown and 'class="danger"' in shown
    remove = form_of(ada, added.headers["location"], f"/admin/cases/{case.id}/memberships", confirm=False)
    unticked = ada.post(f"/admin/cases/{case.id}/memberships", data=remove | {"user": "ivy", "member": "0"})
    assert unticked.status_code == 400 and "I understand" in unticked.text
    assert case.id in world.vault.user("ivy").pending
    removed = ada.post(f"/admin/cases/{case.id}/memberships",
                       data=remove | {"user": "ivy", "member": "0", "confirm": "yes"})
    assert removed.status_code == 303 and case.id not in world.vault.user("ivy").pending
    actions = [e.action for e in world.vault.audit_entries(limit=10_000)]
    assert {"case.create", "membership.add", "membership.remove"} <= set(actions)


def test_admin_case_pages_refuse_other_roles_and_unknown_input(world):
    ada = sign_in(world, "admin")
    base = f"/admin/cases/{world.case.id}/memberships"
    form = form_of(ada, f"/admin/cases/{world.case.id}", base)
    assert ada.post(base, data=form | {"user": "nobody", "member": "1"}).status_code == 404
    assert ada.get("/admin/cases/00000000-0000-4000-8000-000000000000").status_code == 404
    created = form_of(ada, "/admin/cases", "/admin/cases")
    assert ada.post("/admin/cases", data=created | {"name": "  "}).status_code == 400
    for persona in ("investigator", "reviewer"):
        client = sign_in(world, persona)
        assert client.get("/admin/cases").status_code == 403
        assert client.get(f"/admin/cases/{world.case.id}").status_code == 403
        token = form_of(client, f"/cases/{world.case.id}", "/logout")["csrf"]
        assert client.post(base, data={"csrf": token, "user": "otto", "member": "1"}).status_code == 403
    assert world.case.id not in world.vault.user("otto").cases | world.vault.user("otto").pending
