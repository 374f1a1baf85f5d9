"""No answer is an oracle for what the caller may not see, on SQLite and PostgreSQL, over real HTTP.

The world's personas (tests/web/api/conftest.py): ivy, investigator of "Affaire H", where two
calls are released and a third (rex's upload) waits in review; rex and rita, its reviewers; ada,
admin; otto, investigator of another case. What ivy may not see must answer to her exactly as what
does not exist: a count without it, an upload that tells nothing of it.
"""

from __future__ import annotations

import io

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


def test_an_upload_duplicating_a_document_the_uploader_may_see_is_a_conflict(world):
    with world.client("investigator") as ivy:
        released = _upload(ivy, world, CALL_1)  # a released call: ivy reads it already
    with world.client("reviewer2") as rita:
        in_review = _upload(rita, world, IN_REVIEW)  # in review: rita reviews it
    for answer in (released, in_review):
        assert answer.status_code == 409 and answer.json() == {
            "error": "DUPLICATE_DOCUMENT", "message": "this file is already in the case"}
