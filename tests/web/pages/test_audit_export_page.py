"""The admin audit page's export: a download of the signed copy, for admins only."""

from __future__ import annotations

from tests.web.pages.conftest import csrf_of, sign_in
from vault import check_export


def test_the_admin_audit_page_offers_the_signed_export(world, tmp_path):
    ada = sign_in(world, "admin")
    page = ada.get("/admin/audit")
    assert 'action="/admin/audit/export"' in page.text
    keys = ada.get("/admin/keys").text
    fingerprint = world.vault.key_status().audit_key_fingerprint
    assert fingerprint in keys
    answer = ada.post("/admin/audit/export", data={"csrf": csrf_of(ada, "/admin/audit")})
    assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
    path = tmp_path / "audit.jsonl"
    path.write_bytes(answer.content)
    assert check_export(path, public_key=fingerprint).intact
    assert [e.actor for e in world.vault.audit_entries(limit=500) if e.action == "audit.export"] == ["ada (web)"]


def test_a_reviewer_cannot_export_from_the_pages(world):
    rex = sign_in(world, "reviewer")
    answer = rex.post("/admin/audit/export", data={"csrf": csrf_of(rex)})
    assert answer.status_code == 403
    assert not [e for e in world.vault.audit_entries(limit=500) if e.action == "audit.export"]
