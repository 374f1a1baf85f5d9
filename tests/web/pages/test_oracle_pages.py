"""The pages as the API (tests/web/api/test_oracles.py), on SQLite and PostgreSQL: bad text and
numbers are a clear 400, an expired grant reads as expired, a reviewer revokes a grant, and an
investigator's upload of a file in review answers as a new upload."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import BACKENDS
from tests.search.conftest import IN_REVIEW
from tests.web.pages.conftest import SIGN_IN_TOKEN, browser, csrf_of, search, sign_in

JUSTIFICATION = "needed to prepare the extradition hearing of 14 May"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str | None:
    return None if request.param == "sqlite" else request.getfixturevalue("postgres_url")


def test_text_that_is_not_text_and_numbers_past_a_column_are_a_clear_400_on_the_pages(world):
    ivy, rex, ada = sign_in(world, "investigator"), sign_in(world, "reviewer"), sign_in(world, "admin")
    tokens = {"ivy": csrf_of(ivy), "rex": csrf_of(rex), "ada": csrf_of(ada)}
    call1, review = world.documents["call1"].id, world.documents["review"].id
    request = world.vault.request_unmask(world.users["investigator"], world.case, "H", JUSTIFICATION, actor="tester")
    noose = search(ivy, tokens["ivy"], "noose").url.path
    attempts = {
        "a NUL in a document id": (ivy, "GET", f"/documents/{call1}%00", {}),
        "a NUL in a user name": (ada, "GET", "/admin/users/ivy%00", {}),
        "a NUL in a case id": (ivy, "GET", f"/cases/{world.case.id}%00/identities", {}),
        "a NUL in a query": (ivy, "POST", "/search", {"data": {"csrf": tokens["ivy"], "q": "noose\0"}}),
        "a NUL in a form's case": (ivy, "POST", "/search", {"data": {"csrf": tokens["ivy"], "q": "noose",
                                                                      "case": world.case.id + "\0"}}),
        "a NUL in a justification": (ivy, "POST", f"/documents/{call1}/unmask", {"data": {
            "csrf": tokens["ivy"], "identity": "Caller 1", "justification": JUSTIFICATION + "\0"}}),
        "a NUL in a new user's name": (ada, "POST", "/admin/users", {"data": {
            "csrf": tokens["ada"], "name": "new\0comer", "role": "investigator"}}),
        "a NUL in an upload's case": (ivy, "POST", "/upload", {
            "files": {"file": ("call.txt", io.BytesIO(b"[00:00:01] QM: hello.\n"))},
            "data": {"csrf": tokens["ivy"], "case": world.case.id + "\0"}}),
        "an audit position past 2^63-1": (ada, "GET", f"/admin/audit?before={2**63}", {}),
        "a NUL as an audit position": (ada, "GET", "/admin/audit?after=%00", {}),
        "a key for 10^9 days": (ada, "POST", "/admin/users/rita/access-keys", {"data": {
            "csrf": tokens["ada"], "days": "1e9"}}),
        "a key for ever": (ada, "POST", "/admin/users/rita/access-keys", {"data": {
            "csrf": tokens["ada"], "days": "inf"}}),
        "a key that expired already": (ada, "POST", "/admin/users/rita/access-keys", {"data": {
            "csrf": tokens["ada"], "days": "-3"}}),
        "a grant for ever": (rex, "POST", f"/unmask/{request.id}/decision", {"data": {
            "csrf": tokens["rex"], "approve": "1", "hours": "inf"}}),
        "a span past every unit": (rex, "POST", f"/review/{review}/spans", {"data": {
            "csrf": tokens["rex"], "unit": str(2**70), "start": "0", "end": "5", "category": "other"}}),
        "a search page past every page": (ivy, "GET", f"{noose}?page={2**70}", {}),
    }
    wrong = []
    for what, (client, method, path, arguments) in attempts.items():
        answer = client.request(method, path, **arguments)
        if answer.status_code not in (400, 422):
            wrong.append(f"{what}: {method} {path} answered {answer.status_code} {answer.text[:160]}")
    with browser(world) as stranger:
        token = SIGN_IN_TOKEN.search(stranger.get("/login").text).group(1)
        answer = stranger.post("/login", data={"sign_in_token": token, "name": "ivy\0", "password": "x" * 12})
        if answer.status_code != 400:
            wrong.append(f"a NUL in a sign-in name: POST /login answered {answer.status_code}")
    assert not wrong, "\n".join(wrong)
    assert world.vault.unmask_requests(world.case)[0].state.value == "pending"
    assert "rita" in {u.name for u in world.vault.users()} and len(world.vault.access_keys("rita")) == 1


def test_an_expired_grant_reads_expired_and_a_reviewer_revokes_a_live_one_on_the_unmask_page(world):
    vault, ivy_user = world.vault, world.users["investigator"]
    old = vault.request_unmask(ivy_user, world.case, "Caller 1", JUSTIFICATION, actor="tester")
    vault.decide_unmask(old.id, world.users["reviewer2"], approve=True, valid_for=timedelta(days=1),
                        now=datetime.now(UTC) - timedelta(days=2), actor="tester")  # ended yesterday
    live = vault.request_unmask(ivy_user, world.case, "H", JUSTIFICATION, actor="tester")
    vault.decide_unmask(live.id, world.users["reviewer2"], approve=True, actor="tester")
    ivy, rex = sign_in(world, "investigator"), sign_in(world, "reviewer")
    page = ivy.get("/unmask").text
    rows = {label: page.split(f'<span class="pseudonym">{label}</span>')[1].split("</tr>")[0]
            for label in ("Caller 1", "H")}
    assert "<td>expired</td>" in rows["Caller 1"], f"ivy's page shows her ended grant for Caller 1: {rows['Caller 1']}"
    assert "<td>approved</td>" in rows["H"]
    assert "Quillon" in ivy.get(f"/documents/{world.documents['call1'].id}").text
    review_page = rex.get("/unmask").text
    assert f'action="/unmask/{live.id}/revoke"' in review_page
    assert f'action="/unmask/{old.id}/revoke"' not in review_page  # an ended grant has nothing to revoke
    answer = rex.post(f"/unmask/{live.id}/revoke", data={"csrf": csrf_of(rex)})
    assert answer.status_code == 303 and answer.headers["location"] == "/unmask"
    assert "Quillon" not in ivy.get(f"/documents/{world.documents['call1'].id}").text, (
        "investigator ivy still reads Hadrien Quillon after rex revoked her grant on the page")
    assert [r.state.value for r in vault.unmask_requests(world.case) if r.id == live.id] == ["revoked"]


def test_an_investigators_upload_of_a_file_in_review_answers_as_a_new_upload_on_the_pages(world):
    ivy = sign_in(world, "investigator")
    token = csrf_of(ivy)
    fresh = ivy.post("/upload", files={"file": ("new.txt", io.BytesIO(b"[00:00:01] QM: the ferry at dawn.\n"))},
                     data={"csrf": token, "case": world.case.id})
    hidden = ivy.post("/upload", files={"file": ("mine.txt", io.BytesIO(IN_REVIEW))},
                      data={"csrf": token, "case": world.case.id})
    assert fresh.status_code == hidden.status_code == 303, hidden.text[:300]
    assert fresh.headers["location"].startswith("/uploaded/") and hidden.headers["location"].startswith("/uploaded/")
    landed = [ivy.get(answer.headers["location"]) for answer in (fresh, hidden)]
    assert landed[0].status_code == landed[1].status_code == 200
