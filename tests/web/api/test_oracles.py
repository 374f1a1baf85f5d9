"""No answer is an oracle for what the caller may not see, on SQLite and PostgreSQL, over real HTTP.

The world's personas (tests/web/api/conftest.py): ivy, investigator of "Affaire H", where two
calls are released and a third (rex's upload) waits in review; rex and rita, its reviewers; ada,
admin; otto, investigator of another case. What ivy may not see must answer to her exactly as what
does not exist: a count without it, an upload that tells nothing of it.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import BACKENDS
from tests.search.conftest import CALL_1, IN_REVIEW


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str | None:
    return None if request.param == "sqlite" else request.getfixturevalue("postgres_url")


def _counts(world, persona: str) -> dict[str, int]:
    with world.client(persona) as client:
        answer = client.get("/api/v1/cases")
    assert answer.status_code == 200, answer.text
    return {c["name"]: c["documents"] for c in answer.json()}


def _upload(client, world, data: bytes, filename: str = "call.txt"):
    return client.post("/api/v1/documents", files={"file": (filename, io.BytesIO(data))},
                       data={"case": world.case.name})


# -- counts -------------------------------------------------------------------------------------

def test_an_investigator_counts_only_the_released_documents_and_no_upload_moves_the_count(world):
    before = _counts(world, "investigator")
    assert before["Affaire H"] == 2, (
        f"investigator ivy counts {before['Affaire H']} documents in Affaire H, where 2 are released: "
        "the document in review leaked through the count")
    with world.client("reviewer2") as rita:  # a reviewer's upload enters review
        assert _upload(rita, world, b"[00:00:01] QM: a new call about the harbour.\n").status_code == 201
    after = _counts(world, "investigator")
    assert after == before, f"investigator ivy watched the count move on rita's upload: {before} -> {after}"


def test_a_reviewer_counts_the_documents_in_review_of_their_case(world):
    assert _counts(world, "reviewer")["Affaire H"] == 3


def test_an_outsider_and_an_admin_count_nothing_they_may_not_read(world):
    outsider = _counts(world, "outsider")
    assert "Affaire H" not in outsider and outsider["Another case"] == 0
    admin = _counts(world, "admin")  # admins manage cases, never read their documents
    assert admin == {"Affaire H": 0, "Another case": 0}, f"admin ada counts documents she may not read: {admin}"


# -- duplicates ---------------------------------------------------------------------------------

def test_an_upload_duplicating_a_document_in_review_answers_as_a_new_upload(world):
    """ivy uploads the file that waits in review (rex's): the answer must be that of a new upload
    of hers, not a 409 that tells her the file is in the case. Her own earlier upload, sent again,
    answers the same way, so the two cannot be told apart either."""
    fresh_data = b"[00:00:01] QM: the ferry leaves at dawn.\n[00:00:04] H: Then be on it.\n"
    with world.client("investigator") as ivy:
        fresh = _upload(ivy, world, fresh_data)
        hidden = _upload(ivy, world, IN_REVIEW, "mine.txt")
        fresh_again = _upload(ivy, world, fresh_data, "again.txt")
        hidden_again = _upload(ivy, world, IN_REVIEW, "again.txt")
        reads = {name: ivy.get(f"/api/v1/documents/{answer.json()['id']}")
                 for name, answer in (("fresh", fresh), ("hidden", hidden))}
    shape = (fresh.status_code, sorted(fresh.json()), fresh.json()["kind"], fresh.json()["status"])
    for name, answer in (("duplicate of rex's upload", hidden), ("her own upload again", fresh_again),
                         ("rex's upload again", hidden_again)):
        seen = (answer.status_code, sorted(answer.json()), answer.json().get("kind"), answer.json().get("status"))
        assert seen == shape, (f"investigator ivy's upload ({name}) answers {seen} {answer.text}, a new upload "
                               f"{shape}: the document in review leaked")
    assert fresh_again.json()["id"] == fresh.json()["id"] and hidden_again.json()["id"] == hidden.json()["id"]
    assert reads["fresh"].status_code == reads["hidden"].status_code == 404
    assert reads["fresh"].json() == reads["hidden"].json()
    assert len(world.vault.documents()) == 4  # rex's file is not stored twice
    copies = [e.target for e in world.vault.audit_entries(after=0, limit=1000) if e.action == "document.ingest-duplicate"]
    assert copies.count(world.documents["review"].id) == 2 and copies.count(fresh.json()["id"]) == 1


def test_an_upload_duplicating_a_document_the_uploader_may_see_is_a_conflict(world):
    with world.client("investigator") as ivy:
        released = _upload(ivy, world, CALL_1)  # a released call: ivy reads it already
    with world.client("reviewer2") as rita:
        in_review = _upload(rita, world, IN_REVIEW)  # in review: rita reviews it
    for answer in (released, in_review):
        assert answer.status_code == 409 and answer.json() == {
            "error": "DUPLICATE_DOCUMENT", "message": "this file is already in the case"}


# -- text that is not text, numbers past every column -------------------------------------------

LONE = "\\ud800"  # a lone surrogate, as JSON spells it
NUL = "\\u0000"
JUSTIFICATION = "needed to prepare the extradition hearing of 14 May"


def _bad_inputs(world) -> list[tuple[str, str, str, dict[str, object]]]:
    """(persona, method, path, request arguments): each puts a lone surrogate or a NUL in one
    place, or a number past what a column holds."""
    call1, review = world.documents["call1"].id, world.documents["review"].id
    case = world.case.name
    pending = next(r["id"] for u in world.vault.masked(review).units for r in u.suggestions if r["state"] == "pending")
    request = world.vault.request_unmask(world.users["investigator"], world.case, "H", JUSTIFICATION, actor="tester")
    spare, _ = world.vault.issue_access_key("otto", actor="tester")
    rows = []
    for bad in (LONE, NUL):
        def body(text: str) -> dict[str, object]:
            return {"content": text.replace("BAD", bad).encode(), "headers": {"Content-Type": "application/json"}}

        rows += [
            ("investigator", "POST", "/api/v1/search", body('{"q": "noose", "case": "BAD"}')),
            ("investigator", "POST", "/api/v1/search", body('{"q": "noose BAD"}')),
            ("investigator", "POST", "/api/v1/search", body('{"q": "noose", "sort": "BAD"}')),
            ("admin", "POST", "/api/v1/cases", body('{"name": "Affaire BAD"}')),
            ("investigator", "POST", f"/api/v1/cases/{case}/unmask-requests",
             body(f'{{"identity": "BAD", "justification": "{JUSTIFICATION}"}}')),
            ("investigator", "POST", f"/api/v1/cases/{case}/unmask-requests",
             body(f'{{"identity": "H", "justification": "{JUSTIFICATION} BAD"}}')),
            ("reviewer", "POST", f"/api/v1/documents/{review}/decisions", body('{"reject": ["BAD"]}')),
            ("reviewer", "POST", f"/api/v1/documents/{review}/decisions",
             body(f'{{"accept": ["{pending}"], "identity": "BAD"}}')),
            ("admin", "POST", "/api/v1/users", body('{"name": "newBAD", "role": "investigator"}')),
            ("admin", "POST", "/api/v1/users", body('{"name": "newcomer", "role": "BAD"}')),
            ("admin", "POST", "/api/v1/users", body('{"name": "newcomer", "role": "investigator", "cases": ["BAD"]}')),
            ("admin", "POST", "/api/v1/keys/rotate", body('{"case": "BAD"}')),
        ]
    for persona, method, path in (
            ("investigator", "GET", "/api/v1/documents/X"), ("reviewer", "GET", "/api/v1/documents/X/original"),
            ("reviewer", "GET", "/api/v1/documents/X/review"), ("reviewer", "POST", "/api/v1/documents/X/release"),
            ("investigator", "GET", "/api/v1/cases/X/identities"),
            ("investigator", "GET", "/api/v1/cases/X/unmask-requests"),
            ("reviewer", "POST", "/api/v1/unmask-requests/X/decision"),
            ("admin", "PUT", f"/api/v1/users/X/cases/{case}"), ("admin", "DELETE", "/api/v1/users/otto/cases/X"),
            ("admin", "GET", "/api/v1/users/X/access-keys"), ("admin", "POST", "/api/v1/users/X/access-keys"),
            ("admin", "DELETE", "/api/v1/access-keys/X")):
        arguments = {"json": {"approve": False}} if path.endswith("decision") else {}
        for place in (f"{call1}%00", "ivy%00", f"{request.id}%00", f"{spare.id}%00"):
            rows.append((persona, method, path.replace("X", place), arguments))
    rows += [
        ("investigator", "POST", "/api/v1/documents",
         {"files": {"file": ("call.txt", io.BytesIO(b"[00:00:01] QM: hello.\n"))}, "data": {"case": f"{case}\0"}}),
        ("admin", "GET", f"/api/v1/audit?after={2**63}", {}),
        ("admin", "GET", f"/api/v1/audit?after={10**30}", {}),
        ("admin", "GET", f"/api/v1/audit?limit={10**30}", {}),
        ("admin", "GET", "/api/v1/audit?after=1&after=%00", {}),
        ("investigator", "POST", "/api/v1/search", {"json": {"q": "noose", "page": 2**64}}),
        ("reviewer", "POST", f"/api/v1/unmask-requests/{request.id}/decision", {"json": {"approve": True, "hours": 1e308}}),
        ("admin", "POST", "/api/v1/users/otto/access-keys", {"json": {"expires_in_days": 1e308}}),
    ]
    return rows


def test_text_that_is_not_text_and_numbers_past_a_column_are_a_clear_4xx(world):
    wrong = []
    for persona, method, path, arguments in _bad_inputs(world):
        with world.client(persona) as client:
            answer = client.request(method, path, **arguments)
        shown = f"{persona} {method} {path} {str(arguments)[:120]}: {answer.status_code} {answer.text[:200]}"
        if answer.status_code not in (400, 422) or answer.json().get("error") != "INVALID_INPUT":
            wrong.append(shown)
    assert not wrong, "answered other than 400/422 INVALID_INPUT:\n" + "\n".join(wrong)


def test_a_lone_surrogate_as_the_search_case_is_a_400_that_says_why(world):
    with world.client("investigator") as ivy:
        answer = ivy.post("/api/v1/search", content=b'{"q": "noose", "case": "\\ud800"}',
                          headers={"Content-Type": "application/json"})
        after = ivy.post("/api/v1/search", json={"q": "noose", "case": world.case.name})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "INVALID_INPUT" and "case" in answer.json()["message"]
    assert "surrogate" in answer.json()["message"]
    assert after.status_code == 200


# -- unmask grants ------------------------------------------------------------------------------

def _granted(world) -> str:
    """ivy asks to see H; rita approves for a day. Returns the request's id."""
    with world.client("investigator") as ivy:
        asked = ivy.post(f"/api/v1/cases/{world.case.name}/unmask-requests",
                         json={"identity": "H", "justification": JUSTIFICATION})
    assert asked.status_code == 201, asked.text
    with world.client("reviewer2") as rita:
        approved = rita.post(f"/api/v1/unmask-requests/{asked.json()['id']}/decision", json={"approve": True, "hours": 24})
    assert approved.status_code == 200 and approved.json()["state"] == "approved", approved.text
    return asked.json()["id"]


def _states(world, persona: str) -> dict[str, str]:
    with world.client(persona) as client:
        answer = client.get(f"/api/v1/cases/{world.case.name}/unmask-requests")
    assert answer.status_code == 200, answer.text
    return {r["id"]: r["state"] for r in answer.json()}


def _reads_the_name(world) -> bool:
    with world.client("investigator") as ivy:
        view = ivy.get(f"/api/v1/documents/{world.documents['call1'].id}")
    assert view.status_code == 200
    return "Quillon" in view.text


def test_an_expired_grant_shows_expired_not_approved(world):
    with world.client("investigator") as ivy:
        asked = ivy.post(f"/api/v1/cases/{world.case.name}/unmask-requests",
                         json={"identity": "H", "justification": JUSTIFICATION})
    granted = asked.json()["id"]
    # rita approved it for a day, two days ago
    world.vault.decide_unmask(granted, world.users["reviewer2"], approve=True, valid_for=timedelta(days=1),
                              now=datetime.now(UTC) - timedelta(days=2), actor="tester")
    assert not _reads_the_name(world)
    for persona in ("investigator", "reviewer"):
        state = _states(world, persona)[granted]
        assert state == "expired", f"{persona} sees ivy's expired grant for H as {state!r}: it reads nothing any more"


def test_a_reviewer_revokes_a_grant_over_the_api_and_the_name_is_masked_again(world):
    granted = _granted(world)
    assert _reads_the_name(world)
    with world.client("investigator") as ivy:
        own = ivy.post(f"/api/v1/unmask-requests/{granted}/revoke")
    with world.client("reviewer") as rex:
        revoked = rex.post(f"/api/v1/unmask-requests/{granted}/revoke")
        again = rex.post(f"/api/v1/unmask-requests/{granted}/revoke")
    assert own.status_code == 403  # investigators ask; reviewers decide and revoke
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked" and revoked.json()["identity"] == "H"
    assert again.status_code == 409 and again.json()["error"] == "CONFLICT"
    assert not _reads_the_name(world), "investigator ivy still reads Hadrien Quillon after rex revoked her grant"
    assert _states(world, "investigator")[granted] == "revoked"


def test_a_second_pending_request_for_one_identity_is_refused_until_the_first_is_decided(world):
    with world.client("investigator") as ivy:
        first = ivy.post(f"/api/v1/cases/{world.case.name}/unmask-requests",
                         json={"identity": "H", "justification": JUSTIFICATION})
        second = ivy.post(f"/api/v1/cases/{world.case.name}/unmask-requests",
                          json={"identity": "H", "justification": JUSTIFICATION + ", again"})
        other = ivy.post(f"/api/v1/cases/{world.case.name}/unmask-requests",
                         json={"identity": "Caller 1", "justification": JUSTIFICATION})
    assert first.status_code == 201 and other.status_code == 201
    assert second.status_code == 409 and second.json()["error"] == "ALREADY_REQUESTED", second.text
    assert "waits" in second.json()["message"]
    with world.client("reviewer") as rex:
        assert rex.post(f"/api/v1/unmask-requests/{first.json()['id']}/decision",
                        json={"approve": False}).status_code == 200
    with world.client("investigator") as ivy:
        after_denial = ivy.post(f"/api/v1/cases/{world.case.name}/unmask-requests",
                                json={"identity": "H", "justification": JUSTIFICATION + ", with the hearing date"})
    assert after_denial.status_code == 201
    assert sorted(_states(world, "investigator").values()) == ["denied", "pending", "pending"]
