"""Backups over real HTTP: an admin starts one on the server, follows it to the end and finds it
listed; the archive restores into a fresh data directory and opens; one runs at a time (409);
nobody but an admin starts or sees one, and no route hands an archive out (the route table in
test_routes.py holds every persona's status)."""

from __future__ import annotations

import threading
import time

import pytest

from tests.conftest import PASSPHRASE
from vault import Settings, Vault

ROUTES = [("POST", "/api/v1/backups"), ("GET", "/api/v1/backups")]


def followed(client, timeout: float = 60) -> dict:
    """``GET /backups`` until the latest backup is no longer running."""
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get("/api/v1/backups")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        if body["latest"]["state"] != "running":
            return body
        assert time.monotonic() < deadline, "the backup did not finish"
        time.sleep(0.05)


def test_an_admin_starts_a_backup_sees_it_finish_and_listed_and_it_restores(world, tmp_path):
    with world.client("admin") as ada:
        assert ada.get("/api/v1/backups").json() == {"latest": None, "backups": []}
        answer = ada.post("/api/v1/backups")
        assert answer.status_code == 202, answer.text
        started = answer.json()
        assert answer.headers["location"] == "/api/v1/backups"
        assert started["state"] == "running" and started["started_by"] == "ada (api)"
        assert started["name"].startswith("casevault-") and started["name"].endswith("Z.tar")
        body = followed(ada)
    latest = body["latest"]
    assert latest["state"] == "finished", latest
    assert latest["documents"] == 3 and latest["done_bytes"] == latest["total_bytes"] > 0
    [stored] = body["backups"]
    archive = world.vault.settings.resolved_backup_dir / started["name"]
    assert stored["name"] == started["name"] and stored["size"] == archive.stat().st_size
    assert stored["documents"] == 3 and stored["release"]
    assert not archive.is_relative_to(world.vault.settings.data_dir.resolve())
    assert [e.actor for e in world.vault.audit_entries(limit=500) if e.action == "vault.backup"] == ["ada (api)"]

    fresh = Settings(data_dir=tmp_path / "restored")
    assert Vault.restore(fresh, archive, PASSPHRASE, actor="operator").documents == 3
    with Vault.open(fresh, PASSPHRASE) as restored:
        assert sorted(d.id for d in restored.documents()) == sorted(d.id for d in world.vault.documents())
        assert restored.view(world.documents["call1"].id, world.users["investigator"], actor="tester").units


def test_a_second_backup_while_one_runs_is_409(world, monkeypatch):
    from vault import _backup

    release = threading.Event()
    snapshot = _backup.dump.snapshot

    def held(*args, **kwargs):  # the first backup waits at its database snapshot
        assert release.wait(30)
        return snapshot(*args, **kwargs)

    monkeypatch.setattr(_backup.dump, "snapshot", held)
    with world.client("admin") as ada:
        first = ada.post("/api/v1/backups")
        assert first.status_code == 202
        running = ada.get("/api/v1/backups").json()["latest"]
        assert (running["name"], running["state"], running["total_bytes"]) == (first.json()["name"], "running", 0)
        again = ada.post("/api/v1/backups")
        assert again.status_code == 409, again.text
        assert again.json()["error"] == "BACKUP_RUNNING" and first.json()["name"] in again.json()["message"]
        release.set()
        assert followed(ada)["latest"]["state"] == "finished"
        assert ada.post("/api/v1/backups").status_code == 202  # the next one may start
        assert followed(ada)["latest"]["state"] == "finished"
    assert len([e for e in world.vault.audit_entries(limit=500) if e.action == "vault.backup"]) == 2


@pytest.mark.parametrize("persona", ["investigator", "reviewer", "outsider"])
def test_nobody_but_an_admin_starts_or_sees_a_backup(world, persona):
    with world.client(persona) as client:
        for method, path in ROUTES:
            answer = client.request(method, path)
            assert answer.status_code == 403, (persona, method, path, answer.text)
            assert answer.json()["error"] == "FORBIDDEN"
    assert not [e for e in world.vault.audit_entries(limit=500) if e.action == "vault.backup"]
    assert not world.vault.settings.resolved_backup_dir.exists()


def test_no_route_hands_an_archive_out(world):
    paths = [p for p in world.app.openapi()["paths"] if "backup" in p]
    assert paths == ["/api/v1/backups"]
    with world.client("admin") as ada:
        name = ada.post("/api/v1/backups").json()["name"]
        followed(ada)
        for path in (f"/api/v1/backups/{name}", f"/api/v1/backups/{name}/download", f"/backups/{name}"):
            assert ada.get(path).status_code == 404, path


def test_a_backup_directory_inside_the_data_directory_is_refused_when_the_app_is_made(vault, settings):
    import dataclasses

    from vault import InvalidSetting
    from web import create_app

    inside = dataclasses.replace(settings, backup_dir=settings.data_dir / "backups")
    with pytest.raises(InvalidSetting, match="CASEVAULT_BACKUP_DIR"):
        create_app(inside, vault=vault)
