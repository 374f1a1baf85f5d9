"""The forms before a session in a real browser (Debian's Chromium through Playwright, the fixtures of
``test_browser``): a refused sign-in, a refused enrolment and an enrolment that worked each answer
with a redirect, so a reload sends nothing again ("Confirm Form Resubmission" never comes) and the
message is still there to read; what was typed never reaches the URL; a ``?notice=`` that is not
one of the page's fixed codes shows nothing. Screenshots go to ``tests/artifacts/screens/prg-*.png``."""

from __future__ import annotations

import html

import httpx
from playwright.sync_api import Page, expect

from tests.web.pages.test_admin_browser import shot
from tests.web.pages.test_browser import chromium, open_page  # noqa: F401 (fixtures)

PASSWORD = "a long enough new password"


def posts_during(page: Page, action) -> list[str]:  # noqa: ANN001
    """The POSTs the browser sends while ``action`` runs (a reload after a POST would resend it)."""
    sent: list[str] = []

    def seen(request) -> None:  # noqa: ANN001
        if request.method == "POST":
            sent.append(request.url)

    page.on("request", seen)
    action()
    page.remove_listener("request", seen)
    return sent


def test_a_refused_sign_in_redirects_and_a_reload_sends_nothing(world, open_page):  # noqa: F811
    page = open_page()
    page.goto("/login")
    page.fill("input[name=name]", "ivy")
    page.fill("input[name=password]", "not the password at all")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("user name, password or code is wrong")
    assert page.url == f"{world.base}/login?notice=failed"  # neither the name nor the password
    shot(page, "prg-login-refused")
    assert posts_during(page, page.reload) == [], "the reload sent the sign-in form again"
    expect(page.locator(".error")).to_contain_text("user name, password or code is wrong")
    shot(page, "prg-login-reloaded")
    page.fill("input[name=name]", "ivy")  # the form still works after the reload
    page.fill("input[name=password]", world.passwords["investigator"])
    page.click("button[type=submit]")
    expect(page.locator(".who")).to_contain_text("ivy")


def test_an_enrolment_redirects_refused_or_done_and_shows_its_key_once(world, open_page):  # noqa: F811
    with world.client("admin") as ada:
        code = ada.post("/api/v1/users/ivy/reset").json()["enrolment_code"]
    page = open_page()
    page.goto("/enrol")
    page.fill("input[name=enrolment_code]", code)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=repeat]", PASSWORD + " but different")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("repetition differ")
    assert page.url == f"{world.base}/enrol?notice=repeat" and code not in page.url
    assert posts_during(page, page.reload) == [], "the reload sent the enrolment form again"
    expect(page.locator(".error")).to_contain_text("repetition differ")
    shot(page, "prg-enrol-refused")
    page.fill("input[name=enrolment_code]", "cve_not-a-code-anyone-was-given")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=repeat]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("enrolment code is not valid")
    page.fill("input[name=enrolment_code]", code)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=repeat]", PASSWORD)
    page.click("button[type=submit]")
    key = page.locator("#access-key")
    expect(key).to_contain_text("cvk_")
    assert page.url == f"{world.base}/enrol/done"
    shown = key.inner_text()
    assert world.vault.authenticate(shown).name == "ivy"
    shot(page, "prg-enrol-done")
    assert posts_during(page, page.reload) == [], "the reload sent the enrolment form again"
    expect(page.locator(".notice")).to_contain_text("shown once")
    assert shown not in page.content()
    shot(page, "prg-enrol-reloaded")


def test_a_notice_that_is_not_a_fixed_code_shows_nothing(world):
    with httpx.Client(base_url=world.base) as anyone:
        for path in ("/login", "/enrol", "/unseal"):
            plain = anyone.get(path)
            for notice in ("<script>alert(1)</script>", "failed<b>x</b>", "x" * 5000, "FAILED", "counted "):
                page = anyone.get(path, params={"notice": notice})
                assert page.status_code == 200, (path, notice)
                assert notice not in page.text and html.escape(notice) not in page.text, (path, notice)
                assert page.text.count('class="error"') == plain.text.count('class="error"') == 0, (path, notice)
                assert page.text.count('class="notice"') == plain.text.count('class="notice"'), (path, notice)


def test_a_failed_sign_in_puts_nothing_typed_in_the_url(world):
    with httpx.Client(base_url=world.base) as anyone:
        token = anyone.get("/login").text.split('name="sign_in_token" value="')[1].split('"')[0]
        answer = anyone.post("/login", data={"sign_in_token": token, "name": "ivy", "password": "hunter2 secret"})
    assert answer.status_code == 303 and answer.headers["location"] == "/login?notice=failed"
