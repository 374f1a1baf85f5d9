"""The master key over the API and the admin's keys page (real HTTP): rotation and retirement by an admin
only, a retirement refused while anything depends on the version, the seal shown and never a
key, a share or the split's identifier."""

from __future__ import annotations

import re

from tests.web.pages.conftest import CSRF, form_of, sign_in

ONCE = re.compile(r'name="once" value="[^"]+"')


def test_only_an_admin_rotates_and_retires_the_master_key(world):
    for persona in ("investigator", "reviewer", "outsider"):
        with world.client(persona) as client:
            assert client.post("/api/v1/keys/master/rotate").status_code == 403
            assert client.post("/api/v1/keys/master/1/retire").status_code == 403
    with world.client("anonymous") as client:
        assert client.post("/api/v1/keys/master/rotate").status_code == 401
    with world.client("admin") as ada:
        refused = ada.post("/api/v1/keys/master/1/retire")
        assert refused.status_code == 409 and "newest" in refused.json()["message"]
        assert ada.post("/api/v1/keys/master/9/retire").status_code == 404
        rotated = ada.post("/api/v1/keys/master/rotate")
        assert rotated.status_code == 200
        masters = rotated.json()["master_key"]
        assert [(m["version"], m["retired"], m["wraps"]["system_keys"]) for m in masters] == [(1, False, 0),
                                                                                                (2, False, 7)]
        retired = ada.post("/api/v1/keys/master/1/retire")
        assert retired.status_code == 200 and retired.json()["master_key"][0]["retired"] is True
    with world.client("investigator") as ivy:  # everything still reads, under the new master version
        found = ivy.post("/api/v1/search", json={"q": "noose"})
        assert found.status_code == 200 and found.json()["total"] >= 1
        assert ivy.get(f"/api/v1/documents/{world.documents['call1'].id}").status_code == 200


def test_the_keys_page_shows_the_seal_and_what_each_master_version_wraps(world):
    shares = world.vault.split_keys(3, 2, actor="tester").shares
    ada = sign_in(world, "admin")
    page = ada.get("/admin/keys")
    assert page.status_code == 200
    assert "any 2 of 3 shares" in page.text and "the passphrase (Argon2id" in page.text
    assert not any(" ".join(share.split()[3:6]) in page.text for share in shares)
    rotated = ada.post("/admin/keys/master/rotate", data=form_of(ada, "/admin/keys", "/admin/keys/master/rotate"))
    assert rotated.status_code == 303 and rotated.headers["location"] == "/admin/keys?notice=master-rotated"
    shown = ada.get(rotated.headers["location"]).text
    assert "A new master key version is made" in shown
    assert re.search(r"<td>v1</td>.*?<button type=\"submit\" class=\"danger\">Retire</button>", shown, re.S)
    retire = form_of(ada, "/admin/keys", "/admin/keys/master/retire")
    assert ada.post("/admin/keys/master/retire", data=retire | {"confirm": ""}).status_code == 400, "unconfirmed"
    retired = ada.post("/admin/keys/master/retire", data=retire)
    assert retired.status_code == 303 and "retired" in ada.get(retired.headers["location"]).text
    again = ada.post("/admin/keys/master/retire", data=retire)
    assert again.status_code == 409 and "retired already" in again.text
    status = ONCE.sub("", CSRF.sub("", ada.get("/admin/keys").text))  # the CSRF and one-time form tokens aside
    public = world.vault.key_status()
    status = status.replace(public.audit_public_key, "").replace(public.audit_key_fingerprint, "")  # not secrets
    assert not re.search(r"[0-9a-f]{32}|[A-Za-z0-9+/]{40}", status)
