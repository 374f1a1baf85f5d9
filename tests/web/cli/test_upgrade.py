"""`casevault upgrade` on the vault release 1 made, on SQLite and PostgreSQL: every other command
refuses it with one line; upgrade brings it to head (search, after a reindex, and the audit log
work); a second run says it is up to date; a run killed inside a format step is finished by the
next, with nothing done twice."""

from __future__ import annotations

import collections
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tests.vault.release_1 import (
    BEHIND,
    EXPECTED,
    PASSPHRASE,
    fingerprint,
    make_probe_rows,
    probe_runs,
    release_1_vault,
)
from vault import Settings
from vault import _schema as schema
from vault._db import Database
from web.cli import main

ROOT = Path(__file__).resolve().parents[3]
SOME_ID = "00000000-0000-4000-8000-000000000000"

# every command that works on an existing vault, with arguments it accepts
COMMANDS = [
    ["case", "create", "Affaire nouvelle"],
    ["case", "list"],
    ["ingest", str(ROOT / "README.md"), "--case", "Affaire H — Lyon"],
    ["show", SOME_ID],
    ["search", "Colonel", "--as", "ivy"],
    ["reindex"],
    ["keys", "status"],
    ["keys", "rotate"],
    ["keys", "rewrap"],
    ["audit", "verify"],
    ["serve", "--port", "1"],
    ["user", "add", "nina", "--role", "investigator"],
    ["user", "reset", "ivy"],
    ["user", "confirm", "ivy", "--case", "Affaire H — Lyon"],
    ["user", "waiting"],
    ["user", "list"],
    ["identity", "add", "--case", "Affaire H — Lyon", "--name", "Nouveau Nom"],
    ["identity", "edit", "H", "--case", "Affaire H — Lyon", "--name", "Autre Nom"],
    ["identity", "list", "--case", "Affaire H — Lyon"],
    ["review", "list"],
    ["review", "show", SOME_ID, "--as", "rex"],
    ["review", "accept", SOME_ID, "1.s0-1", "--as", "rex"],
    ["review", "reject", SOME_ID, "1.s0-1", "--as", "rex"],
    ["review", "add", SOME_ID, "--unit", "1", "--start", "0", "--end", "1", "--as", "rex"],
    ["review", "approve", SOME_ID, "--as", "rex"],
    ["unmask", "request", "--case", "Affaire H — Lyon", "--identity", "H", "--reason", "a reason long enough "
     "to be accepted by the policy", "--as", "ivy"],
    ["unmask", "approve", SOME_ID, "--as", "rex"],
    ["unmask", "deny", SOME_ID, "--as", "rex"],
    ["unmask", "revoke", SOME_ID, "--as", "rex"],
    ["unmask", "list", "--case", "Affaire H — Lyon"],
]


def _environment(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEVAULT_")}
    env.update(CASEVAULT_DATA=str(settings.data_dir), CASEVAULT_PASSPHRASE=PASSPHRASE,
               PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    if settings.database_url:
        env["CASEVAULT_DATABASE_URL"] = settings.database_url
    return env


@pytest.fixture
def old(tmp_path, database_url) -> Settings:
    return release_1_vault(tmp_path, database_url)


@pytest.fixture
def run(old):
    env = _environment(old)

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([sys.executable, "-m", "web", *args], env=env, capture_output=True, text=True,
                                stdin=subprocess.DEVNULL, timeout=300)
        assert "Traceback" not in result.stderr, result.stderr
        if check:
            assert result.returncode == 0, result.stderr
        return result

    return run


def test_every_command_refuses_a_release_1_vault_with_one_line(old):
    before = fingerprint(old)
    runner = CliRunner()
    env = {k: v for k, v in _environment(old).items() if k.startswith("CASEVAULT_")}
    for command in COMMANDS:
        result = runner.invoke(main, command, env={"CASEVAULT_DATABASE_URL": None, **env})
        assert (result.exit_code, result.stderr) == (1, f"error: {BEHIND}\n"), command
    assert fingerprint(old) == before


def test_upgrade_brings_it_to_head_and_search_and_audit_work(old, run):
    assert run("case", "list", check=False).stderr == f"error: {BEHIND}\n"
    upgraded = run("upgrade")
    migrations = re.findall(r"^migration (\S+): .+$", upgraded.stdout, re.M)
    assert migrations and migrations[-1] in schema.heads()
    assert "vault upgraded to" in upgraded.stdout
    assert run("case", "list").stdout.count("documents") == len(EXPECTED["cases"])
    assert re.match(r"^\d+ documents indexed$", run("reindex").stdout)
    for document, word in _a_word_of_each_released_document():
        hits = run("search", word, "--as", document["reader"], "--json").stdout
        assert document["id"] in hits, f"{word!r} does not find document {document['id']} after the upgrade"
    assert "audit log intact" in run("audit", "verify").stdout
    before = fingerprint(old)
    assert run("upgrade").stdout == "the vault is up to date; nothing was changed\n"
    assert fingerprint(old) == before


def _a_word_of_each_released_document() -> list[tuple[dict, str]]:
    def words(document: dict) -> list[str]:
        return re.findall(r"[^\W\d_]{6,}", " ".join(u["text"] for u in document["units"]).lower())

    released = [d for d in EXPECTED["documents"] if d["status"] == "released"]
    counts = collections.Counter(w for d in EXPECTED["documents"] for w in set(words(d)))
    return [(d, min(words(d), key=lambda w: (counts[w], w))) for d in released]


PROBE_RUNNER = """
import sys
from tests.vault.release_1 import probe_step
from vault import _formats
_formats.add(probe_step(batch=5, pause=0.2))
from web.cli import main
main(["upgrade"], prog_name="casevault")
"""


def test_an_upgrade_killed_inside_a_format_step_is_finished_by_the_next(old, run):
    make_probe_rows(old, 60)
    env = _environment(old)
    command = [sys.executable, "-c", PROBE_RUNNER]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        runs = _runs_or_none(old)
        if runs and 0 < sum(runs) < len(runs):
            break
        time.sleep(0.1)
    assert process.poll() is None, process.communicate()
    process.send_signal(signal.SIGKILL)
    process.communicate()
    runs = probe_runs(old)
    assert 0 < sum(runs) < 60, "the kill did not land inside the step"
    assert sorted(_finished_steps(old)) == ["document-dates", "integrity-macs"]  # the migrations and this release's steps, not the probe
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert not re.search(r"^migration ", finished.stdout, re.M)  # the killed run had committed them
    assert f"format step test-probe: {60 - sum(runs)} of {60 - sum(runs)}, finished" in finished.stderr
    assert probe_runs(old) == [1] * 60, "a row was converted twice, or never"
    assert sorted(_finished_steps(old)) == ["document-dates", "integrity-macs", "test-probe"]
    assert run("case", "list").returncode == 0


def _finished_steps(settings: Settings) -> list[str]:
    db = Database(settings.resolved_database_url)
    try:
        with db.engine.connect() as connection:
            return list(connection.execute(sa.text("select name from vault_format")).scalars())
    finally:
        db.dispose()


def _runs_or_none(settings: Settings) -> list[int] | None:
    try:
        return probe_runs(settings)
    except Exception:  # noqa: BLE001 - the table is locked or being migrated: look again
        return None
