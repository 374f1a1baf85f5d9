"""The web layer's security through real HTTP (SECURITY-TESTS 10-20, 28, 29): sessions, CSRF,
sign-in throttling and second factors, revocation mid-session, what error pages and logs hold."""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import re
import time
from contextlib import contextmanager

import httpx
import pyotp
import pytest
import sqlalchemy as sa

from tests.web.api.conftest import serve
from tests.web.pages.conftest import SIGN_IN_TOKEN, browser, code_for, csrf_of, search, sign_in
from web import create_app
from web._sessions import Limit, Throttle, TooManyAttempts, client_address

REAL_NAMES = ("Hadrien", "Quillon", "Quentin", "Malaure")
JUSTIFICATION = "to prepare the extradition hearing of 14 May with counsel"


def _sign_in_form(client: httpx.Client, name: str, password: str, code: str | None = None) -> httpx.Response:
    token = SIGN_IN_TOKEN.search(client.get("/login").text).group(1)
    return client.post("/login", data={"sign_in_token": token, "name": name, "password": password,
                                       **({"code": code} if code else {})})


REFUSED = "refused"


def _status(answer: httpx.Response) -> int | str:
    """A refused sign-in redirects back to the form with a notice code (post-redirect-get: a reload
    sends nothing again): REFUSED, told apart from a sign-in that worked (303 to the landing page)."""
    if answer.status_code == 303 and answer.headers["location"].startswith("/login?notice="):
        return REFUSED
    return answer.status_code


class Clock:
    """A monotonic clock that moves only when the test says."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- sessions (18) ---------------------------------------------------------------------------------

def test_session_cookies_are_host_prefixed_secure_httponly_and_strict(world, settings):
    app = create_app(dataclasses.replace(settings, secure_cookies=True), vault=world.vault)
    with serve(app, lifespan="off") as base, httpx.Client(base_url=base) as client:
        page = client.get("/login")
        sign_in_cookie = page.headers["set-cookie"]
        token = SIGN_IN_TOKEN.search(page.text).group(1)
        answer = client.post("/login", headers={"cookie": f"__Host-casevault-signin={token}"},
                             data={"sign_in_token": token, "name": "ivy", "password": world.passwords["investigator"]})
    assert answer.status_code == 303
    session_cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("__Host-casevault="))
    for cookie in (sign_in_cookie, session_cookie):
        attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
        assert {"secure", "httponly", "path", "samesite"} <= attributes, cookie
        assert "domain" not in attributes and "samesite=strict" in cookie.lower() and "path=/" in cookie.lower()
    assert len(session_cookie.split(";")[0].split("=", 1)[1]) >= 43  # 256 random bits


def test_signing_in_makes_a_new_session_and_ends_the_one_the_browser_had(world):
    client = sign_in(world, "investigator")
    first = client.cookies["casevault"]
    sign_in(world, "investigator", client)
    second = client.cookies["casevault"]
    assert second != first
    with browser(world) as stale:
        stale.cookies.set("casevault", first)
        assert stale.get("/search").headers["location"] == "/login"


def test_signing_out_ends_the_session_on_the_server(world):
    client = sign_in(world, "investigator")
    token = client.cookies["casevault"]
    assert client.post("/logout", data={"csrf": csrf_of(client)}).status_code == 303
    with browser(world) as replay:
        replay.cookies.set("casevault", token)
        answer = replay.get(f"/documents/{world.documents['call1'].id}")
        assert answer.status_code == 303 and answer.headers["location"] == "/login"
    entries = world.vault.audit_entries(after=0, limit=1000)
    assert any(e.action == "sign-out" and e.target == world.users["investigator"].id for e in entries)


# -- CSRF (16) -------------------------------------------------------------------------------------

def test_state_changes_without_the_token_or_from_another_site_are_refused(world):
    ivy, rex = sign_in(world, "investigator"), sign_in(world, "reviewer")
    request = world.vault.request_unmask(world.users["investigator"], world.case, "H", JUSTIFICATION, actor="tester")
    token = csrf_of(rex)
    decision = f"/unmask/{request.id}/decision"
    attempts = {
        "no token": ({"approve": "1"}, {}),
        "wrong token": ({"approve": "1", "csrf": "x" * 43}, {}),
        "another user's token": ({"approve": "1", "csrf": csrf_of(ivy)}, {}),
        "cross-site": ({"approve": "1", "csrf": token}, {"sec-fetch-site": "cross-site"}),
        "same-site, other origin": ({"approve": "1", "csrf": token}, {"sec-fetch-site": "same-site"}),
        "foreign origin": ({"approve": "1", "csrf": token}, {"origin": "https://evil.example"}),
    }
    for what, (form, headers) in attempts.items():
        answer = rex.post(decision, data=form, headers=headers)
        assert answer.status_code == 403, what
        assert "refused" in answer.text or "expired" in answer.text, what
    assert world.vault.unmask_requests(world.case)[0].state.value == "pending"
    for path in ("/logout", "/admin/audit/verify", f"/documents/{world.documents['call1'].id}/unmask"):
        assert ivy.post(path, data={"csrf": token, "identity": "H", "justification": JUSTIFICATION},
                        headers={"sec-fetch-site": "cross-site"}).status_code == 403, path
    assert ivy.get("/search").status_code == 200  # the refused sign-out did not sign out
    assert rex.post(decision, data={"approve": "1", "csrf": token}, headers={"sec-fetch-site": "same-origin",
                                                                             "origin": world.base}).status_code == 303


def test_the_sign_in_form_needs_its_own_cookie(world):
    with httpx.Client(base_url=world.base) as client:
        token = SIGN_IN_TOKEN.search(client.get("/login").text).group(1)
        client.cookies.clear()
        answer = client.post("/login", data={"sign_in_token": token, "name": "ivy",
                                             "password": world.passwords["investigator"]})
    assert answer.status_code == 403 and "casevault" not in answer.cookies


# -- throttling and second factors (19, 17) ----------------------------------------------------------

def test_failed_sign_ins_past_the_limit_are_429_with_retry_after_and_the_lock_lifts(world):
    client = browser(world)
    for _ in range(10):  # the default: 10 failures per user and address within 15 minutes
        assert _status(_sign_in_form(client, "ivy", "not the password")) == REFUSED
    refused = _sign_in_form(client, "ivy", world.passwords["investigator"])
    assert refused.status_code == 429 and "try again in" in refused.text
    assert 0 < int(refused.headers["retry-after"]) <= 15 * 60
    assert "casevault" not in client.cookies
    clock = Clock()
    world.app.state.throttle = Throttle(Limit(3, 900), Limit(100, 3600), clock)
    for _ in range(3):
        assert _status(_sign_in_form(client, "ivy", "not the password")) == REFUSED
        clock.now += 60
    refused = _sign_in_form(client, "ivy", world.passwords["investigator"])
    assert refused.status_code == 429 and refused.headers["retry-after"] == str(900 - 180)
    clock.now += 900 - 180
    assert _status(_sign_in_form(client, "ivy", world.passwords["investigator"])) == 303  # no lockout


ATTACKER, COLLEAGUE, ELSEWHERE = "203.0.113.66", "203.0.113.66", "198.51.100.7"  # the colleague shares the NAT


@contextmanager
def _behind_a_proxy(world, settings, **limits):
    """The app as it runs behind a reverse proxy on this host: the proxy (127.0.0.1, the test
    client) names each client in X-Forwarded-For."""
    app = create_app(dataclasses.replace(settings, trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),),
                                         **limits), vault=world.vault)
    with serve(app, lifespan="off") as base, httpx.Client(base_url=base, timeout=30) as proxy:
        def attempt(name: str, password: str, client: str) -> httpx.Response:
            proxy.cookies.clear()
            token = SIGN_IN_TOKEN.search(proxy.get("/login").text).group(1)
            return proxy.post("/login", data={"sign_in_token": token, "name": name, "password": password},
                              headers={"x-forwarded-for": client})
        yield attempt


def test_an_attacker_behind_an_address_locks_out_neither_the_others_there_nor_the_user_elsewhere(world, web_settings):
    """mallory, behind the NAT she shares with otto, guesses ivy's password 120 times."""
    with _behind_a_proxy(world, web_settings, sign_in_failures_per_user_and_address=3,
                         sign_in_failures_per_user=12) as attempt:
        answers = [_status(attempt("ivy", f"guess {i}", ATTACKER)) for i in range(120)]
        assert _status(attempt("otto", world.passwords["outsider"], COLLEAGUE)) == 303, (
            "mallory's failures for ivy locked out otto, who signs in from the same address")
        assert _status(attempt("ivy", world.passwords["investigator"], ELSEWHERE)) == 303, (
            "mallory's failures from her address locked ivy out of her own address")
        assert answers[:3] == [REFUSED] * 3 and set(answers[3:]) == {429}


def test_distributed_guessing_stops_at_the_per_user_limit_and_lifts(world, web_settings):
    """mallory guesses ivy's password from many addresses: past the per-user limit, ivy's name
    answers 429 from every address, until the oldest failures age out."""
    with _behind_a_proxy(world, web_settings, sign_in_failures_per_user_and_address=3,
                         sign_in_failures_per_user=12) as attempt:
        for bot in range(4):
            for i in range(3):
                assert _status(attempt("ivy", f"guess {i}", f"192.0.2.{bot + 1}")) == REFUSED
        refused = attempt("ivy", world.passwords["investigator"], ELSEWHERE)
        assert refused.status_code == 429, (
            "mallory guessed ivy's password 12 times from 4 addresses and the per-user limit did not stop her")
        assert 0 < int(refused.headers["retry-after"]) <= 3600
        assert _status(attempt("otto", world.passwords["outsider"], "192.0.2.1")) == 303


def test_the_per_user_limit_lifts_when_the_oldest_failures_age_out():
    clock = Clock()
    throttle = Throttle(Limit(3, 900), Limit(12, 3600), clock)
    for bot in range(4):
        for _ in range(3):
            throttle.failed("ivy", f"192.0.2.{bot + 1}")
            clock.now += 10.5
    with pytest.raises(TooManyAttempts) as refused:
        throttle.check("ivy", ELSEWHERE)
    assert refused.value.retry_after == 3600 - 126  # until the first failure is an hour old, rounded up
    assert "try again in 58 minutes" in refused.value.message
    throttle.check("otto", ELSEWHERE)
    clock.now += 3600 - 126
    throttle.check("ivy", ELSEWHERE)  # no lockout


PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32"))


@pytest.mark.parametrize("peer, forwarded_for, trusted, client", [
    # no trusted proxies (the default): the peer, whatever the header says
    ("203.0.113.9", ["198.51.100.1"], (), "203.0.113.9"),
    ("10.0.0.1", ["198.51.100.1"], (), "10.0.0.1"),
    # a peer that is not a trusted proxy: its header is the client's own writing
    ("203.0.113.9", ["198.51.100.1"], PROXIES, "203.0.113.9"),
    # behind trusted proxies: the right-most entry that is not one of them
    ("10.0.0.1", ["198.51.100.1"], PROXIES, "198.51.100.1"),
    ("10.0.0.1", ["6.6.6.6, 198.51.100.1, 10.2.2.2"], PROXIES, "198.51.100.1"),
    ("10.0.0.1", ["6.6.6.6, 198.51.100.1", "10.2.2.2"], PROXIES, "198.51.100.1"),  # several headers
    ("10.0.0.1", ["198.51.100.1:4711"], PROXIES, "198.51.100.1"),  # with a port
    ("10.0.0.1", ["[2001:db9::5]:4711, 2001:db8::7"], PROXIES, "2001:db9::5"),
    ("2001:db8::1", ["::ffff:198.51.100.1"], PROXIES, "198.51.100.1"),
    ("10.0.0.1", ["10.3.3.3, 10.2.2.2"], PROXIES, "10.3.3.3"),  # only proxies: the first
    ("10.0.0.1", [], PROXIES, "10.0.0.1"),  # no header: the proxy itself
    ("10.0.0.1", ["unknown"], PROXIES, "unknown"),  # what a proxy wrote, kept as written
])
def test_the_client_address(peer, forwarded_for, trusted, client):
    assert client_address(peer, forwarded_for, trusted) == client


def test_without_trusted_proxies_a_new_x_forwarded_for_each_time_does_not_dodge_the_throttle(world):
    client = browser(world)
    answers = []
    for i in range(12):
        token = SIGN_IN_TOKEN.search(client.get("/login").text).group(1)
        answers.append(_status(client.post("/login", data={"sign_in_token": token, "name": "ivy", "password": "guess"},
                                           headers={"x-forwarded-for": f"198.51.100.{i + 1}"})))
    assert answers == [REFUSED] * 10 + [429] * 2, (
        f"mallory dodged the sign-in throttle for ivy with a made-up X-Forwarded-For: {answers}")


def test_behind_trusted_proxies_the_client_is_the_right_most_untrusted_address(world, web_settings):
    """mallory writes her own X-Forwarded-For entries; the proxy appends her real address."""
    with _behind_a_proxy(world, web_settings, sign_in_failures_per_user_and_address=3) as attempt:
        answers = [_status(attempt("ivy", "guess", f"10.9.8.{i}, {ATTACKER}")) for i in range(5)]
        assert answers == [REFUSED] * 3 + [429] * 2, (
            f"mallory dodged the throttle for ivy with entries left of her real address: {answers}")
        assert _status(attempt("ivy", world.passwords["investigator"], f"{ATTACKER}, {ELSEWHERE}")) == 303


def test_a_refused_sign_in_keeps_what_was_typed_out_of_the_clear_audit_columns(world):
    typed = "Hadrien Quillon hunter2"  # a password, or a protected name, typed in the name field
    assert _status(_sign_in_form(browser(world), typed, "not the password")) == REFUSED
    refused = [e for e in world.vault.audit_entries(after=0, limit=1000) if e.action == "sign-in.refused"][-1]
    assert refused.actor == "unknown user (web)" and refused.target is None
    assert refused.details == {"reason": "unknown user", "name": typed.lower()}  # encrypted at rest
    with world.vault.db.read() as session:
        rows = session.execute(sa.text("SELECT actor, action, coalesce(target, '') FROM audit_log")).all()
    assert not any("quillon" in " ".join(row).lower() for row in rows)


def test_a_reviewer_needs_a_code_and_a_code_is_good_once(world):
    client = browser(world)
    password, secret = world.passwords["reviewer"], world.totp["reviewer"]
    assert _status(_sign_in_form(client, "rex", password)) == REFUSED
    assert _status(_sign_in_form(client, "rex", password, "123456")) == REFUSED
    code = code_for(secret)
    assert _status(_sign_in_form(client, "rex", password, code)) == 303
    again = browser(world)
    replayed = _sign_in_form(again, "rex", password, code)
    assert _status(replayed) == REFUSED and "casevault" not in again.cookies
    reasons = [e.details.get("reason") for e in world.vault.audit_entries(after=0, limit=1000)
               if e.action == "sign-in.refused" and e.target == world.users["reviewer"].id]
    assert reasons[-1] == "code used before" and "wrong code" in reasons


def test_nobody_enrols_a_second_factor_for_someone_else(world):
    ada = sign_in(world, "admin")
    secret = pyotp.random_base32()
    answer = ada.post("/users/rex/second-factor", data={"csrf": csrf_of(ada), "secret": secret,
                                                        "code": pyotp.TOTP(secret).now()})
    assert answer.status_code == 403
    assert ada.get("/users/rex/second-factor").status_code == 403
    ivy = sign_in(world, "investigator")
    answer = ivy.post("/users/ivy/second-factor", data={"csrf": csrf_of(ivy), "secret": secret,
                                                        "code": pyotp.TOTP(secret).now()})
    assert answer.status_code == 303
    assert world.vault.has_second_factor(world.users["investigator"])
    assert not any(e.action == "user.second-factor" and e.target == world.users["reviewer"].id
                   for e in world.vault.audit_entries(after=0, limit=1000))


# -- revocation mid-session (15) ---------------------------------------------------------------------

def test_a_membership_removed_or_a_user_disabled_takes_effect_at_the_next_request(world):
    ivy = sign_in(world, "investigator")
    document = f"/documents/{world.documents['call1'].id}"
    assert ivy.get(document).status_code == 200
    world.vault.set_membership("ivy", world.case, member=False, actor="tester")
    assert ivy.get(document).status_code == 404
    world.vault.set_membership("ivy", world.case, member=True, actor="tester")
    assert ivy.get(document).status_code == 200
    world.vault.set_active("ivy", active=False, actor="tester")
    assert ivy.get(document).headers["location"] == "/login"
    assert _status(_sign_in_form(browser(world), "ivy", world.passwords["investigator"])) == REFUSED


# -- what pages hold (10, 13, 14, 29) and what logs hold (28) ----------------------------------------

def test_what_an_investigator_may_not_see_answers_like_what_does_not_exist(world):
    otto = sign_in(world, "outsider")
    token = csrf_of(otto)
    hidden = otto.get(f"/documents/{world.documents['call1'].id}")
    missing = otto.get("/documents/00000000-0000-4000-8000-000000000000")
    assert hidden.status_code == missing.status_code == 404 and hidden.text == missing.text
    existing = otto.post(f"/documents/{world.documents['call1'].id}/unmask",
                         data={"csrf": token, "identity": "H", "justification": JUSTIFICATION})
    unknown = otto.post(f"/documents/{world.documents['call1'].id}/unmask",
                        data={"csrf": token, "identity": "Caller 99", "justification": JUSTIFICATION})
    assert existing.status_code == unknown.status_code == 404 and existing.text == unknown.text


def test_an_investigators_pages_hold_no_real_name_and_are_never_cached(world):
    ivy = sign_in(world, "investigator")
    token = csrf_of(ivy)
    pages = [ivy.get(f"/documents/{world.documents['call1'].id}"), ivy.get(f"/cases/{world.case.id}/identities"),
             search(ivy, token, "noose"), ivy.get("/unmask")]
    for page in pages:
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "'unsafe-inline'" not in page.headers["content-security-policy"]
        for name in REAL_NAMES:
            assert name not in page.text, f"{name} leaked into {page.request.url.path}"
    assert "<script>" not in "".join(p.text for p in pages)  # no inline script, only /static files
    by_name = search(ivy, token, "Quillon")
    by_word = search(ivy, token, "Vormund")
    assert by_name.status_code == by_word.status_code == 200
    own_id = "/search/[0-9a-f]{32}"  # each search has its own page
    assert re.sub(f"Quillon|Vormund|{own_id}", "", by_name.text) == re.sub(f"Quillon|Vormund|{own_id}", "", by_word.text)


def test_a_revealed_name_is_shown_only_with_no_store(world):
    request = world.vault.request_unmask(world.users["investigator"], world.case, "H", JUSTIFICATION, actor="tester")
    world.vault.decide_unmask(request.id, world.users["reviewer"], approve=True, actor="tester")
    ivy = sign_in(world, "investigator")
    page = ivy.get(f"/documents/{world.documents['call1'].id}")
    assert "Hadrien Quillon" in page.text and 'class="revealed"' in page.text
    assert page.headers["cache-control"] == "no-store"


def test_logs_hold_no_query_and_no_name(world, caplog):
    ivy = sign_in(world, "investigator")
    token = csrf_of(ivy)
    with caplog.at_level(logging.DEBUG):
        found = search(ivy, token, "Quillon noose")
        ivy.get(f"/cases/{world.case.id}/identities")
        refused = search(ivy, token, "(((((")
    logged = "\n".join(r.getMessage() for r in caplog.records  # the server's, not the test client's
                       if not r.name.startswith(("httpx", "httpcore")))
    assert "POST /search 303" in logged and "GET /search/{search_id} 200" in logged
    assert found.status_code == 200 and refused.status_code == 400
    assert "?" not in str(found.url) and "noose" not in str(found.url)  # the page's address is an opaque id
    for secret in ("Quillon", "noose", "(((((", world.case.name, world.case.id):
        assert secret not in logged


def test_error_pages_show_a_message_never_a_trace(world):
    ivy = sign_in(world, "investigator")
    token = csrf_of(ivy)
    noose = search(ivy, token, "noose").url.path
    for answer in (search(ivy, token, "*abc"), ivy.get(f"{noose}?page=x"),
                   ivy.get("/review"), ivy.get("/nowhere")):
        assert 400 <= answer.status_code < 500
        assert answer.headers["content-type"].startswith("text/html")
        assert 'class="error"' in answer.text
        assert "Traceback" not in answer.text and ".py" not in answer.text


def test_a_password_changes_only_with_the_current_one(world):
    rex = sign_in(world, "reviewer")  # a second factor is enrolled: the current password alone decides here
    token = csrf_of(rex)
    wrong = rex.post("/account/password", data={"csrf": token, "current": "not the password",
                                                "new": "a new long password", "repeat": "a new long password"})
    assert wrong.status_code == 401 and "current password is wrong" in wrong.text
    changed = rex.post("/account/password", data={"csrf": token, "current": world.passwords["reviewer"],
                                                  "new": "a new long password", "repeat": "a new long password"})
    assert changed.status_code == 303
    assert _status(_sign_in_form(browser(world), "rex", world.passwords["reviewer"], code_for(world.totp["reviewer"]))) == REFUSED
    assert _status(_sign_in_form(browser(world), "rex", "a new long password", code_for(world.totp["reviewer"]))) == 303
