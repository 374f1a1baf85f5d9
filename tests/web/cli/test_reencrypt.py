"""`casevault keys reencrypt`, `keys retire --case-key` and `keys status` as an operator runs them,
including a re-encryption killed with SIGKILL and run again."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, ingest_bytes
from tests.web.cli.test_commands import MANIFEST, run  # noqa: F401  (the fixture)
from vault import Settings, Vault
from vault._reencryption import TEST_PAUSE_ENV


def _ingest(run, count: int = 4) -> list[str]:  # noqa: F811
    folder = run.env["CASEVAULT_DATA"] + "-calls"
    path = Path(folder)
    path.mkdir()
    for i in range(count):
        (path / f"call-{i}.txt").write_text(f"[00:00:0{i}] H: call number {i} about the hearing.\n")
    listed = json.loads(run("ingest", folder, "--case", MANIFEST["case"], "--json").stdout)
    return [entry["id"] for entry in listed]


def _data(run) -> Path:  # noqa: F811
    return Path(run.env["CASEVAULT_DATA"])


def _blob_files(run) -> set[str]:  # noqa: F811
    return {p.name for p in (_data(run) / "blobs").glob("??/*")}


def test_reencrypt_then_retire_from_the_command_line(run):  # noqa: F811
    documents = _ingest(run, 2)
    run("keys", "rotate")
    refused = run("keys", "retire", "1", "--case-key", check=False)
    assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1
    assert "keys rewrap" in refused.stderr and "keys reencrypt" in refused.stderr and MANIFEST["case"] in refused.stderr
    run("keys", "rewrap")
    text = run("keys", "status").stdout
    assert "case keys v1: 1 cases, protects 6 files" in text, text

    result = run("keys", "reencrypt", "--json")
    assert result.stderr.splitlines() == ["re-encrypting: 1/2", "re-encrypting: 2/2"]  # counts, not a terminal
    reencrypted = json.loads(result.stdout)
    assert reencrypted == {"documents": 2, "blobs": 6, "left": 0,
                           "cases": [{"case": MANIFEST["case"], "documents": 2, "blobs": 6}]}
    assert "0 documents re-encrypted (0 files); none left" in run("keys", "reencrypt").stdout
    assert "protects nothing (it can be retired)" in run("keys", "status").stdout

    retired = run("keys", "retire", "1", "--case-key")
    assert "case key version 1 (and older) retired in 1 cases" in retired.stdout + retired.stderr
    assert "case keys v1: retired in 1 cases" in retired.stdout + retired.stderr
    secret_free = [line for line in retired.stdout.splitlines() if not line.startswith("audit signing key:")]  # public
    assert not re.search(r"[0-9a-f]{32}|[A-Za-z0-9+/]{40}", "\n".join(secret_free)), retired.stdout
    status = json.loads(run("keys", "status", "--json").stdout)
    assert status["case_key_versions"][0] == {"version": 1, "cases": 0, "retired_cases": 1, "retired": True,
                                              "documents": 0, "blobs": 0, "justifications": 0, "case_names": 0,
                                              "index_keys": 0}
    assert json.loads(run("show", documents[0], "--json").stdout)["text"]
    again = run("keys", "retire", "1", "--case-key", check=False)
    assert again.returncode == 1 and "already retired" in again.stderr
    newest = run("keys", "retire", "2", "--case-key", check=False)
    assert newest.returncode == 1 and "newest key" in newest.stderr
    master = run("keys", "retire", "1", check=False)  # without --case-key: the master key's version 1
    assert master.returncode == 1 and "master key version 1 is the newest" in master.stderr


def _opened(run) -> Vault:  # noqa: F811
    """The same vault, opened in this process (quicker than a command per check)."""
    settings = Settings(data_dir=_data(run), database_url=run.env.get("CASEVAULT_DATABASE_URL"))
    return Vault.open(settings, PASSPHRASE)


@pytest.mark.parametrize("phase", ["blobs", "commit"])
def test_a_reencryption_killed_with_sigkill_is_finished_by_running_it_again(run, phase):  # noqa: F811
    with _opened(run) as vault:
        case = vault.case(MANIFEST["case"])
        documents = [ingest_bytes(vault, case, f"[00:00:0{i}] H: call {i} about the hearing.\n".encode(),
                                  f"call-{i}.txt").id for i in range(4)]
        vault.rotate_keys(actor="tester")
        vault.rewrap(actor="tester")
    env = {**run.env, TEST_PAUSE_ENV: f"2:{phase}"}
    with subprocess.Popen([sys.executable, "-m", "web", "keys", "reencrypt"], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True) as child:
        try:
            line = child.stdout.readline()
            assert line.startswith("paused"), child.stderr.read()
        finally:
            child.send_signal(signal.SIGKILL)
    with _opened(run) as vault:
        done_before = {u.version: u.blobs for u in vault.key_status().case_key_uses}[2] // 3
        assert done_before == 2  # killed after two documents (at "commit": the second's old files remain)

    finished = json.loads(run("keys", "reencrypt", "--json").stdout)

    assert finished["documents"] == 4 - done_before and finished["left"] == 0, finished  # nothing redone
    # the kill left files no row names: new ones not yet published (at "blobs", swept from
    # .incoming when the vault opens once they are old enough) or old ones (at "commit")
    leftovers = (len(_blob_files(run)) - 4 * 3, len(list(_data(run).glob("blobs/.incoming/*.tmp"))))
    assert leftovers == ((0, 3) if phase == "blobs" else (3, 0))
    swept = json.loads(run("housekeeping", "--grace", "0", "--json").stdout)
    assert swept["orphan_blobs_removed"] == (0 if phase == "blobs" else 3)
    assert len(_blob_files(run)) == 4 * 3
    with _opened(run) as vault:
        for document in documents:
            assert "hearing" in vault.content(document, actor="tester").text
        vault.retire_case_key_version(1, actor="tester")
        assert vault.verify_audit().intact
        entries = vault.audit_entries(limit=500)
        # each document's swap is audited in its own transaction, the killed run's too; the
        # summary per case only by the run that finished the case
        assert sorted(e.target for e in entries if e.action == "keys.reencrypt-document") == sorted(documents)
        assert [e.details["documents"] for e in entries if e.action == "keys.reencrypt"] == [4 - done_before]
