"""Master key rotation and retirement on SQLite and PostgreSQL: a new master version rewraps every
system, case and scope key in batches; an interrupted rewrap (an exception, or SIGKILL of the real
command) is finished by the same command; a version is retired only once nothing depends on it,
and a key restored from before its retirement fails with KeyVersionRetired, saying why.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

import vault._rekey as rekey
from keys import KeyVersionRetired, token_version
from tests.conftest import PASSPHRASE, ingest_bytes
from tests.vault.conftest import CALL
from vault import Vault
from vault._keystore import SYSTEM_PURPOSES
from vault.errors import Conflict, NotFound

ROOT = Path(__file__).resolve().parents[2]
CHILD_TABLES = ("system_key", "case_key", "scope_key")


def _wrapped_by(vault: Vault) -> dict[str, list[int]]:
    """Per table, the master version of each row, checked against the version its token names."""
    out = {}
    with vault.db.engine.connect() as connection:
        for table in CHILD_TABLES:
            rows = connection.execute(sa.text(f"SELECT master_version, wrapped FROM {table}")).all()
            assert all(token_version(bytes(w)) == v for v, w in rows), table
            out[table] = sorted(v for v, _ in rows)
    return out


def _versions(vault: Vault) -> list[tuple[int, bool]]:
    return [(m.version, m.retired_at is not None) for m in vault.key_status().master_versions]


@pytest.fixture
def cases(vault):
    made = [vault.create_case(f"Case {n}", actor="tester") for n in range(3)]
    ingest_bytes(vault, made[0], CALL)
    return made


def test_rotating_the_master_key_rewraps_every_key_and_everything_still_reads(settings, vault, cases):
    version, resumed = vault.rotate_master(actor="tester")
    assert (version, resumed) == (2, False)
    assert all(set(v) == {2} for v in _wrapped_by(vault).values())
    status = vault.key_status()
    assert [(m.version, m.system_keys, m.case_keys, m.scope_keys) for m in status.master_versions] == \
        [(1, 0, 0, 0), (2, len(SYSTEM_PURPOSES), 3, 12)]
    vault.close()
    with Vault.open(settings, PASSPHRASE) as opened:
        assert "Quillon" in opened.content(opened.documents()[0].id, actor="tester").text
        assert sorted(c.name for c in opened.cases()) == ["Case 0", "Case 1", "Case 2"]
        actions = [e.action for e in opened.audit_entries(limit=500)]
        assert actions.count("keys.rotate_master") == 1 and actions.count("keys.rewrap_master") == 1


def test_an_interrupted_rewrap_is_finished_by_the_same_command_and_blocks_retirement(vault, cases, monkeypatch):
    monkeypatch.setattr(rekey, "BATCH_ROWS", 3)

    def crash(batches: int) -> None:
        if batches == 2:
            raise RuntimeError("the process died here")

    monkeypatch.setattr(rekey, "TEST_ONLY_AFTER_BATCH", crash)
    with pytest.raises(RuntimeError):
        vault.rotate_master(actor="tester")
    wrapped = _wrapped_by(vault)
    assert sum(v.count(2) for v in wrapped.values()) == 6 and sum(v.count(1) for v in wrapped.values()) == 16

    with pytest.raises(Conflict) as refused:
        vault.retire_master(1, actor="tester")
    assert str(refused.value) == ("master key version 1 still wraps 1 system keys, 3 case keys, 12 scope keys; finish the rewrap "
                                  "with `casevault keys rotate --master`, then retire it")
    with pytest.raises(Conflict, match="is the newest"):
        vault.retire_master(2, actor="tester")
    with pytest.raises(NotFound, match="no master key version 7"):
        vault.retire_master(7, actor="tester")

    monkeypatch.setattr(rekey, "TEST_ONLY_AFTER_BATCH", None)
    assert vault.rotate_master(actor="tester") == (2, True)  # resumed: no version 3
    assert all(set(v) == {2} for v in _wrapped_by(vault).values())
    status = vault.retire_master(1, actor="tester")
    assert [(m.version, m.retired_at is not None) for m in status.master_versions] == [(1, True), (2, False)]
    with pytest.raises(Conflict, match="retired already"):
        vault.retire_master(1, actor="tester")


def test_a_key_restored_from_before_the_retirement_fails_with_key_version_retired(settings, vault, cases):
    with vault.db.engine.connect() as connection:
        old = connection.execute(sa.text("SELECT case_id, wrapped FROM case_key WHERE case_id = :id"),
                                 {"id": cases[0].id}).one()
    vault.rotate_master(actor="tester")
    vault.retire_master(1, actor="tester")
    with vault.db.engine.connect() as connection:
        sealed = connection.execute(sa.text("SELECT sealed FROM master_key WHERE version = 1")).scalar_one()
    assert "token" not in sealed and "retired" in sealed  # the wrapped key is gone; a tombstone stays
    with vault.db.engine.begin() as connection:  # a row put back from a backup older than the retirement
        connection.execute(sa.text("UPDATE case_key SET wrapped = :w, master_version = 1 WHERE case_id = :id"),
                           {"w": old.wrapped, "id": old.case_id})
    vault.close()
    with Vault.open(settings, PASSPHRASE) as opened:
        with pytest.raises(KeyVersionRetired, match="master key version 1, which was retired .* restore"):
            opened.content(opened.documents()[0].id, actor="tester")
        assert opened.case("Case 1").name == "Case 1"  # the other cases read


def test_a_process_opened_before_a_rotation_wraps_new_keys_under_the_newest_version(settings, vault, cases):
    with Vault.open(settings, PASSPHRASE) as other:
        other.rotate_master(actor="tester")
        other.retire_master(1, actor="tester")
    made = vault.create_case("After the rotation", actor="tester")  # this process still knew only v1
    assert vault.case(made.name).id == made.id
    assert all(set(v) == {2} for v in _wrapped_by(vault).values())
    vault.rotate_keys(actor="tester", case=made)
    assert set(_wrapped_by(vault)["case_key"]) == {2}


CHILD = """
import os, sys, time
import vault._rekey as rekey
rekey.BATCH_ROWS = 2
def pause(batches):
    if batches == 3:
        with open(sys.argv[1], "w") as flag:
            flag.write("paused")
        time.sleep(600)
rekey.TEST_ONLY_AFTER_BATCH = pause
from web.cli import main
main(["keys", "rotate", "--master"], prog_name="casevault")
"""


def test_sigkill_during_the_rewrap_leaves_what_the_same_command_finishes(settings, vault, cases, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEVAULT_")}
    env.update(CASEVAULT_DATA=str(settings.data_dir), CASEVAULT_PASSPHRASE=PASSPHRASE, PYTHONPATH=str(ROOT))
    if settings.database_url:
        env["CASEVAULT_DATABASE_URL"] = settings.database_url
    flag = tmp_path / "paused"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(flag)], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not flag.exists():
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL
    wrapped = _wrapped_by(vault)
    assert sum(v.count(2) for v in wrapped.values()) == 6  # three batches of two were committed
    assert _versions(vault) == [(1, False), (2, False)]

    again = subprocess.run([sys.executable, "-m", "web", "keys", "rotate", "--master"], env=env,
                           capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert again.returncode == 0, again.stderr
    assert "finished the rewrap under master key v2" in again.stderr
    assert "rewrapping keys: 22 of 16" not in again.stderr and "rewrapping keys: 16 of 16" in again.stderr
    assert all(set(v) == {2} for v in _wrapped_by(vault).values())
    assert _versions(vault) == [(1, False), (2, False)]  # resumed, not rotated again
    retired = subprocess.run([sys.executable, "-m", "web", "keys", "retire", "1"], env=env,
                             capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert retired.returncode == 0, retired.stderr
    assert "master key v1: retired" in retired.stdout
    vault.close()
    with Vault.open(settings, PASSPHRASE) as opened:
        assert "Quillon" in opened.content(opened.documents()[0].id, actor="tester").text
