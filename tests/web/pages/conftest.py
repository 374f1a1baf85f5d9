"""The pages over real HTTP: the API's world (tests/web/api/conftest.py), served with plain
cookies (the test server speaks plain http on loopback, as the demo does), and browsers signed in
as each persona through the sign-in form."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import httpx
import pyotp
import pytest

from tests.web.api import conftest as api
from tests.web.api.conftest import World

database_url = api.database_url  # the API's fixtures, shared: SQLite, and the world of personas
world = api.world

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
SIGN_IN_TOKEN = re.compile(r'name="sign_in_token" value="([^"]+)"')


@pytest.fixture
def web_settings(settings):
    return dataclasses.replace(settings, secure_cookies=False)


_steps: dict[str, int] = {}


def code_for(secret: str) -> str:
    """A TOTP code of a later time step than any given before for this secret (a code is good once,
    and the server accepts the next step's code too)."""
    totp = pyotp.TOTP(secret)
    now = datetime.now(UTC)
    step = max(totp.timecode(now) - 1, _steps.get(secret, -1) + 1)
    if step > totp.timecode(now) + 1:
        raise RuntimeError("three sign-ins of one person within 30 seconds: wait for the next step")
    _steps[secret] = step
    return totp.at(now + timedelta(seconds=30 * (step - totp.timecode(now))))


_open: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_browsers():
    yield
    while _open:
        _open.pop().close()


def browser(world: World) -> httpx.Client:
    """An HTTP client that keeps cookies, as a browser does (closed when the test ends)."""
    client = httpx.Client(base_url=world.base, timeout=30, follow_redirects=False)
    _open.append(client)
    return client


def sign_in(world: World, persona: str, client: httpx.Client | None = None) -> httpx.Client:
    """A client signed in as ``persona`` through the sign-in form."""
    client = client or browser(world)
    page = client.get("/login")
    token = SIGN_IN_TOKEN.search(page.text).group(1)
    form = {"sign_in_token": token, "name": world.users[persona].name, "password": world.passwords[persona]}
    if persona in world.totp:
        form["code"] = code_for(world.totp[persona])
    answer = client.post("/login", data=form)
    assert answer.status_code == 303, answer.text[:300]
    return client


def search(client: httpx.Client, token: str, q: str, **fields: str) -> httpx.Response:
    """Post a query as the search form does and follow the answer to the search's own page
    (``/search/{id}``), as a browser does."""
    posted = client.post("/search", data={"csrf": token, "q": q, **fields})
    assert posted.status_code == 303, (posted.status_code, posted.text[:300])
    return client.get(posted.headers["location"])


def csrf_of(client: httpx.Client, path: str = "/account") -> str:
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return CSRF.search(page.text).group(1)


FORM = re.compile(r'<form [^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def form_of(client: httpx.Client, path: str, action: str, *, confirm: bool = True) -> dict[str, str]:
    """The hidden fields of the form posting to ``action`` on the page at ``path`` (its CSRF token,
    a one-time form's token), as a browser would send them; with the "I understand" box ticked
    where the form has one, unless ``confirm`` is False."""
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    for found, body in FORM.findall(page.text):
        if found == action:
            fields = dict(HIDDEN.findall(body))
            if confirm and 'name="confirm"' in body:
                fields["confirm"] = "yes"
            return fields
    raise AssertionError(f"no form posts to {action} on {path}")
