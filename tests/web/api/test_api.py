"""What API users rely on, over real HTTP: the fixed endpoints answer like the CLI, names stay
hidden, bad input gets a clear 4xx and changes nothing, and the security headers are there."""

from __future__ import annotations

import io
import logging
from datetime import date

import pytest

from tests.conftest import set_document_dates
from tests.search.conftest import NAMES
from web._upload import FORM_OVERHEAD


def test_an_investigator_reads_and_finds_only_pseudonyms(world):
    with world.client("investigator") as ivy:
        view = ivy.get(f"/api/v1/documents/{world.documents['call1'].id}")
        found = ivy.post("/api/v1/search", json={"q": '"noose tighten"', "case": world.case.name, "page": 1})
    assert view.status_code == 200 and found.status_code == 200
    assert view.json()["turns"][1]["speaker"] == "H"
    assert found.json()["total"] == 1 and found.json()["hits"][0]["id"] == world.documents["call1"].id
    for answer in (view.text, found.text):
        assert not any(name.lower() in answer.lower() for name in NAMES)


def test_a_real_name_query_by_an_investigator_finds_nothing(world):
    with world.client("investigator") as ivy:
        by_name = ivy.post("/api/v1/search", json={"q": "Quillon"}).json()
        by_label = ivy.post("/api/v1/search", json={"q": "H"}).json()
    assert by_name["total"] == 0 and by_label["total"] > 0


def test_search_sorts_by_the_documents_own_dates(world):
    days = {"call1": date(2024, 3, 1), "call2": date(2024, 3, 5), "review": date(2024, 3, 9)}
    set_document_dates(world.vault.db.engine, {world.documents[name].id: day for name, day in days.items()})
    world.app.state.services.search.reindex()  # the index reads the dates when it is rebuilt
    names = {world.documents[name].id: name for name in days}
    with world.client("reviewer") as rex:  # a reviewer: released and in-review documents
        answers = {sort: rex.post("/api/v1/search", json={"q": "noose OR notice", "sort": sort}).json()
                   for sort in ("newest", "oldest")}
    order = {sort: [(h["location"]["date"], names[h["id"]]) for h in answer["hits"]] for sort, answer in answers.items()}
    assert order["newest"] == [("2024-03-09", "review"), ("2024-03-05", "call2")] + [("2024-03-01", "call1")] * 2
    assert order["oldest"] == [("2024-03-01", "call1")] * 2 + [("2024-03-05", "call2"), ("2024-03-09", "review")]
    call1 = [h["score"] for h in answers["newest"]["hits"][2:]]
    assert call1 == sorted(call1, reverse=True)  # within a day, the more relevant first


def test_an_upload_enters_review_and_a_duplicate_is_a_conflict(world):
    data = b"[00:00:01] QM: the lighthouse keeper called about Quillon.\n[00:00:05] H: Tell him nothing.\n"
    with world.client("investigator") as ivy:
        first = ivy.post("/api/v1/documents", files={"file": ("call.txt", io.BytesIO(data))}, data={"case": world.case.name})
        again = ivy.post("/api/v1/documents", files={"file": ("other.txt", io.BytesIO(data))}, data={"case": world.case.name})
        hidden = ivy.get(f"/api/v1/documents/{first.json()['id']}")
    with world.client("reviewer") as rex:
        seen = rex.post("/api/v1/documents", files={"file": ("rex.txt", io.BytesIO(data))}, data={"case": world.case.name})
    assert first.status_code == 201 and first.json()["status"] == "in_review" and first.json()["kind"] == "transcript"
    # ivy may not see what waits in review, her own upload included: a duplicate of it answers as a
    # new upload would (tests/web/api/test_oracles.py); a reviewer, who sees it, gets the conflict
    assert again.status_code == 201 and again.json() == first.json()
    assert seen.status_code == 409 and seen.json()["error"] == "DUPLICATE_DOCUMENT"
    assert hidden.status_code == 404  # in review: not for investigators


def test_an_upload_over_the_limit_is_cut_with_413_and_nothing_is_stored(world):
    limit = world.vault.settings.limits.max_file_bytes
    before = len(world.vault.documents())

    def body():  # streamed without a length: the server must count as it reads
        yield b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n\r\n'
        chunk = b"a" * (1024 * 1024)
        for _ in range((limit + FORM_OVERHEAD) // len(chunk) + 2):
            yield chunk

    with world.client("investigator") as ivy:
        declared = ivy.post("/api/v1/documents", files={"file": ("big.txt", b"a" * (limit + FORM_OVERHEAD + 1))},
                            data={"case": world.case.name})
        streamed = ivy.post("/api/v1/documents", content=body(),
                            headers={"Content-Type": "multipart/form-data; boundary=xyz"})
    assert declared.status_code == 413 and declared.json()["error"] == "TOO_LARGE"
    assert streamed.status_code == 413
    assert len(world.vault.documents()) == before


def test_bad_input_gets_a_clear_4xx(world):
    with world.client("investigator") as ivy:
        leading = ivy.post("/api/v1/search", json={"q": "*oose"})
        no_body = ivy.post("/api/v1/search", content=b"not json", headers={"Content-Type": "application/json"})
        no_file = ivy.post("/api/v1/documents", data={"case": world.case.name})
        not_multipart = ivy.post("/api/v1/documents", json={"case": world.case.name})
        bad_page = ivy.post("/api/v1/search", json={"q": "noose", "page": 1000})
        bad_sort = ivy.post("/api/v1/search", json={"q": "noose", "sort": "date"})
        broken = ivy.post("/api/v1/documents", content=b"aaaa", headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert leading.status_code == 400 and leading.json()["error"] == "QUERY_NOT_ALLOWED"
    assert no_body.status_code == 422 and no_body.json()["error"] == "INVALID_INPUT"
    assert no_file.status_code == 400 and "file" in no_file.json()["message"]
    assert not_multipart.status_code == 400 and "multipart" in not_multipart.json()["message"]
    assert bad_page.status_code == 400 and "page" in bad_page.json()["message"]
    assert bad_sort.status_code == 400 and bad_sort.json() == {
        "error": "INVALID_INPUT", "message": "sort is one of relevance, newest, oldest"}
    assert broken.status_code == 400 and "malformed" in broken.json()["message"]
    for answer in (leading, no_body, no_file, not_multipart, bad_page, bad_sort, broken):
        assert "Traceback" not in answer.text


@pytest.mark.parametrize("query, field", [
    ("pairs:noose", "pairs"),
    ("noose status:released", "status"),
    ("(noose OR version:1)", "version"),
    ("speaker_facet:H", "speaker_facet"),
])
def test_a_field_the_query_language_does_not_offer_is_refused_not_searched_as_words(world, query, field):
    with world.client("investigator") as ivy:
        answer = ivy.post("/api/v1/search", json={"q": query})
    assert answer.status_code == 400, (query, answer.status_code, answer.text[:200])
    assert answer.json()["error"] == "QUERY_NOT_ALLOWED"
    assert repr(field) in answer.json()["message"] and "speaker:" in answer.json()["message"]


def test_a_revoked_access_key_is_refused_at_its_next_request(world):
    with world.client("admin") as ada, world.client("outsider") as otto:
        issued = otto.post("/api/v1/users/otto/access-keys", json={}).json()  # otto's own
        keys = ada.get("/api/v1/users/otto/access-keys").json()
        assert issued["access_key"].startswith("cvk_") and all("access_key" not in k for k in keys)
        with world.client("anonymous") as anyone:
            headers = {"Authorization": f"Bearer {issued['access_key']}"}
            assert anyone.get("/api/v1/cases", headers=headers).status_code == 200
            assert ada.delete(f"/api/v1/access-keys/{issued['id']}").status_code == 200
            refused = anyone.get("/api/v1/cases", headers=headers)
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")


def test_every_answer_carries_the_security_headers(world):
    with world.client("investigator") as ivy:
        answers = [ivy.get(f"/api/v1/documents/{world.documents['call1'].id}"), ivy.get("/api/v1/nothing-here"),
                   ivy.get("/api/v1/health")]
    for answer in answers:
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert answers[1].status_code == 404 and answers[1].json()["error"] == "NOT_FOUND"


def test_a_download_is_an_attachment_with_a_safe_name(world):
    with world.client("reviewer") as rex:
        answer = rex.get(f"/api/v1/documents/{world.documents['call1'].id}/original")
    assert answer.status_code == 200 and answer.content.startswith(b"[00:00:04] QM:")
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="call1.txt"') and "filename*=UTF-8''call1.txt" in disposition


def test_the_access_log_names_routes_not_paths(world, caplog):
    caplog.set_level(logging.INFO, logger="casevault.access")
    with world.client("investigator") as ivy:
        assert ivy.get(f"/api/v1/cases/{world.case.name}/identities").status_code == 200
        assert ivy.get("/api/v1/cases/No such case/identities").status_code == 404
    lines = [r.getMessage() for r in caplog.records if r.name == "casevault.access"]
    assert "GET /api/v1/cases/{case}/identities 200" in lines
    assert "GET /api/v1/cases/{case}/identities 404" in lines
    assert not any(world.case.name in line or "No such case" in line for line in lines)


def test_a_reviewer_cannot_release_what_they_uploaded_through_the_api(world):
    data = b"[00:00:01] QM: the ferry leaves at nine.\n[00:00:04] H: I will not be on it.\n"
    with world.client("reviewer") as rex, world.client("reviewer2") as rita:
        uploaded = rex.post("/api/v1/documents", files={"file": ("ferry.txt", io.BytesIO(data))},
                            data={"case": world.case.name}).json()["id"]
        pending = [str(r["id"]) for u in world.vault.masked(uploaded).units for r in u.suggestions
                   if r["state"] == "pending"]
        if pending:
            assert rex.post(f"/api/v1/documents/{uploaded}/decisions", json={"reject": pending}).status_code == 200
        own = rex.post(f"/api/v1/documents/{uploaded}/release")
        assert own.status_code == 403 and own.json()["error"] == "FORBIDDEN"
        assert rita.post(f"/api/v1/documents/{uploaded}/release").status_code == 200


def test_an_admin_rotates_the_case_keys_and_every_document_still_reads(world):
    with world.client("admin") as ada:
        rotated = ada.post("/api/v1/keys/rotate", json={"case": world.case.name})
        everything = ada.post("/api/v1/keys/rotate")
        unknown = ada.post("/api/v1/keys/rotate", json={"case": "No such case"})
        status = ada.get("/api/v1/keys").json()
    assert rotated.status_code == 200 and rotated.json()["case_keys_by_version"] == {"1": 2, "2": 1}
    assert everything.status_code == 200 and status == everything.json()
    assert status["case_keys_by_version"] == {"1": 2, "2": 2, "3": 1}
    assert unknown.status_code == 404
    data = b"[00:00:01] QM: the ferry leaves at dawn.\n[00:00:04] H: I will be on it.\n"
    with world.client("investigator") as ivy:
        old = ivy.get(f"/api/v1/documents/{world.documents['call1'].id}")
        added = ivy.post("/api/v1/documents", files={"file": ("ferry.txt", io.BytesIO(data))},
                         data={"case": world.case.name})
    assert old.status_code == 200 and old.json()["turns"]
    assert added.status_code == 201
    assert world.vault.key_status().documents_by_case_key_version[3] == 1
    rotations = [e for e in world.vault.audit_entries(limit=500) if e.action == "keys.rotate"]
    assert [e.actor for e in rotations] == ["ada (api)", "ada (api)"]


def test_only_an_admin_may_rotate(world):
    for persona in ("investigator", "reviewer", "outsider"):
        with world.client(persona) as client:
            answer = client.post("/api/v1/keys/rotate", json={"case": world.case.name})
        assert answer.status_code == 403 and answer.json()["error"] == "FORBIDDEN", persona
    with world.client("anonymous") as client:
        assert client.post("/api/v1/keys/rotate").status_code == 401
    assert world.vault.key_status().case_key_versions == {1: 2}


def test_a_membership_removed_through_the_api_hides_the_case_at_the_next_request(world):
    document = f"/api/v1/documents/{world.documents['call1'].id}"
    with world.client("admin") as ada, world.client("investigator") as ivy:
        assert ivy.get(document).status_code == 200
        removed = ada.delete(f"/api/v1/users/ivy/cases/{world.case.name}")
        assert removed.status_code == 200 and removed.json()["cases"] == []
        assert ivy.get(document).status_code == 404
        assert ivy.get("/api/v1/cases").json() == []
        added = ada.put(f"/api/v1/users/ivy/cases/{world.case.name}")  # waits for a reviewer of the case
        assert added.status_code == 200 and added.json()["pending_cases"] == [world.case.name]
        assert ivy.get(document).status_code == 404
        with world.client("reviewer") as rex:
            waiting = rex.get("/api/v1/confirmations").json()
            assert rex.post(f"/api/v1/confirmations/{waiting[0]['id']}", json={"approve": True}).status_code == 200
        assert ivy.get(document).status_code == 200
        assert ada.put("/api/v1/users/nobody/cases/" + world.case.name).status_code == 404


def test_a_write_is_indexed_before_its_answer_leaves(world):
    """The writer pays for indexing: when an upload or a release answers, the indexes already hold
    it, so a search after the answer neither misses it nor has to index it first."""
    search = world.app.state.services.search
    data = b"[00:00:01] QM: the lighthouse keeper called twice.\n"
    with world.client("investigator") as ivy:
        uploaded = ivy.post("/api/v1/documents", files={"file": ("keeper.txt", io.BytesIO(data))},
                            data={"case": world.case.name})
    assert uploaded.status_code == 201
    assert search._marks[world.case.id] == world.vault.feed.latest_index_change()  # before any search
    with world.client("reviewer") as rex:
        found = rex.post("/api/v1/search", json={"q": "lighthouse"}).json()
    assert [hit["id"] for hit in found["hits"]] == [uploaded.json()["id"]]


def test_a_reviewer_masks_a_span_of_the_title_over_the_api(world):
    # the file name is the title investigators see; a reviewer masks the place in it by hand
    data = b"[00:00:01] QM: the ferry leaves at nine.\n[00:00:04] H: I will not be on it.\n"
    title = "ferry from Tanger.txt"
    with world.client("reviewer") as rex, world.client("reviewer2") as rita, world.client("investigator") as ivy:
        uploaded = rex.post("/api/v1/documents", files={"file": (title, io.BytesIO(data))},
                            data={"case": world.case.name}).json()["id"]
        assert rex.get(f"/api/v1/documents/{uploaded}/review").json()["title"] == title
        start, end = title.index("Tanger"), title.index(".txt")
        assert ivy.post(f"/api/v1/documents/{uploaded}/spans",
                        json={"field": "title", "start": start, "end": end}).status_code == 404
        assert rex.post(f"/api/v1/documents/{uploaded}/spans",
                        json={"field": "title", "start": 0, "end": 500}).status_code == 400
        assert rex.post(f"/api/v1/documents/{uploaded}/spans",
                        json={"field": "cover", "start": 0, "end": 2}).status_code == 422
        added = rita.post(f"/api/v1/documents/{uploaded}/spans",
                          json={"field": "title", "start": start, "end": end, "category": "location"})
        assert added.status_code == 201, added.text
        masked = world.vault.masked(uploaded)
        pending = [str(r["id"]) for r in [*(r for u in masked.units for r in u.suggestions), *masked.title_suggestions]
                   if r["state"] == "pending"]
        if pending:
            assert rita.post(f"/api/v1/documents/{uploaded}/decisions", json={"reject": pending}).status_code == 200
        assert rita.post(f"/api/v1/documents/{uploaded}/release").status_code == 200
        shown = ivy.get(f"/api/v1/documents/{uploaded}").json()["title"]
        assert shown == "ferry from [location].txt", f"ivy read the title {shown!r}"
