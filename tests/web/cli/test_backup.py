"""`casevault backup` and `casevault restore` as an operator runs them: real processes, a restore
killed with SIGKILL at several moments and finished by the same command, refusals in one line."""

from __future__ import annotations

import io
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import PASSPHRASE, POSTGRES_URL
from vault import Settings, Vault

ROOT = Path(__file__).resolve().parents[3]
DOCUMENTS = 16
WORDS = "the court heard the appeal about the transfer of funds and the red notice on appeal".split()


@pytest.fixture
def environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEVAULT_")}
    env.update(CASEVAULT_PASSPHRASE=PASSPHRASE,
               PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    return env


def casevault(env, *args, data: Path, url: str | None = None) -> subprocess.Popen:
    call_env = {**env, "CASEVAULT_DATA": str(data)} | ({"CASEVAULT_DATABASE_URL": url} if url else {})
    return subprocess.Popen([sys.executable, "-m", "web", *args], env=call_env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finished(process: subprocess.Popen) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=300)
    assert "Traceback" not in err, err
    return process.returncode, out, err


@pytest.fixture
def archive(settings, tmp_path, environment) -> Path:
    """A backup (written by the command) of a vault with 16 documents of about 50 KB."""
    with Vault.initialize(settings, PASSPHRASE) as vault:
        case = vault.create_case("Affaire H", actor="tester")
        for number in range(DOCUMENTS):
            text = " ".join(secrets.choice(WORDS) for _ in range(9000)) + f" lot {number}."
            vault.ingest(io.BytesIO(text.encode()), case=case, filename=f"d{number}.txt", actor="tester")
    path = tmp_path / "vault.backup"
    code, out, err = finished(casevault(environment, "backup", str(path), data=settings.data_dir,
                                        url=settings.database_url))
    assert code == 0 and "backup written" in out, err
    return path


@pytest.fixture
def fresh_targets(request, settings, tmp_path):
    """Makes a new restore target each time: a data directory (and a PostgreSQL schema)."""
    made = []

    def make() -> Settings:
        data = tmp_path / f"target-{len(made)}"
        if settings.database_url is None:
            made.append(Settings(data_dir=data))
            return made[-1]
        engine = request.getfixturevalue("postgres_engine")
        schema = f"cv_{secrets.token_hex(6)}"
        with engine.connect() as connection:
            connection.execute(sa.text(f"create schema {schema}"))
        request.addfinalizer(lambda: _drop(engine, schema))
        made.append(Settings(data_dir=data, database_url=f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"))
        return made[-1]

    return make


def _drop(engine, schema):
    with engine.connect() as connection:
        connection.execute(sa.text(f"drop schema {schema} cascade"))


def _phase(target: Settings) -> str:
    staging = target.data_dir / ".restore"
    if not staging.exists():
        return "done" if (target.data_dir / "blobs").exists() else "before the marker"
    if (target.data_dir / "blobs").exists():
        return "blobs moved, database not yet in place or staging not removed"
    return f"{sum(1 for _ in (staging / 'blobs').rglob('*'))} blob files staged" if (staging / "blobs").exists() \
        else "verified, nothing staged"


def _start_restore(environment, archive, target) -> tuple[subprocess.Popen, float]:
    """A restore running, once it has verified the archive and written its marker (and the time)."""
    restore = casevault(environment, "restore", str(archive), data=target.data_dir, url=target.database_url)
    marker = target.data_dir / ".restore" / "restoring.json"
    deadline = time.monotonic() + 120
    while not marker.exists() and restore.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    return restore, time.monotonic()


def _writing_time(archive, target, environment) -> float:
    """How long an uninterrupted restore writes: from its marker until its staging is gone."""
    restore, started = _start_restore(environment, archive, target)
    while (target.data_dir / ".restore").exists() and restore.poll() is None:
        time.sleep(0.002)
    writing = time.monotonic() - started
    assert finished(restore)[0] == 0
    return writing


def test_a_restore_killed_at_any_moment_is_finished_by_running_it_again(archive, fresh_targets, environment):
    window = _writing_time(archive, fresh_targets(), environment)
    phases = []
    for fraction in (0.0, 0.5, 0.8, 0.95):
        target = fresh_targets()
        restore, _ = _start_restore(environment, archive, target)
        time.sleep(fraction * window)
        restore.send_signal(signal.SIGKILL)
        restore.communicate()
        phases.append(phase := _phase(target))
        _finish_and_check(archive, target, environment, phase)
    print(f"writing took {window:.2f}s; killed in: {phases}")


def _finish_and_check(archive, target, environment, phase):
    # whatever was left, the vault is never half there: it opens whole or not at all
    opened = finished(casevault(environment, "audit", "verify", data=target.data_dir, url=target.database_url))
    assert opened[0] == 0 or opened[2].count("\n") == 1, (phase, opened)

    code, out, err = finished(casevault(environment, "restore", str(archive), data=target.data_dir,
                                        url=target.database_url))
    if code != 0:  # the kill came after the restore had finished: the vault is there, so it refuses
        assert opened[0] == 0 and ("not empty" in err or "already holds tables" in err), (phase, err)
    assert not (target.data_dir / ".restore").exists(), phase
    code, out, err = finished(casevault(environment, "audit", "verify", data=target.data_dir, url=target.database_url))
    assert code == 0 and "intact" in out, (phase, err)
    with Vault.open(target, PASSPHRASE) as restored:
        assert len(restored.documents()) == DOCUMENTS
        for document in restored.documents():
            restored.content(document.id, actor="tester")  # every blob there and decrypting


def test_refusals_are_one_line(archive, fresh_targets, environment, tmp_path):
    target = fresh_targets()
    target.data_dir.mkdir()
    (target.data_dir / "something").write_text("x")
    code, out, err = finished(casevault(environment, "restore", str(archive), data=target.data_dir,
                                        url=target.database_url))
    assert code == 1 and err.count("\n") == 1 and "not empty" in err

    damaged = tmp_path / "damaged.backup"
    import tarfile

    with tarfile.open(archive) as tar:
        blob = next(m for m in tar.getmembers() if m.name.startswith("blobs/"))
    data = bytearray(archive.read_bytes())
    data[blob.offset_data + blob.size // 2] ^= 1
    damaged.write_bytes(bytes(data))
    other = fresh_targets()
    code, out, err = finished(casevault(environment, "restore", str(damaged), data=other.data_dir,
                                        url=other.database_url))
    assert code == 1 and err.count("\n") == 1 and "damaged" in err, err
    assert not other.data_dir.exists()


def test_backup_into_a_missing_directory_fails_in_one_line(settings, environment, tmp_path):
    with Vault.initialize(settings, PASSPHRASE):
        pass
    code, out, err = finished(casevault(environment, "backup", str(tmp_path / "no" / "such" / "file"),
                                        data=settings.data_dir, url=settings.database_url))
    assert code == 1 and err.count("\n") == 1 and "not a directory" in err
