"""`casevault demo` as a new user meets it, in a real browser (Debian's Chromium through Playwright):
the demo serves, reviewer rex signs in with the password it printed, finds the document it left in
the review queue (uploaded by ivy, so rex may release it) and releases it; investigator ivy then
reads a released document with pseudonyms, the public roles the demo's review rejected in clear.
Screenshots go to ``tests/artifacts/screens/demo-*.png``."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.web.pages.test_admin_browser import shot
from tests.web.pages.test_browser import chromium  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def demo(tmp_path) -> Iterator[tuple[str, dict[str, str]]]:
    """The demo served on a free port: its address and each user's printed password."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEVAULT_")}
    env.update(PYTHONUNBUFFERED="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    log = tmp_path / "demo.out"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "web", "demo", "--dir", str(tmp_path / "demo"),
                                   "--port", str(port)], env=env, stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                if httpx.get(f"{base}/login", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        passwords = dict(re.findall(r"(\w+)\s+password (\S+)\s+access key", log.read_text()))
        yield base, passwords
    finally:
        server.terminate()
        server.wait(timeout=30)


def _sign_in(page, name: str, password: str) -> None:
    page.goto("/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page.locator(".who")).to_contain_text(name)


def test_the_demo_reviewer_releases_what_it_left_in_the_queue(demo, chromium: Browser):  # noqa: F811
    base, passwords = demo
    context = chromium.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        _sign_in(page, "rex", passwords["rex"])
        page.goto("/review")
        queued = page.locator("table tbody tr a")
        expect(queued).to_have_count(1)
        shot(page, "demo-review-queue")
        queued.click()
        expect(page.locator("text=You uploaded this document")).to_have_count(0)
        shot(page, "demo-review-document")
        page.check("form[action$='/release'] input[name=confirm]")  # release asks 'I understand'
        page.click("form[action$='/release'] button")
        expect(page.locator("text=Nothing waits for your review.")).to_be_visible()
        shot(page, "demo-released")
        page.click("button:has-text('Sign out')")

        _sign_in(page, "ivy", passwords["ivy"])
        page.goto("/search")
        page.fill("input[name=q]", "Ferréol")  # the presiding judge: rejected as a suggestion, so in clear
        page.keyboard.press("Enter")
        expect(page.locator("body")).to_contain_text("Ferréol")
        shot(page, "demo-investigator-search")
        assert "Quillon" not in page.content()
    finally:
        context.close()
