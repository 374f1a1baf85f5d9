"""Retired case key versions through the web: the API's key status and the admin keys page show
what each version protects and which are retired, never key material; a file kept from before a
retirement answers 503 KEY_VERSION_RETIRED with a message that says so, never a 500."""

from __future__ import annotations

import re
import shutil

import sqlalchemy as sa

from tests.web.pages.conftest import sign_in
from vault._models import BlobRow


def _retire_version_1(vault) -> None:
    vault.rotate_keys(actor="operator")
    vault.rewrap(actor="operator")
    vault.reencrypt(actor="operator")
    vault.retire_case_key_version(1, actor="operator")


def test_key_status_and_a_file_kept_from_before_a_retirement(world):
    vault = world.vault
    document = world.documents["call1"]
    with vault.db.read() as session:
        blob = session.scalar(sa.select(BlobRow).where(BlobRow.document_id == document.id, BlobRow.purpose == "masked"))
    aside = vault.settings.data_dir / "aside.blob"
    shutil.copy(vault.blobs.path(blob.storage_name), aside)
    with world.client("admin") as ada:
        before = ada.get("/api/v1/keys").json()["case_key_versions"]
    assert [(v["version"], v["retired"], v["blobs"] > 0) for v in before] == [(1, False, True)]

    _retire_version_1(vault)

    with world.client("admin") as ada:
        answer = ada.get("/api/v1/keys")
    assert answer.status_code == 200
    versions = {v["version"]: v for v in answer.json()["case_key_versions"]}
    assert versions[1]["retired"] and versions[1]["retired_cases"] == 2 and versions[1]["blobs"] == 0
    assert not versions[2]["retired"] and versions[2]["cases"] == 2
    public = answer.json()  # the audit signing key's public key and fingerprint are public by design
    shown = answer.text.replace(public["audit_public_key"], "").replace(public["audit_key_fingerprint"], "")
    assert not re.search(r"[0-9a-f]{32}|[A-Za-z0-9+/]{40}", shown), answer.text
    page = sign_in(world, "admin").get("/admin/keys")
    assert page.status_code == 200 and re.search(r"<td>v1</td>(<td>0</td>){6}<td>retired</td>", page.text), page.text

    with vault.db.read() as session:
        current = session.get(BlobRow, blob.id).storage_name
    shutil.copy(aside, vault.blobs.path(current))  # the masked form restored from before
    with world.client("investigator") as ivy:
        refused = ivy.get(f"/api/v1/documents/{document.id}")
    assert refused.status_code == 503, refused.text
    body = refused.json()
    assert body["error"] == "KEY_VERSION_RETIRED" and "retired" in body["message"], body
    assert "Traceback" not in refused.text
