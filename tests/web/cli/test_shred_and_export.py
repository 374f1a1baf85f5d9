"""`casevault case destroy`, `casevault audit export` and `casevault audit verify --file`, run as
an operator runs them: a real process, real files, SQLite and PostgreSQL."""

from __future__ import annotations

import json

from tests.web.cli.test_commands import MANIFEST, run  # noqa: F401 - the `run` fixture

CASE = MANIFEST["case"]


def _ingest_two(run, tmp_path) -> list[dict[str, object]]:
    folder = tmp_path / "calls"
    folder.mkdir()
    (folder / "one.txt").write_text("H: Je ne rentrerai pas.\nQM: Il le faut.\n")
    (folder / "two.txt").write_text("QM: La notice rouge arrive.\nH: Je sais.\n")
    return json.loads(run("ingest", str(folder), "--case", CASE, "--json").stdout)


def _case_id(run) -> str:
    return next(c["id"] for c in json.loads(run("case", "list", "--json").stdout) if c["name"] == CASE)


def test_destroy_without_yes_says_what_it_would_destroy_and_keeps_everything(run, tmp_path):
    results = _ingest_two(run, tmp_path)
    refused = run("case", "destroy", CASE, check=False)
    assert refused.returncode == 1
    message = refused.stderr.strip()
    assert message.count("\n") == 0 and "--yes" in message
    assert f"{len(results)} documents" in message and CASE not in message
    assert json.loads(run("show", results[0]["id"], "--json").stdout)["id"] == results[0]["id"]


def test_destroy_shreds_the_case_and_the_audit_log_keeps_the_entry(run, tmp_path):
    results = _ingest_two(run, tmp_path)
    case_id = _case_id(run)
    index = tmp_path / "data" / "index" / case_id
    assert index.exists()
    done = run("case", "destroy", CASE, "--yes")
    assert f"{len(results)} documents" in done.stdout and CASE not in done.stdout
    assert not index.exists(), "the case's search index is still on disk"
    assert CASE not in run("case", "list").stdout
    for result in results:
        gone = run("show", result["id"], check=False)
        assert gone.returncode == 1 and "no such document" in gone.stderr
    again = run("case", "destroy", CASE, "--yes", check=False)
    assert again.returncode == 1 and "no such case" in again.stderr
    assert "audit log intact" in run("audit", "verify").stdout
    export = tmp_path / "audit.jsonl"
    run("audit", "export", str(export))
    entries = [json.loads(line) for line in export.read_text().splitlines()[1:-1]]
    assert [e["target"] for e in entries if e["action"] == "case.destroy"] == [case_id]
    run("case", "create", CASE)  # the name is free again
    assert _case_id(run) != case_id


def test_export_then_verify_the_file_without_any_vault(run, tmp_path):
    export = tmp_path / "audit.jsonl"
    printed = run("audit", "export", str(export)).stdout
    fingerprint = next(word for word in printed.split() if word.startswith("ed25519:"))
    status = run("keys", "status", "--json").stdout
    assert json.loads(status)["audit_key_fingerprint"] == fingerprint
    # no data directory, no database, no passphrase: only the file and the key kept apart
    alone = {"CASEVAULT_DATA": None, "CASEVAULT_PASSPHRASE": None, "CASEVAULT_DATABASE_URL": None}
    checked = run("audit", "verify", "--file", str(export), "--public-key", fingerprint, **alone)
    assert "audit export intact" in checked.stdout and "signed by the key given" in checked.stdout
    untrusted = run("audit", "verify", "--file", str(export), **alone)
    assert fingerprint in untrusted.stdout and "--public-key" in untrusted.stdout
    later = tmp_path / "later.jsonl"
    run("case", "create", "Another case")
    run("audit", "export", str(later))
    assert "prefix" in run("audit", "verify", "--file", str(later), "--previous", str(export),
                           "--public-key", fingerprint, **alone).stdout
    backwards = run("audit", "verify", "--file", str(export), "--previous", str(later), check=False, **alone)
    assert backwards.returncode == 1 and "removed from the end" in backwards.stderr
    lines = export.read_text().splitlines(keepends=True)
    del lines[2]
    export.write_text("".join(lines))
    broken = run("audit", "verify", "--file", str(export), "--public-key", fingerprint, check=False, **alone)
    assert broken.returncode == 1 and "position 2" in broken.stderr and broken.stderr.count("\n") == 1


def test_export_never_overwrites_and_a_bad_key_is_one_line(run, tmp_path):
    export = tmp_path / "audit.jsonl"
    export.write_text("kept")
    refused = run("audit", "export", str(export), check=False)
    assert refused.returncode == 1 and export.read_text() == "kept"
    assert not list(tmp_path.glob(".*partial"))
    export.unlink()
    run("audit", "export", str(export))
    bad = run("audit", "verify", "--file", str(export), "--public-key", "nonsense", check=False)
    assert bad.returncode == 1 and "64 hex digits" in bad.stderr
    missing = run("audit", "verify", "--file", str(tmp_path / "nope.jsonl"), check=False)
    assert missing.returncode == 1 and "cannot read" in missing.stderr
