"""A document's own date over HTTP: a reviewer sets and clears it (API and review page, audited),
search follows it (``date:``, ``uploaded:``, the year facets, the hit), and no one else may set it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.conftest import ingest_bytes
from tests.web.pages.conftest import csrf_of, search, sign_in

DECISION = ("TRIBUNAL JUDICIAIRE DE LYON\n\nORDONNANCE DE RÉFÉRÉ\nrendue le 5 décembre 2023\n\n"
            "Le juge ordonne la suppression de l'article sur le phare.\n").encode()


def _put(world, persona: str, document_id: str, day: object):
    with world.client(persona) as client:
        return client.put(f"/api/v1/documents/{document_id}/date", json={"date": day})


def _audited(world, document_id: str) -> list[dict[str, object]]:
    return [e for e in world.vault.audit_entries(limit=100_000) if e.action == "document.date" and e.target == document_id]


def test_a_reviewer_sets_and_clears_the_date_and_search_follows(world):
    document_id = world.documents["call1"].id  # released, no date in it
    assert world.vault.document(document_id).document_date is None
    today = datetime.now(UTC).date()
    with world.client("reviewer") as rex:
        before = rex.post("/api/v1/search", json={"q": "noose date:2023"}).json()
        answer = rex.put(f"/api/v1/documents/{document_id}/date", json={"date": "2023-03-14"})
        found = rex.post("/api/v1/search", json={"q": "noose date:2023"}).json()
        by_day = rex.post("/api/v1/search", json={"q": "date:2023-03-14"}).json()
        uploaded = rex.post("/api/v1/search", json={"q": f"noose uploaded:{today.year}"}).json()
        not_uploaded_then = rex.post("/api/v1/search", json={"q": "noose uploaded:2023"}).json()
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"id": document_id, "date": "2023-03-14", "uploaded": today.isoformat()}
    assert before["total"] == 0
    assert {h["id"] for h in found["hits"]} == {document_id}
    assert {h["id"] for h in by_day["hits"]} == {document_id}
    hit = found["hits"][0]
    assert hit["location"]["date"] == "2023-03-14" and hit["location"]["uploaded"] == today.isoformat()
    assert found["facets"]["year"] == {"2023": found["total"]}
    assert found["facets"]["upload_year"] == {str(today.year): found["total"]}
    assert document_id in {h["id"] for h in uploaded["hits"]} and not_uploaded_then["total"] == 0
    assert world.vault.document(document_id).created_at.date() == today  # the upload day stays
    with world.client("reviewer") as rex:
        cleared = rex.put(f"/api/v1/documents/{document_id}/date", json={"date": None})
        gone = rex.post("/api/v1/search", json={"q": "noose date:2023"}).json()
        undated = rex.post("/api/v1/search", json={"q": "noose"}).json()
    assert cleared.status_code == 200 and cleared.json()["date"] is None
    assert gone["total"] == 0
    assert undated["facets"]["year"].get("none") and "2023" not in undated["facets"]["year"]
    entries = _audited(world, document_id)
    assert [e.details["date"] for e in entries] == ["2023-03-14", None]
    assert all(e.details["user"] == world.users["reviewer"].id for e in entries)


@pytest.mark.parametrize("persona", ["investigator", "admin", "outsider", "anonymous", "revoked"])
@pytest.mark.parametrize("document", ["call1", "review"])
def test_no_one_but_a_reviewer_of_the_case_sets_a_date(world, persona, document):
    document_id = world.documents[document].id
    answer = _put(world, persona, document_id, "2023-03-14")
    assert answer.status_code in (401, 403, 404), f"{persona} set the date of {document}: {answer.status_code}"
    assert world.vault.document(document_id).document_date is None, f"{persona} changed the date of {document}"
    assert _audited(world, document_id) == []


@pytest.mark.parametrize("day", ["2023-02-31", "31 février 2023", "yesterday", "2023-3-1", "0999-01-01", 20230314])
def test_a_bad_date_is_a_clear_400_and_changes_nothing(world, day):
    document_id = world.documents["call1"].id
    answer = _put(world, "reviewer", document_id, day)
    assert answer.status_code in (400, 422), answer.text
    assert answer.status_code != 500
    assert world.vault.document(document_id).document_date is None


def test_the_review_page_sets_and_clears_the_date_post_redirect_get(world):
    document = ingest_bytes(world.vault, world.case, DECISION, "ordonnance.txt")
    assert document.document_date == date(2023, 12, 5)  # found in the text at ingest
    rex = sign_in(world, "reviewer")
    page = rex.get(f"/review/{document.id}")
    assert page.status_code == 200 and 'name="date" value="2023-12-05"' in page.text
    token = csrf_of(rex, f"/review/{document.id}")
    posted = rex.post(f"/review/{document.id}/date", data={"csrf": token, "date": "2023-03-14"})
    assert posted.status_code == 303 and posted.headers["location"] == f"/review/{document.id}?notice=date-set"
    assert world.vault.document(document.id).document_date == date(2023, 3, 14)
    shown = rex.get(posted.headers["location"])
    assert "The document date was saved." in shown.text and 'value="2023-03-14"' in shown.text
    bad = rex.post(f"/review/{document.id}/date", data={"csrf": token, "date": "2023-02-31"})
    assert bad.status_code == 400 and world.vault.document(document.id).document_date == date(2023, 3, 14)
    cleared = rex.post(f"/review/{document.id}/date", data={"csrf": token, "clear": "1", "date": "2023-03-14"})
    assert cleared.headers["location"].endswith("notice=date-cleared")
    assert world.vault.document(document.id).document_date is None
    found = search(rex, csrf_of(rex), "phare")
    assert "no date" in found.text


def test_an_investigator_cannot_post_the_review_form(world):
    ivy = sign_in(world, "investigator")
    token = csrf_of(ivy)
    document_id = world.documents["call1"].id
    answer = ivy.post(f"/review/{document_id}/date", data={"csrf": token, "date": "2023-03-14"})
    assert answer.status_code in (403, 404)
    assert world.vault.document(document_id).document_date is None


def test_the_document_page_shows_its_date_beside_the_upload_day(world):
    document_id = world.documents["call1"].id
    ivy = sign_in(world, "investigator")
    assert "no date" in ivy.get(f"/documents/{document_id}").text
    assert _put(world, "reviewer", document_id, "2023-03-14").status_code == 200
    page = ivy.get(f"/documents/{document_id}").text
    today = datetime.now(UTC).date().isoformat()
    assert 'class="document-date" datetime="2023-03-14"' in page and f'class="uploaded" datetime="{today}"' in page
