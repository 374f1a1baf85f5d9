"""A real server: the app under uvicorn on a loopback port, over a vault with personas.

Personas, each with their own access key: ivy (investigator of the case), rex and rita (its
reviewers), ada (admin), otto (investigator of another case), plus ivy's revoked key and ivy's
expired key. The API is exercised over real HTTP (httpx), on SQLite: the storage tests run both
databases, and the API adds no SQL of its own.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from tests.conftest import ingest_bytes
from tests.search.conftest import CALL_1, CALL_2, IN_REVIEW, release
from vault._models import AccessKeyRow
from web import create_app

PERSONAS = ("anonymous", "investigator", "reviewer", "admin", "revoked", "expired", "outsider")


@pytest.fixture
def database_url() -> None:
    return None  # SQLite


@pytest.fixture
def web_settings(settings):
    """The settings the app is made with (the page tests serve plain http, so plain cookies)."""
    return settings


@dataclass
class World:
    vault: object
    case: object
    keys: dict[str, str]  # persona -> access key
    users: dict[str, object]
    documents: dict[str, object]
    base: str
    app: object
    passwords: dict[str, str] = field(default_factory=dict)  # persona -> password
    totp: dict[str, str] = field(default_factory=dict)  # persona -> TOTP secret (reviewers, admins)
    pending: list[str] = field(default_factory=list)

    def client(self, persona: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[persona]}"} if persona in self.keys else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=30)


@pytest.fixture
def world(vault, case, web_settings) -> Iterator[World]:
    other = vault.create_case("Another case", actor="tester")
    users, keys = {}, {}
    for persona, name, role, cases in (("investigator", "ivy", "investigator", (case.id,)),
                                       ("reviewer", "rex", "reviewer", (case.id,)),
                                       ("reviewer2", "rita", "reviewer", (case.id,)),
                                       ("admin", "ada", "admin", ()),
                                       ("outsider", "otto", "investigator", (other.id,))):
        users[persona], keys[persona] = vault.add_user(name, role, cases=cases, actor="tester")
    passwords, totp = {}, {}
    for persona, user in users.items():
        passwords[persona], secret = vault.reset_sign_in(user.name, actor="tester")
        if secret is not None:
            totp[persona] = secret
    revoked, keys["revoked"] = vault.issue_access_key("ivy", actor="tester")
    vault.revoke_access_key(revoked.id, actor="tester")
    expired, keys["expired"] = vault.issue_access_key("ivy", expires_at=datetime.now(UTC) + timedelta(hours=1),
                                                      actor="tester")
    with vault.store.write() as work:  # an hour has passed (written by the vault: raw SQL would be tampering)
        work.session.get(AccessKeyRow, expired.id).expires_at = datetime.now(UTC) - timedelta(minutes=1)
    vault.add_identity(case, name="Hadrien Quillon", aliases=["Quillon", "Hadrien"], label="H", actor="tester")
    vault.add_identity(case, name="Quentin Malaure", aliases=["Malaure", "QM"], label="Caller 1", actor="tester")
    documents = {
        "call1": ingest_bytes(vault, case, CALL_1, "call1.txt"),
        "call2": ingest_bytes(vault, case, CALL_2, "call2.txt"),
        "review": vault.ingest(io.BytesIO(IN_REVIEW), case=case, filename="call3.txt", actor=users["reviewer"].id),
    }
    for name in ("call1", "call2"):
        release(vault, documents[name].id, users["reviewer"], users["reviewer2"])
    app = create_app(web_settings, vault=vault)
    with serve(app) as base:
        yield World(vault, case, keys, users, documents, base, app, passwords, totp)


@contextmanager
def serve(app, lifespan: str = "on") -> Iterator[str]:
    """The app under uvicorn on a free loopback port, for the block; yields its base URL. With
    ``lifespan="off"`` the app does not close its vault at the end (a second app on one vault)."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan=lifespan,
                                           proxy_headers=False))  # as `casevault serve` runs it
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
