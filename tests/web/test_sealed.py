"""A server that starts sealed, over real HTTP (uvicorn on loopback), on SQLite and PostgreSQL.

Sealed, it answers health, the seal status and the unseal routes; search, documents, unmask
requests, the admin's key status and the pages answer 503 ``SEALED``. A share of an older split,
a mistyped share and a share given twice are refused with 400 and do not count; one of two
shares leaves it sealed; the second unseals it in place and a search then finds. No share word
reaches a log.
"""

from __future__ import annotations

import dataclasses
import logging
import re

import httpx
import pytest

from tests.conftest import ingest_bytes
from tests.search.conftest import CALL_1, release
from tests.web.api.conftest import serve
from web import create_app

SIGN_IN_TOKEN = re.compile(r'name="sign_in_token" value="([^"]+)"')


@pytest.fixture
def sealed_world(settings, vault, case):
    """A vault with a released call, an investigator and an admin with access keys, split twice
    (3 shares, threshold 2); then closed, and served by an app made without any secret."""
    users, keys = {}, {}
    for name, role, cases in (("ivy", "investigator", (case.id,)), ("rex", "reviewer", (case.id,)),
                              ("rita", "reviewer", (case.id,)), ("ada", "admin", ())):
        users[name], keys[name] = vault.add_user(name, role, cases=cases, actor="tester")
    vault.add_identity(case, name="Hadrien Quillon", aliases=["Quillon", "Hadrien"], label="H", actor="tester")
    document = ingest_bytes(vault, case, CALL_1, "call1.txt")
    release(vault, document.id, users["rex"], users["rita"])
    older = vault.split_keys(3, 2, actor="tester")
    shares = vault.split_keys(3, 2, actor="tester")
    vault.close()
    app = create_app(dataclasses.replace(settings, secure_cookies=False))
    with serve(app) as base:
        yield base, keys, document, shares.shares, older.shares


def _leaked(shares: list[str], logged: str) -> list[str]:
    """Any two consecutive words of a share found in the logs (one word alone may be a common one:
    SLIP-39's list holds words such as "health")."""
    text = " ".join(re.findall(r"[a-z]+", logged.lower()))
    pairs = {" ".join(s.split()[i:i + 2]) for s in shares for i in range(len(s.split()) - 1)}
    return [pair for pair in pairs if f" {pair} " in f" {text} "]


def test_a_sealed_server_answers_only_health_status_and_unseal_until_the_threshold(sealed_world, caplog):
    caplog.set_level(logging.DEBUG)
    base, keys, document, shares, older = sealed_world
    ivy = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {keys['ivy']}"}, timeout=60)
    ada = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {keys['ada']}"}, timeout=60)
    anyone = httpx.Client(base_url=base, timeout=60)

    def refused_while_sealed() -> None:
        for answer in (ivy.post("/api/v1/search", json={"q": "noose"}), ivy.get(f"/api/v1/documents/{document.id}"),
                       ivy.post("/api/v1/cases/Affaire H/unmask-requests",
                                json={"identity": "H", "justification": "to prepare the hearing of 14 May"}),
                       ada.get("/api/v1/keys"), ada.get("/api/v1/users"), ada.post("/api/v1/keys/master/rotate")):
            assert answer.status_code == 503, answer.text
            assert answer.json()["error"] == "SEALED" and "sealed" in answer.json()["message"]
        for path in ("/search", "/admin/keys", "/login", "/"):
            page = anyone.get(path)
            assert page.status_code == 503 and "The vault is sealed" in page.text and "/unseal" in page.text

    assert anyone.get("/api/v1/health").json() == {"status": "sealed"}
    assert anyone.get("/api/v1/seal").json() == {"sealed": True, "shares_given": 0, "threshold": 2, "shares": 3,
                                                 "passphrase": True}
    refused_while_sealed()

    refused = anyone.post("/api/v1/seal/shares", json={"share": older[0]})
    assert refused.status_code == 400 and refused.json()["error"] == "SHARE_OF_ANOTHER_SPLIT"
    words = shares[0].split()
    words[3] = "academic" if words[3] != "academic" else "acid"
    mistyped = anyone.post("/api/v1/seal/shares", json={"share": " ".join(words)})
    assert mistyped.status_code == 400 and "checksum" in mistyped.json()["message"]
    assert anyone.get("/api/v1/seal").json()["shares_given"] == 0

    first = anyone.post("/api/v1/seal/shares", json={"share": shares[0]})
    assert first.status_code == 200 and first.json()["shares_given"] == 1 and first.json()["sealed"] is True
    twice = anyone.post("/api/v1/seal/shares", json={"share": shares[0]})
    assert twice.status_code == 400 and "given already" in twice.json()["message"]
    refused_while_sealed()  # 1 of 2: still sealed
    assert anyone.post("/api/v1/seal/reset").json()["shares_given"] == 0
    assert anyone.post("/api/v1/seal/shares", json={"share": shares[2]}).json()["shares_given"] == 1

    opened = anyone.post("/api/v1/seal/shares", json={"share": shares[1]})
    assert opened.status_code == 200 and opened.json()["sealed"] is False
    assert anyone.get("/api/v1/health").json() == {"status": "ok"}
    found = ivy.post("/api/v1/search", json={"q": "noose"})
    assert found.status_code == 200 and [h["id"] for h in found.json()["hits"]] == [document.id]
    assert ada.get("/api/v1/keys").status_code == 200
    again = anyone.post("/api/v1/seal/shares", json={"share": shares[0]})
    assert again.status_code == 409

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert logged  # the access log did log the requests
    assert not _leaked(shares + older, logged)
    for client in (ivy, ada, anyone):
        client.close()


def test_custodians_unseal_through_the_page(sealed_world, caplog):
    caplog.set_level(logging.DEBUG)
    base, keys, _document, shares, _older = sealed_world
    with httpx.Client(base_url=base, timeout=60) as browser:
        page = browser.get("/unseal")
        assert page.status_code == 200 and "0 of 2 shares given" in page.text
        token = SIGN_IN_TOKEN.search(page.text).group(1)
        forged = browser.post("/unseal", data={"sign_in_token": "forged", "share": shares[0]})
        assert forged.status_code in (400, 403) and "expired" in forged.text
        assert browser.get("/api/v1/seal").json()["shares_given"] == 0
        given = browser.post("/unseal", data={"sign_in_token": token, "share": shares[0]})
        assert given.status_code == 303 and given.headers["location"] == "/unseal?notice=counted"  # a reload gives nothing
        given = browser.get(given.headers["location"])
        assert given.status_code == 200 and "1 of 2 shares given" in given.text and "share is counted" in given.text
        assert not _leaked(shares, given.text)  # never echoed
        token = SIGN_IN_TOKEN.search(given.text).group(1)
        twice = browser.post("/unseal", data={"sign_in_token": token, "share": shares[0]})
        assert twice.headers["location"] == "/unseal?notice=given-twice"
        refused = browser.get(twice.headers["location"])
        assert "given already" in refused.text and "1 of 2 shares given" in refused.text
        token = SIGN_IN_TOKEN.search(refused.text).group(1)
        done = browser.post("/unseal", data={"sign_in_token": token, "share": shares[1]}, follow_redirects=True)
        assert done.status_code == 200 and "unsealed and serving" in done.text
        assert browser.get("/login").status_code == 200
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not _leaked(shares, logged)
