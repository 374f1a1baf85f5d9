"""The backups a server writes when an admin asks (``vault.ServerBackups``): one at a time, in a
thread, named by the second they began, listed from their manifests; a failure is a state, never a
dead thread; a stopping server leaves no partial archive."""

from __future__ import annotations

import fcntl
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, ingest_bytes
from tests.vault.conftest import CALL
from vault import ServerBackups, Settings, Vault
from vault._backup import BackupReport
from vault.errors import BackupFailed, BackupRunning

NOON = datetime(2026, 12, 3, 14, 25, 1, tzinfo=UTC)


def finished(backups: ServerBackups, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while (run := backups.latest()) is not None and run.state == "running":
        assert time.monotonic() < deadline, "the backup did not finish"
        time.sleep(0.02)
    return run


class Held:
    """A writer that waits for ``release`` after it has begun, then fails or writes a file."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.release = threading.Event()
        self.fail = fail
        self.targets: list[Path] = []

    def __call__(self, target: Path, *, actor: str, progress) -> BackupReport:
        self.targets.append(target)
        progress.begin(10)
        progress.advance(4)
        assert self.release.wait(30)
        if self.fail:
            raise self.fail
        target.write_bytes(b"not an archive")
        return BackupReport(target, 3, 1, 10, 1, 0)


def test_a_backup_runs_in_a_thread_and_is_listed_from_its_manifest(vault, case, tmp_path):
    ingest_bytes(vault, case, CALL, "call.txt")
    directory = tmp_path / "backups"
    backups = ServerBackups(vault.backup, directory, clock=lambda: NOON)
    run = backups.start(actor="ada (api)")
    assert (run.name, run.state, run.started_by) == ("casevault-20261203T142501Z.tar", "running", "ada (api)")
    done = finished(backups)
    assert done.state == "finished" and done.documents == 1 and done.message is None, done
    assert done.total_bytes > 0 and done.done_bytes == done.total_bytes
    assert directory.stat().st_mode & 0o777 == 0o700
    [stored] = backups.stored()
    assert (stored.name, stored.documents, stored.size) == (run.name, 1, (directory / run.name).stat().st_size)
    assert stored.release is not None
    assert [e.actor for e in vault.audit_entries(limit=500) if e.action == "vault.backup"] == ["ada (api)"]

    restored = Settings(data_dir=tmp_path / "restored")
    report = Vault.restore(restored, directory / run.name, PASSPHRASE, actor="operator")
    assert report.documents == 1
    with Vault.open(restored, PASSPHRASE) as opened:
        assert [d.id for d in opened.documents()] == [d.id for d in vault.documents()]


def test_one_at_a_time_and_a_second_of_the_same_name_is_numbered(tmp_path):
    writer = Held()
    backups = ServerBackups(writer, tmp_path / "backups", clock=lambda: NOON)
    first = backups.start(actor="ada")
    running = backups.latest()
    assert (running.state, running.done_bytes, running.total_bytes) == ("running", 4, 10)
    with pytest.raises(BackupRunning, match=first.name):
        backups.start(actor="ada")
    writer.release.set()
    assert finished(backups).state == "finished"
    second = backups.start(actor="ada")
    assert second.name == "casevault-20261203T142501Z-2.tar"
    assert finished(backups).state == "finished"
    assert [s.name for s in backups.stored()] == [second.name, first.name]
    assert all(s.release is None and s.documents is None for s in backups.stored())  # not archives


def test_a_backup_another_process_writes_into_the_directory_is_409(tmp_path):
    directory = tmp_path / "backups"
    directory.mkdir()
    with (directory / ".lock").open("a") as other:
        fcntl.flock(other, fcntl.LOCK_EX)  # another open file: as another process holds it
        with pytest.raises(BackupRunning, match="another process"):
            ServerBackups(Held(), directory).start(actor="ada")


def test_a_failed_backup_says_why_and_the_next_one_may_start(tmp_path):
    writer = Held(fail=BackupFailed("the disk is full"))
    writer.release.set()
    backups = ServerBackups(writer, tmp_path / "backups")
    backups.start(actor="ada")
    failed = finished(backups)
    assert (failed.state, failed.message) == ("failed", "the disk is full")
    writer.fail = RuntimeError("a bug, with /secret/path in it")
    backups.start(actor="ada")
    failed = finished(backups)
    assert failed.state == "failed" and "log" in failed.message and "secret" not in failed.message
    assert backups.stored() == []


def test_files_that_are_not_backups_are_not_listed(tmp_path):
    directory = tmp_path / "backups"
    directory.mkdir()
    for name in ("notes.txt", ".casevault-20261203T142501Z.tar.ab12.partial", "casevault-2026.tar", ".lock"):
        (directory / name).write_text("x")
    (directory / "casevault-20261203T142501Z.tar").symlink_to(directory / "notes.txt")
    assert ServerBackups(Held(), directory).stored() == []
    assert ServerBackups(Held(), tmp_path / "none yet").stored() == []


def test_a_directory_that_cannot_be_made_is_a_domain_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(BackupFailed, match="cannot be used"):
        ServerBackups(Held(), tmp_path / "file" / "backups").start(actor="ada")


def test_a_stopping_server_stops_its_backup_and_leaves_no_archive(vault, case, tmp_path, monkeypatch):
    from vault import _archive

    ingest_bytes(vault, case, CALL, "call.txt")
    started = threading.Event()
    original = _archive._Hashing.readinto

    def slow(self, buffer):  # the archive is being written when the server stops
        started.set()
        time.sleep(0.05)
        return original(self, buffer)

    monkeypatch.setattr(_archive._Hashing, "readinto", slow)
    directory = tmp_path / "backups"
    backups = ServerBackups(vault.backup, directory)
    backups.start(actor="ada")
    assert started.wait(30)
    backups.close(timeout=30)
    stopped = backups.latest()
    assert stopped.state == "failed" and "server stopped" in stopped.message
    assert [p.name for p in directory.iterdir()] == [".lock"]
    with pytest.raises(BackupFailed, match="stopping"):
        backups.start(actor="ada")
