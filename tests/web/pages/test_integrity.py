"""Access state written by raw SQL, over real HTTP (API and pages): the next request is refused
with 503 STATE_TAMPERED, never a 500, never what the forged row would grant, and the refusal is
audited (SECURITY-TESTS 61). The vault-level matrix is tests/vault/test_integrity.py. Here, under the pages' fixtures (plain
cookies), so one world serves both the API and a browser."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests.search.conftest import NAMES
from tests.web.pages.conftest import browser, sign_in
from vault._models import utcnow

REASON = "Caller 1 appears in the 2023 extortion file; we must check his company links."


def _sql(world, statement: str, **params: object) -> None:
    with world.vault.db.engine.begin() as connection:
        connection.execute(sa.text(statement), params)
        connection.execute(sa.text("update policy_epoch set value = value + 1"))  # as another node would


def _refused(answer) -> None:
    assert answer.status_code == 503, (answer.status_code, answer.text[:300])
    assert "integrity check" in answer.text and "Traceback" not in answer.text
    assert not any(name.lower() in answer.text.lower() for name in NAMES)


def _audited(world, table: str) -> None:
    assert any(e.action == "integrity.tampered" and e.details["table"] == table
               for e in world.vault.audit_entries(limit=1000))


def test_a_role_raised_by_raw_sql_gives_no_reviewer_power(world):
    review = world.documents["review"].id
    _sql(world, "update user_account set role = 'reviewer' where name = 'ivy'")
    with world.client("investigator") as ivy:
        _refused(ivy.get("/api/v1/review"))
        _refused(ivy.get(f"/api/v1/documents/{review}/review"))
        _refused(ivy.post(f"/api/v1/documents/{review}/release"))
        answer = ivy.get("/api/v1/cases")
    _refused(answer)
    assert answer.json()["error"] == "STATE_TAMPERED"
    assert world.vault.document(review).status.value == "in_review"
    _audited(world, "user_account")


def test_a_forged_membership_is_refused_over_the_api_and_the_pages(world):
    page = sign_in(world, "investigator")
    assert page.get("/search").status_code == 200
    other = world.vault.case("Another case")
    _sql(world, "insert into membership (user_id, case_id, created_at, mac) "
                "select :ivy, case_id, created_at, mac from membership where user_id = :otto",
         ivy=world.users["investigator"].id, otto=world.users["outsider"].id)
    with world.client("investigator") as ivy:
        _refused(ivy.post("/api/v1/search", json={"q": "noose", "case": other.name}))
    _refused(page.get(f"/cases/{other.id}/identities"))
    _refused(page.get("/search"))
    _refused(sign_in_again(world))
    _audited(world, "membership")


def sign_in_again(world):
    """A fresh browser's sign-in as ivy: the forged membership refuses it too."""
    from tests.web.pages.conftest import SIGN_IN_TOKEN

    client = browser(world)
    token = SIGN_IN_TOKEN.search(client.get("/login").text).group(1)
    return client.post("/login", data={"sign_in_token": token, "name": "ivy",
                                       "password": world.passwords["investigator"]})


def test_a_document_released_by_raw_sql_is_neither_read_nor_found(world):
    review = world.documents["review"].id
    with world.client("investigator") as ivy:
        assert ivy.get(f"/api/v1/documents/{review}").status_code == 404
        _sql(world, "update document set status = 'released' where id = :id", id=review)
        _refused(ivy.get(f"/api/v1/documents/{review}"))
        _refused(ivy.get(f"/api/v1/documents/{review}/original"))
        found = ivy.post("/api/v1/search", json={"q": "alone"})
    assert found.status_code == 200 and found.json()["total"] == 0  # never indexed as released
    _refused(sign_in(world, "investigator").get(f"/documents/{review}"))
    _audited(world, "document")


def test_an_unmask_approved_by_raw_sql_reveals_no_name(world):
    call = world.documents["call1"].id
    with world.client("investigator") as ivy:
        asked = ivy.post(f"/api/v1/cases/{world.case.name}/unmask-requests",
                         json={"identity": "Caller 1", "justification": REASON})
        assert asked.status_code in (200, 201), asked.text
        _sql(world, "update unmask_request set state = 'approved', decided_by = :rex, decided_at = :now, "
                    "expires_at = :far", rex=world.users["reviewer"].id, now=utcnow(),
             far=utcnow() + timedelta(days=3650))
        _refused(ivy.get(f"/api/v1/documents/{call}"))
        _refused(ivy.post("/api/v1/search", json={"q": "noose"}))
    _refused(sign_in(world, "investigator").get(f"/documents/{call}"))
    _audited(world, "unmask_request")
