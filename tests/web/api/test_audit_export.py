"""The audit export over real HTTP: admins download a signed copy (API and admin page) that
checks without the vault under the key /keys shows; the export is audited; nobody else gets one
(the route table in test_routes.py holds every persona's status)."""

from __future__ import annotations

from tests.conftest import PASSPHRASE
from tests.search.conftest import NAMES
from tests.web.api.test_routes import JUSTIFICATION
from vault import check_export


def test_an_admin_downloads_an_export_that_checks_under_the_key_the_api_shows(world, tmp_path):
    world.vault.request_unmask(world.users["investigator"], world.case, "H", JUSTIFICATION, actor="tester")
    with world.client("investigator") as ivy:
        assert ivy.post("/api/v1/search", json={"q": "noose Quillon"}).status_code == 200
    with world.client("admin") as ada:
        key = ada.get("/api/v1/keys").json()
        answer = ada.get("/api/v1/audit/export")
    assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
    path = tmp_path / "audit.jsonl"
    path.write_bytes(answer.content)
    checked = check_export(path, public_key=key["audit_key_fingerprint"])
    assert checked.intact, checked.reason
    assert checked.fingerprint == key["audit_key_fingerprint"]
    exports = [e for e in world.vault.audit_entries(limit=500) if e.action == "audit.export"]
    assert [e.actor for e in exports] == ["ada (api)"]
    text = answer.text
    for secret in [*NAMES, "noose", JUSTIFICATION, world.case.name, PASSPHRASE]:
        assert secret not in text, f"the export leaks {secret!r}"


def test_investigators_and_reviewers_get_no_export_and_leave_no_entry(world):
    for persona in ("investigator", "reviewer", "outsider"):
        with world.client(persona) as client:
            answer = client.get("/api/v1/audit/export")
        assert answer.status_code == 403 and answer.json()["error"] == "FORBIDDEN", persona
    assert not [e for e in world.vault.audit_entries(limit=500) if e.action == "audit.export"]


def test_a_broken_chain_is_409_and_nothing_is_exported(world):
    import sqlalchemy as sa

    from vault._models import AuditEntryRow

    with world.vault.db.write() as session:
        session.execute(sa.update(AuditEntryRow).where(AuditEntryRow.seq == 3).values(actor="nobody"))
    with world.client("admin") as ada:
        answer = ada.get("/api/v1/audit/export")
    assert answer.status_code == 409 and answer.json()["error"] == "AUDIT_BROKEN"
    assert "position 3" in answer.json()["message"]
