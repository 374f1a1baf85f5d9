"""Admins manage access, never content (DESIGN.md rule 11; SECURITY-TESTS.md items 12, 17, 59, 60).

Ada, an admin, tries every admin route and page action that makes or changes a credential or a
membership, and uses every credential she can lay hands on, the enrolment codes she is shown
included (she redeems them herself). None of them reads a document, an original, an identity, a
name or a search hit of the case until a reviewer of the case confirms it; after the
confirmation, the rightful user reads. No answer to Ada holds another user's password, TOTP
secret or access key, and the audit log she reads holds no query, justification or name. On
SQLite and PostgreSQL, over real HTTP.
"""

from __future__ import annotations

import dataclasses
import re

import httpx
import pyotp
import pytest

from tests.conftest import BACKENDS
from tests.web.api import conftest as api
from tests.web.pages.conftest import csrf_of, form_of, sign_in

world = api.world

# what a stranger to the case must never read: its names, its text, its file names
CANARIES = ("Hadrien", "Quillon", "QUILLON", "Malaure", "noose", "sister", "call1.txt", "call3.txt")
CODE = re.compile(r'id="enrolment-code">(cve_[A-Za-z0-9_-]+)<')
PASSWORD = "a password of my own choosing"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str | None:
    return None if request.param == "sqlite" else request.getfixturevalue("postgres_url")


@pytest.fixture
def web_settings(settings):
    return dataclasses.replace(settings, secure_cookies=False)  # the test server speaks plain http


def _client(world, key: str | None = None) -> httpx.Client:
    return httpx.Client(base_url=world.base, timeout=30,
                        headers={"Authorization": f"Bearer {key}"} if key else {})


def enrol(world, code: str, totp: bool = True) -> str:
    """Redeem an enrolment code over the API, as whoever holds it; the access key it gives."""
    secret = pyotp.random_base32()
    body = {"code": code, "password": PASSWORD} | ({"totp_secret": secret, "totp_code": pyotp.TOTP(secret).now()}
                                                   if totp else {})
    with _client(world) as anyone:
        answer = anyone.post("/api/v1/enrol", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_key"]


def leaks(world, key: str) -> list[str]:
    """What ``key`` reads of the case: each content route, and every canary in any answer."""
    call1, review = world.documents["call1"].id, world.documents["review"].id
    with _client(world, key) as c:
        answers = {
            "the case list": c.get("/api/v1/cases"),
            "a released document": c.get(f"/api/v1/documents/{call1}"),
            "a document in review": c.get(f"/api/v1/documents/{review}"),
            "an original": c.get(f"/api/v1/documents/{call1}/original"),
            "a review view": c.get(f"/api/v1/documents/{review}/review"),
            "the identities": c.get(f"/api/v1/cases/{world.case.id}/identities"),
            "the unmask requests": c.get(f"/api/v1/cases/{world.case.id}/unmask-requests"),
            "a search": c.post("/api/v1/search", json={"q": "noose"}),
            "a search for a name": c.post("/api/v1/search", json={"q": "Quillon"}),
            "a search in the case": c.post("/api/v1/search", json={"q": "noose", "case": world.case.id}),
            "the review queue": c.get("/api/v1/review"),
        }
    found = []
    for what, answer in answers.items():
        assert answer.status_code != 401, f"{what}: the credential does not even authenticate"
        body = answer.text
        if what == "the case list" and world.case.name in body:
            found.append("the case list names the case")
        elif what.startswith("a search") and answer.status_code == 200 and answer.json()["total"]:
            found.append(f"{what} found {answer.json()['total']} hits")
        elif what == "the review queue" and answer.status_code == 200 and answer.json():
            found.append("the review queue lists documents")
        elif what in ("a released document", "a document in review", "an original", "a review view",
                      "the identities", "the unmask requests") and answer.status_code == 200:
            found.append(f"{what} answered 200")
        found += [f"{what} holds {canary!r}" for canary in CANARIES if canary in body]
    return found


def reads(world, key: str) -> bool:
    with _client(world, key) as c:
        document = c.get(f"/api/v1/documents/{world.documents['call1'].id}")
        search = c.post("/api/v1/search", json={"q": "noose"})
    return document.status_code == 200 and search.status_code == 200 and search.json()["total"] > 0


def confirm(world, user: str, reviewer: str = "reviewer", approve: bool = True) -> httpx.Response:
    with world.client(reviewer) as rex:
        waiting = [c for c in rex.get("/api/v1/confirmations").json() if c["user"] == user]
        assert waiting, f"{world.users[reviewer].name} sees no confirmation for {user}"
        return rex.post(f"/api/v1/confirmations/{waiting[0]['id']}", json={"approve": approve})


def _inert(world, key: str, persona: str, action: str) -> None:
    found = leaks(world, key)
    assert not found, f"{persona}'s credential after Ada's {action} reads before a reviewer confirmed: {found}"


# -- the API ------------------------------------------------------------------------------------

def test_nothing_an_admin_does_over_the_api_reaches_content_before_a_reviewer_confirms(world):
    vault, admin_answers = world.vault, []
    ines, ines_key = vault.add_user("ines", "investigator", cases=(world.case.id,), actor="tester")
    assert reads(world, ines_key) and reads(world, world.keys["investigator"])  # the operator's hold at once
    with world.client("admin") as ada:
        def as_ada(method: str, path: str, **kwargs) -> httpx.Response:
            answer = ada.request(method, path, **kwargs)
            admin_answers.append(answer.text)
            return answer

        # a new reviewer: Ada holds the enrolment code and redeems it herself
        made = as_ada("POST", "/api/v1/users", json={"name": "mallory", "role": "reviewer", "cases": [world.case.id]})
        assert made.status_code == 201 and "access_key" not in made.json()
        stolen = enrol(world, made.json()["enrolment_code"])
        _inert(world, stolen, "mallory (redeemed by Ada)", "creation of a reviewer")
        with _client(world) as anyone:  # the rightful user finds the code used: the theft shows
            assert anyone.post("/api/v1/enrol", json={"code": made.json()["enrolment_code"],
                                                      "password": PASSWORD}).status_code == 401

        # a new investigator who enrols themselves; confirmed only after enrolling
        made = as_ada("POST", "/api/v1/users", json={"name": "ivo", "role": "investigator", "cases": [world.case.id]})
        assert confirm(world, "ivo").status_code == 409  # not enrolled yet: the code's holder would be confirmed
        ivo = enrol(world, made.json()["enrolment_code"], totp=False)
        _inert(world, ivo, "ivo", "creation of an investigator")
        assert confirm(world, "ivo").status_code == 200 and reads(world, ivo), "ivo does not read once confirmed"

        # a membership for a user of another case
        assert as_ada("PUT", f"/api/v1/users/otto/cases/{world.case.id}").status_code == 200
        _inert(world, world.keys["outsider"], "otto", "membership")
        assert confirm(world, "otto").status_code == 200 and reads(world, world.keys["outsider"])

        # a reset: the old key stops, Ada redeems the new code herself, then rita does it right
        reset = as_ada("POST", "/api/v1/users/rita/reset")
        assert reset.status_code == 200 and set(reset.json()) == {"name", "enrolment_code"}
        with world.client("reviewer2") as rita:
            assert rita.get("/api/v1/cases").status_code == 401, "rita's old key outlived the reset"
        _inert(world, enrol(world, reset.json()["enrolment_code"]), "rita (redeemed by Ada)", "reset")
        rita_key = enrol(world, as_ada("POST", "/api/v1/users/rita/reset").json()["enrolment_code"])
        _inert(world, rita_key, "rita", "reset")
        assert confirm(world, "rita").status_code == 200 and reads(world, rita_key)

        # a widened role: ines's own key reads nothing, not even what it read before
        assert as_ada("PUT", "/api/v1/users/ines/role", json={"role": "reviewer"}).status_code == 200
        _inert(world, ines_key, "ines", "role change")
        assert confirm(world, "ines").status_code == 200 and reads(world, ines_key)

        # a key for someone else: refused, and no key in the answer
        for name in ("rex", "ivy", "rita"):
            refused = as_ada("POST", f"/api/v1/users/{name}/access-keys", json={})
            assert refused.status_code == 403 and "cvk_" not in refused.text, f"Ada minted a key for {name}"
        for path in ("/api/v1/users", "/api/v1/users/rex/access-keys", "/api/v1/audit?limit=500"):
            admin_answers.append(as_ada("GET", path).text)
    _no_secret_of_others(world, admin_answers, also=[ines_key, rita_key, ivo])


def _no_secret_of_others(world, answers: list[str], also: list[str] = ()) -> None:
    secrets = {f"{p}'s access key": k for p, k in world.keys.items() if p != "admin"}
    secrets |= {f"{p}'s password": pw for p, pw in world.passwords.items() if p != "admin"}
    secrets |= {f"{p}'s TOTP secret": s for p, s in world.totp.items() if p != "admin"}
    secrets |= {f"a key Ada did not issue ({k[:8]}...)": k for k in also}
    secrets["a password someone chose at enrolment"] = PASSWORD
    text = "\n".join(answers)
    shown = [what for what, secret in secrets.items() if secret and secret in text]
    # Ada issues no key of her own here: any whole key shown to her is someone else's (a listed
    # prefix is 12 characters); a password or an authenticator secret has no place at all
    shown += [f"an access key {k[:8]}..." for k in re.findall(r"cvk_[A-Za-z0-9_-]{20,}", text)]
    shown += [f"a {field}" for field in ('id="password"', 'id="totp-secret"', '"password"', '"totp_secret"')
              if field in text]
    assert not shown, f"an answer to Ada holds {shown}"


def test_a_reviewer_confirms_only_others_of_their_own_cases(world):
    with world.client("admin") as ada:
        code = ada.post("/api/v1/users/rex/reset").json()["enrolment_code"]  # rex's memberships wait
        ada.put(f"/api/v1/users/otto/cases/{world.case.id}")
    rex = enrol(world, code)
    with _client(world, rex) as c:
        own = [w for w in world.vault.confirmations() if w.user_name == "rex"][0]
        refused = c.post(f"/api/v1/confirmations/{own.id}", json={"approve": True})
        assert refused.status_code in (403, 404), f"rex confirmed himself: {refused.status_code}"
        otto = [w for w in world.vault.confirmations() if w.user_name == "otto"][0]
        assert c.post(f"/api/v1/confirmations/{otto.id}", json={"approve": True}).status_code == 404, \
            "rex, waiting himself, confirmed otto"
        assert c.get("/api/v1/confirmations").json() == []
    _inert(world, rex, "rex", "reset")
    with world.client("investigator") as ivy:  # an investigator of the case confirms nothing
        assert ivy.post(f"/api/v1/confirmations/{otto.id}", json={"approve": True}).status_code == 404
    assert confirm(world, "rex", reviewer="reviewer2").status_code == 200 and reads(world, rex)


# -- the pages ----------------------------------------------------------------------------------

def test_nothing_an_admin_does_on_the_pages_reaches_content_before_a_reviewer_confirms(world):
    ada = sign_in(world, "admin")
    answers = []

    def post(path: str, form: dict[str, object]) -> httpx.Response:
        answer = ada.post(path, data={"csrf": csrf_of(ada, "/admin/users")} | form)
        answers.append(answer.text)
        return answer

    made = post("/admin/users", form_of(ada, "/admin/users", "/admin/users")
                | {"name": "mallory", "role": "reviewer", "cases": [world.case.id]})
    assert made.status_code == 201
    _inert(world, enrol(world, CODE.search(made.text).group(1)), "mallory (redeemed by Ada)", "page: add user")
    reset = post("/admin/users/rex/reset-sign-in", form_of(ada, "/admin/users/rex", "/admin/users/rex/reset-sign-in"))
    assert reset.status_code == 200
    _inert(world, enrol(world, CODE.search(reset.text).group(1)), "rex (redeemed by Ada)", "page: reset")
    assert post("/admin/users/otto/memberships", {"case": world.case.id, "member": "1"}).status_code == 303
    _inert(world, world.keys["outsider"], "otto", "page: membership")
    assert post("/admin/users/ivy/role", {"role": "reviewer"}).status_code == 303
    _inert(world, world.keys["investigator"], "ivy", "page: role change")
    own_form = form_of(ada, f"/admin/users/{world.users['admin'].name}", f"/admin/users/{world.users['admin'].name}/access-keys")
    refused = post("/admin/users/rita/access-keys", own_form | {"days": "30"})  # the token of her own form
    assert refused.status_code == 403 and "cvk_" not in refused.text, "Ada minted a key for rita on the page"
    for path in ("/admin/users", "/admin/users/rita", "/admin/users/ivy", "/admin/audit"):
        answers.append(ada.get(path).text)
    _no_secret_of_others(world, answers)
    assert confirm(world, "otto", reviewer="reviewer2").status_code == 200 and reads(world, world.keys["outsider"])


def test_the_confirmation_page_lists_and_confirms(world):
    world.vault.set_membership("otto", world.case, member=True, actor="ada (web)", by=world.users["admin"])
    rex = sign_in(world, "reviewer")
    page = rex.get("/confirmations")
    assert page.status_code == 200 and "otto" in page.text and 'href="/confirmations"' in page.text
    waiting = world.vault.confirmations()[0]
    done = rex.post(f"/confirmations/{waiting.id}", data={"csrf": csrf_of(rex, "/confirmations"), "approve": "1"})
    assert done.status_code == 303 and reads(world, world.keys["outsider"])
    assert "membership.confirm" in [e.action for e in world.vault.audit_entries(limit=1000)]


def test_a_user_enrols_on_the_page_and_chooses_their_own_secrets(world):
    with world.client("admin") as ada:
        code = ada.post("/api/v1/users/ivy/reset").json()["enrolment_code"]
    browser = httpx.Client(base_url=world.base, timeout=30)
    page = browser.get("/enrol")
    token = re.search(r'name="sign_in_token" value="([^"]+)"', page.text).group(1)
    secret = re.search(r'name="secret" value="([^"]+)"', page.text).group(1)
    done = browser.post("/enrol", data={"sign_in_token": token, "enrolment_code": code, "password": PASSWORD,
                                        "repeat": PASSWORD, "secret": secret, "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 303 and done.headers["location"] == "/enrol/done", done.text[:300]  # post-redirect-get
    shown = browser.get("/enrol/done")
    again = browser.get("/enrol/done")  # a reload: the key was shown once
    browser.close()
    key = re.search(r'id="access-key">(cvk_[A-Za-z0-9_-]+)<', shown.text).group(1)
    assert key not in again.text and "shown once" in again.text
    assert world.vault.authenticate(key).name == "ivy"
    assert world.vault.sign_in("ivy", PASSWORD, pyotp.TOTP(secret).now()).session.user.name == "ivy"
    _inert(world, key, "ivy", "reset (enrolled on the page)")


# -- the audit log ------------------------------------------------------------------------------

def test_the_audit_log_shows_admins_no_query_justification_or_name(world):
    canary = "zebracanary"
    with world.client("investigator") as ivy:
        for query in (f"Quillon {canary}", f"Quillon {canary}", "noose"):
            assert ivy.post("/api/v1/search", json={"q": query}).status_code == 200
        assert ivy.post(f"/api/v1/cases/{world.case.id}/unmask-requests",
                        json={"identity": "H", "justification": f"the {canary} hearing needs the real name of H"}
                        ).status_code == 201
    with httpx.Client(base_url=world.base, timeout=30) as anyone:  # a password typed as a name
        page = anyone.get("/login")
        token = re.search(r'name="sign_in_token" value="([^"]+)"', page.text).group(1)
        anyone.post("/login", data={"sign_in_token": token, "name": f"{canary}-typed", "password": "x" * 12})
    assert canary in str([e.details for e in world.vault.audit_entries(limit=1000)]), "the operator reads it all"
    entries = []
    with world.client("admin") as ada:
        while batch := ada.get("/api/v1/audit", params={"limit": 500, "after": len(entries)}).json():
            entries += batch
    pages = []
    ada_browser = sign_in(world, "admin")
    for after in range(0, len(entries), 50):
        pages.append(ada_browser.get("/admin/audit", params={"before": after + 51}).text)  # newest first
    for where, text in (("GET /api/v1/audit", str(entries)), ("/admin/audit", "\n".join(pages))):
        shown = [c for c in (canary, "Quillon", "Hadrien", "real name of H") if c in text]
        assert not shown, f"Ada reads {shown} in {where}"
    digests = [e["details"]["query_digest"] for e in entries if e["action"] == "search"]
    assert len(digests) == 3 and digests[0] == digests[1] != digests[2], "repeated queries do not correlate"
    with world.client("reviewer") as rex, world.client("outsider") as otto:  # the case's reviewers read them
        mine = rex.get(f"/api/v1/cases/{world.case.id}/audit", params={"limit": 500}).json()
        assert [e["details"]["query"] for e in mine if e["action"] == "search"] == [
            f"Quillon {canary}", f"Quillon {canary}", "noose"]
        assert otto.get(f"/api/v1/cases/{world.case.id}/audit").status_code == 404
