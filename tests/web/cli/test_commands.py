"""The `casevault` command, run as a user runs it: a real process, real files, real databases."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import DEMO_CORPUS, DEMO_DIR, PASSPHRASE, set_document_dates

MANIFEST = json.loads((DEMO_DIR / "manifest.json").read_text())


ROOT = Path(__file__).resolve().parents[3]


def test_the_casevault_command_is_installed():
    executable = shutil.which("casevault")
    assert executable, "the casevault command is not installed: run `python3 -m pip install -e '.[test]'`"
    result = subprocess.run([executable, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "ingest" in result.stdout


@pytest.fixture
def run(tmp_path, database_url):
    # `python -m web` from this source tree: the code under test, whatever else is installed
    executable, prefix = sys.executable, ["-m", "web"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEVAULT_")}
    env.update(CASEVAULT_DATA=str(tmp_path / "data"), CASEVAULT_PASSPHRASE=PASSPHRASE,
               PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    if database_url:
        env["CASEVAULT_DATABASE_URL"] = database_url

    def run(*args: str, check: bool = True, **overrides: str | None) -> subprocess.CompletedProcess[str]:
        call_env = {**env, **{k: v for k, v in overrides.items() if v is not None}}
        for key in [k for k, v in overrides.items() if v is None]:
            call_env.pop(key, None)
        result = subprocess.run([executable, *prefix, *args], env=call_env, capture_output=True, text=True,
                                stdin=subprocess.DEVNULL, timeout=120)
        assert "Traceback" not in result.stderr, result.stderr
        if check:
            assert result.returncode == 0, result.stderr
        return result

    run("init")
    run("case", "create", MANIFEST["case"])
    run.env = env  # type: ignore[attr-defined]  # for a command that keeps running (serve)
    return run


def _ingest_demo(run) -> list[dict[str, object]]:
    result = run("ingest", str(DEMO_CORPUS), "--case", MANIFEST["case"], "--json")
    return json.loads(result.stdout)


def test_ingest_a_directory_and_show_every_document(run):
    results = _ingest_demo(run)
    by_file = {Path(r["path"]).name: r for r in results}
    for entry in MANIFEST["documents"]:
        result = by_file[entry["file"]]
        assert result["status"] == "in_review", result
        assert result["kind"] == entry["kind"]
        shown = json.loads(run("show", result["id"], "--json").stdout)
        assert shown["format"] == entry["format"], entry["file"]
        if entry["kind"] == "transcript":
            assert len(shown["turns"]) == entry["turns"], entry["file"]
            assert all(set(t) == {"speaker", "start", "end", "text"} for t in shown["turns"])
        else:
            assert len(shown["pages"]) == entry["pages"], entry["file"]
    cases = json.loads(run("case", "list", "--json").stdout)
    assert cases[0]["documents"] == len(MANIFEST["documents"])


def test_a_command_that_writes_brings_the_search_index_up_to_it(run, settings):
    # an ingest by the command line is indexed before the command returns, not when a server next opens the index
    from search import Search
    from vault import DocumentStatus, Vault

    _ingest_demo(run)
    with Vault.open(settings, PASSPHRASE) as vault:
        case = vault.case(MANIFEST["case"])
        unopened = Search(vault, settings.index_dir)  # reads what is on disk; applies nothing itself
        case_mark = unopened.follower.index(case.id, DocumentStatus.RELEASED).mark()  # the case's outbox mark
        assert case_mark == vault.feed.latest_index_change() > 0
        unopened.close()


def test_ingest_again_reports_duplicates_and_succeeds(run):
    _ingest_demo(run)
    again = _ingest_demo(run)
    assert {r["status"] for r in again} == {"duplicate"}


def test_one_bad_file_fails_alone(run, tmp_path):
    folder = tmp_path / "upload"
    folder.mkdir()
    (folder / "good.txt").write_text("H: Je ne rentrerai pas.\nQM: Il le faut.\n")
    (folder / "bad.pdf").write_text("H: this is text, not a PDF\n")
    result = run("ingest", str(folder), "--case", MANIFEST["case"], "--json", check=False)
    assert result.returncode == 1
    outcome = {Path(r["path"]).name: r for r in json.loads(result.stdout)}
    assert outcome["good.txt"]["status"] == "in_review"
    assert outcome["bad.pdf"]["status"] == "failed" and outcome["bad.pdf"]["error"] == "TYPE_MISMATCH"


def test_show_prints_turns_with_speakers_and_times(run, tmp_path):
    source = tmp_path / "call.txt"
    source.write_text("[00:01:07] H: Je ne rentrerai pas.\n[00:01:12] QM: Ta mère t'attend.\n")
    document_id = run("ingest", str(source), "--case", MANIFEST["case"]).stdout.split()[0]
    shown = run("show", document_id).stdout
    assert "[00:01:07] H: Je ne rentrerai pas." in shown
    assert "[00:01:12] QM: Ta mère t'attend." in shown


def test_errors_are_one_line_that_says_what_to_do(run):
    cases = [
        (("show", "00000000-0000-0000-0000-000000000000"), {}, "no such document"),
        (("show", "../../etc/passwd"), {}, "no such document"),
        (("ingest", "/nonexistent/file.pdf", "--case", MANIFEST["case"]), {}, "no such file"),
        (("ingest", str(DEMO_CORPUS), "--case", "No such case"), {}, "casevault case list"),
        (("case", "list"), {"CASEVAULT_PASSPHRASE": PASSPHRASE + "x"}, "does not open this vault"),
        (("case", "list"), {"CASEVAULT_PASSPHRASE": None}, "set CASEVAULT_PASSPHRASE"),
        (("case", "list"), {"CASEVAULT_COLOUR": "blue"}, "unknown setting CASEVAULT_COLOUR"),
        (("init",), {}, "a vault already exists here"),
        (("case", "create", MANIFEST["case"]), {}, "exists already"),
    ]
    for args, env, message in cases:
        result = run(*args, check=False, **env)
        assert result.returncode != 0, args
        assert message in result.stderr + result.stdout, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) <= 2, result.stderr


def _without_public_key(output: str, status: dict[str, object]) -> str:
    """The output less the audit signing key's public key and fingerprint: public by design."""
    line = f"audit signing key: {status['audit_key_fingerprint']} (public key {status['audit_public_key']})"
    assert line in output
    return output.replace(line, "")


def test_keys_status_shows_versions_not_material(run):
    output = run("keys", "status").stdout
    assert "seal: passphrase (Argon2id, 64 MiB, 3 iterations" in output
    assert "master key v1: wraps 7 system keys, 1 case keys, 6 scope keys" in output
    status = json.loads(run("keys", "status", "--json").stdout)
    assert not re.search(r"[0-9a-f]{32}|[A-Za-z0-9+/]{40}", _without_public_key(output, status)), output
    assert status["seal"]["passphrase"]["memory_kib"] == 65536 and status["seal"]["shares"] is None
    assert status["master_key"][0]["wraps"] == {"system_keys": 7, "case_keys": 1, "scope_keys": 6}


def test_keys_rotate_then_rewrap_moves_documents_to_the_new_case_key(run):
    first = _ingest_demo(run)
    status = json.loads(run("keys", "rotate", "--case", MANIFEST["case"], "--json").stdout)
    assert status["case_keys_by_version"] == {"1": 1, "2": 1}
    assert status["documents_by_case_key_version"] == {"1": len(first)}
    text = run("keys", "rotate").stdout  # every case: the demo case goes to version 3
    assert "case keys v3: 1 cases" in text
    assert not re.search(r"[0-9a-f]{32}|[A-Za-z0-9+/]{40}", _without_public_key(text, status)), text
    rewrapped = json.loads(run("keys", "rewrap", "--json").stdout)
    assert rewrapped["documents_by_case_key_version"] == {"3": len(first)}
    shown = json.loads(run("show", str(first[0]["id"]), "--json").stdout)
    assert shown["case"] == MANIFEST["case"] and shown["text"]
    missing = run("keys", "rotate", "--case", "No such case", check=False)
    assert missing.returncode == 1 and "no such case" in missing.stderr


def test_audit_verify_names_the_broken_position(run, tmp_path, database_url):
    _ingest_demo(run)
    assert "audit log intact" in run("audit", "verify").stdout
    if database_url:
        import sqlalchemy as sa

        engine = sa.create_engine(database_url)
        with engine.begin() as connection:
            connection.execute(sa.text("update audit_log set actor = 'mallory' where seq = 3"))
        engine.dispose()
    else:
        with sqlite3.connect(tmp_path / "data" / "casevault.db") as connection:
            connection.execute("update audit_log set actor = 'mallory' where seq = 3")
    result = run("audit", "verify", check=False)
    assert result.returncode == 1
    assert "audit log broken at position 3" in result.stderr


def _raw_sql(tmp_path, database_url, statement: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(database_url or f"sqlite:///{tmp_path / 'data' / 'casevault.db'}")
    with engine.begin() as connection:
        connection.execute(sa.text(statement))
    engine.dispose()


def test_a_role_raised_by_raw_sql_is_refused_in_one_line(run, tmp_path, database_url):
    """SECURITY-TESTS 61 at the command line: the operator's listing refuses the forged row."""
    run("user", "add", "ivy", "--role", "investigator", "--case", MANIFEST["case"])
    assert "ivy" in run("user", "list").stdout
    _raw_sql(tmp_path, database_url, "update user_account set role = 'admin' where name = 'ivy'")
    result = run("user", "list", check=False)
    assert result.returncode == 1 and "admin" not in result.stdout
    assert result.stderr.strip().count("\n") == 0 and "integrity check" in result.stderr
    import sqlalchemy as sa

    engine = sa.create_engine(database_url or f"sqlite:///{tmp_path / 'data' / 'casevault.db'}")
    with engine.connect() as connection:
        assert connection.scalar(sa.text("select count(*) from audit_log where action = 'integrity.tampered'")) == 1
    engine.dispose()


def test_db_grant_app_role(run, database_url, postgres_engine):
    """On PostgreSQL the role is made (tests/vault/test_app_role.py runs a vault as it); SQLite has
    no roles, and the command says what the control is there."""
    import secrets

    import sqlalchemy as sa

    role = f"cv_app_{secrets.token_hex(5)}"
    result = run("db", "grant-app-role", role, check=False)
    if database_url is None:
        assert result.returncode == 1 and "audit verify" in result.stderr and result.stderr.count("\n") == 1
        return
    try:
        assert result.returncode == 0 and "only read and append to audit_log" in result.stdout, result.stderr
    finally:
        with postgres_engine.connect() as connection:
            if connection.scalar(sa.text("select 1 from pg_roles where rolname = :r"), {"r": role}):
                connection.execute(sa.text(f'drop owned by "{role}"'))
                connection.execute(sa.text(f'drop role "{role}"'))


def test_user_add_prints_an_enrolment_code_once(run):
    added = json.loads(run("user", "add", "ivy", "--role", "investigator", "--case", MANIFEST["case"], "--json").stdout)
    assert set(added) == {"name", "role", "enrolment_code"}
    assert added["name"] == "ivy" and added["role"] == "investigator" and added["enrolment_code"].startswith("cve_")
    listed = run("user", "list", "--json").stdout
    assert added["enrolment_code"] not in listed and added["enrolment_code"][4:] not in listed
    assert json.loads(listed)[0]["name"] == "ivy" and json.loads(listed)[0]["cases"]  # the operator's: confirmed
    refused = run("user", "add", "ivy", "--role", "reviewer", check=False)
    assert refused.returncode == 1 and "exists already" in refused.stderr


def test_the_operator_confirms_a_membership_an_admin_made(run, settings):
    """A case with no reviewer: only the operator (the CLI, with the passphrase) lets an admin's
    membership reach it."""
    run("user", "add", "ada", "--role", "admin")
    run("user", "add", "walt", "--role", "investigator")
    from vault import Vault
    with Vault.open(settings, PASSPHRASE) as vault:
        vault.set_membership("walt", vault.case(MANIFEST["case"]), member=True, actor="ada (api)", by=vault.user("ada"))
        assert vault.user("walt").cases == frozenset()
    waiting = json.loads(run("user", "waiting", "--json").stdout)
    assert [(w["user"], w["case"], w["requested_by"]) for w in waiting] == [("walt", MANIFEST["case"], "ada (api)")]
    assert "confirmed" in run("user", "confirm", "walt", "--case", MANIFEST["case"]).stdout
    with Vault.open(settings, PASSPHRASE) as vault:
        assert vault.user("walt").cases == frozenset({vault.case(MANIFEST["case"]).id})
    again = run("user", "confirm", "walt", "--case", MANIFEST["case"], check=False)
    assert again.returncode == 1 and "no membership of walt" in again.stderr


def test_a_file_name_that_is_not_utf8_does_not_stop_the_batch(run, tmp_path):
    folder = tmp_path / "upload"
    folder.mkdir()
    (folder / "a-good.txt").write_text("H: Je ne rentrerai pas.\nQM: Il le faut.\n")
    (folder / os.fsdecode(b"b-\xff.txt")).write_text("H: encore\nQM: toujours\n")
    (folder / "c-good.txt").write_text("H: non\nQM: si\n")
    outcome = json.loads(run("ingest", str(folder), "--case", MANIFEST["case"], "--json").stdout)
    assert [r["status"] for r in outcome] == ["in_review"] * 3
    assert outcome[1]["path"].endswith("b-\\xff.txt")


def test_an_unreachable_database_says_where(run):
    result = run("case", "list", check=False, CASEVAULT_DATABASE_URL="postgresql://postgres@127.0.0.1:1/test")
    assert result.returncode == 1
    assert "cannot reach the database at 127.0.0.1:1" in result.stderr


def test_review_and_policy_view_through_the_command_line(run, tmp_path):
    case_name = MANIFEST["case"]
    call = tmp_path / "call.txt"
    call.write_text("[00:00:04] QM: Hadrien, come home. Your mother waits.\n"
                    "[00:00:09] H: Mr Malaure, I will not come back.\n")
    document_id = run("ingest", str(call), "--case", case_name).stdout.split()[0]
    for name, role in (("ivy", "investigator"), ("rex", "reviewer"), ("ada", "admin")):
        run("user", "add", name, "--role", role, "--case", case_name)
    run("identity", "add", "--case", case_name, "--name", "Hadrien Quillon", "--alias", "Hadrien",
        "--alias", "Quillon", "--pseudonym", "H")
    run("identity", "add", "--case", case_name, "--name", "Quentin Malaure", "--alias", "Malaure",
        "--alias", "QM", "--pseudonym", "Caller 1")

    waiting = json.loads(run("review", "list", "--as", "rex", "--json").stdout)
    assert [d["id"] for d in waiting] == [document_id]
    review = json.loads(run("review", "show", document_id, "--as", "rex", "--json").stdout)
    assert {s["identity"] for s in review["spans"]} == {"H", "Caller 1"}
    assert all(set(s) >= {"id", "category", "text", "start", "end"} for s in review["suggestions"])
    undecided = [s["id"] for s in review["suggestions"] if s["state"] == "pending"]
    assert undecided, "the unregistered speaker label H should be suggested"

    refused = run("review", "approve", document_id, "--as", "rex", check=False)
    assert refused.returncode == 1 and f"{len(undecided)} suggestion" in refused.stderr
    run("review", "accept", document_id, *undecided, "--as", "rex", "--identity", "H")
    run("review", "add", document_id, "--unit", "0", "--start", "25", "--end", "37", "--category", "relative",
        "--as", "rex")
    run("review", "approve", document_id, "--as", "rex")

    seen = run("show", document_id, "--as", "ivy", "--json").stdout
    view = json.loads(seen)
    assert [t["speaker"] for t in view["turns"]] == ["Caller 1", "H"]
    assert view["turns"][0]["text"] == "H, come home. Your [relative]."
    for secret in ("Hadrien", "Quillon", "Malaure", "Quentin", "real_name", "filename"):
        assert secret.casefold() not in seen.casefold(), f"ivy saw {secret!r}"
    listed = json.loads(run("identity", "list", "--case", case_name, "--as", "ivy", "--json").stdout)
    assert {r["pseudonym"] for r in listed} == {"H", "Caller 1"} and all("name" not in r for r in listed)
    cleared = json.loads(run("identity", "list", "--case", case_name, "--as", "rex", "--json").stdout)
    assert {r["name"] for r in cleared} == {"Hadrien Quillon", "Quentin Malaure"}
    for args in (("show", document_id, "--as", "ada"), ("identity", "list", "--case", case_name, "--as", "ada")):
        hidden = run(*args, check=False)
        assert hidden.returncode == 1 and ("no such" in hidden.stderr), hidden.stderr


def test_unmask_through_the_command_line(run, tmp_path):
    case_name = MANIFEST["case"]
    call = tmp_path / "call.txt"
    call.write_text("[00:00:04] QM: Come home.\n[00:00:09] QM: Your mother waits.\n")
    document_id = run("ingest", str(call), "--case", case_name).stdout.split()[0]
    for name, role in (("ivy", "investigator"), ("rex", "reviewer")):
        run("user", "add", name, "--role", role, "--case", case_name)
    run("identity", "add", "--case", case_name, "--name", "Quentin Malaure", "--alias", "QM", "--pseudonym", "Caller 1")
    run("review", "approve", document_id, "--as", "rex")
    assert "Caller 1" in run("show", document_id, "--as", "ivy").stdout

    short = run("unmask", "request", "--case", case_name, "--identity", "Caller 1", "--reason", "because",
                "--as", "ivy", check=False)
    assert short.returncode == 1 and "justification" in short.stderr
    request_id = run("unmask", "request", "--case", case_name, "--identity", "Caller 1", "--reason",
                     "He made the threats in call 1; we need to match him to the 2023 file.", "--as", "ivy").stdout.split()[0]
    own = run("unmask", "approve", request_id, "--as", "ivy", check=False)
    assert own.returncode == 1
    assert "approved until" in run("unmask", "approve", request_id, "--as", "rex", "--hours", "2").stdout
    assert "Quentin Malaure: Come home." in run("show", document_id, "--as", "ivy").stdout
    run("unmask", "revoke", request_id, "--as", "rex")
    shown = run("show", document_id, "--as", "ivy").stdout
    assert "Caller 1: Come home." in shown and "Malaure" not in shown
    listed = json.loads(run("unmask", "list", "--case", case_name, "--as", "rex", "--json").stdout)
    assert [(r["identity"], r["state"]) for r in listed] == [("Caller 1", "revoked")]


def test_archive_scope_and_identity_edit_through_the_command_line(run, tmp_path):
    call = tmp_path / "call.txt"
    call.write_text("[00:00:04] QM: Tell Odile to come home.\n")
    run("case", "create", "North", "--archive-scope")
    run("case", "create", "South", "--archive-scope")
    scopes = {c["name"]: c["scope"] for c in json.loads(run("case", "list", "--json").stdout)}
    assert scopes == {MANIFEST["case"]: "case", "North": "archive", "South": "archive"}
    document_id = run("ingest", str(call), "--case", "South").stdout.split()[0]
    run("user", "add", "rex", "--role", "reviewer", "--case", "South")
    run("identity", "add", "--case", "North", "--name", "Quentin Malaure", "--alias", "QM", "--pseudonym", "Caller 1")
    run("identity", "edit", "Caller 1", "--case", "South", "--alias", "Odile", "--pseudonym", "Caller 2")
    review = json.loads(run("review", "show", document_id, "--as", "rex", "--json").stdout)
    assert {(s["text"], s["identity"]) for s in review["spans"]} == {("QM", "Caller 2"), ("Odile", "Caller 2")}
    missing = run("identity", "edit", "Caller 1", "--case", "South", "--alias", "X", check=False)
    assert missing.returncode == 1 and "identity list" in missing.stderr
    nothing = run("identity", "edit", "Caller 2", "--case", "South", check=False)
    assert nothing.returncode == 1 and "nothing to change" in nothing.stderr


def test_search_through_the_command_line(run, tmp_path):
    case_name = MANIFEST["case"]
    call = tmp_path / "call.txt"
    call.write_text("[00:00:04] QM: The noose will tighten.\n[00:00:09] QM: Come home to your sister.\n")
    document_id = run("ingest", str(call), "--case", case_name).stdout.split()[0]
    for name, role in (("ivy", "investigator"), ("rex", "reviewer")):
        run("user", "add", name, "--role", role, "--case", case_name)
    run("identity", "add", "--case", case_name, "--name", "Quentin Malaure", "--alias", "QM", "--pseudonym", "Caller 1")
    run("review", "approve", document_id, "--as", "rex")
    answer = json.loads(run("search", '"noose tighten"', "--as", "ivy", "--json").stdout)
    assert answer["total"] == 1 and set(answer) == {"total", "page", "hits", "facets"}
    [hit] = answer["hits"]
    assert set(hit) == {"id", "kind", "case", "score", "location", "snippets"} and hit["id"] == document_id
    assert hit["location"]["speaker"] == "Caller 1" and "Malaure" not in json.dumps(answer)
    assert "1 results" in run("search", "sister", "--as", "ivy").stdout
    refused = run("search", "*ister", "--as", "ivy", check=False)
    assert refused.returncode == 1 and "QUERY_NOT_ALLOWED" in refused.stderr and "Traceback" not in refused.stderr
    assert "1 documents indexed" in run("reindex").stdout


def test_search_sorts_by_date_through_the_command_line(run, tmp_path, database_url):
    ids = {}
    for name in ("old", "new"):
        call = tmp_path / f"{name}.txt"
        call.write_text(f"[00:00:04] QM: The noose, the {name} call.\n[00:00:09] QM: Goodbye.\n")
        ids[name] = run("ingest", str(call), "--case", MANIFEST["case"]).stdout.split()[0]
    run("user", "add", "rex", "--role", "reviewer", "--case", MANIFEST["case"])  # sees them in review
    engine = sa.create_engine(database_url or f"sqlite:///{tmp_path / 'data' / 'casevault.db'}")
    set_document_dates(engine, {ids["old"]: date(2024, 3, 1), ids["new"]: date(2024, 3, 9)})
    engine.dispose()
    run("reindex")  # the index reads the day when it is rebuilt
    for sort, order in (("newest", ["new", "old"]), ("oldest", ["old", "new"])):
        answer = json.loads(run("search", "noose", "--as", "rex", "--sort", sort, "--json").stdout)
        assert [h["id"] for h in answer["hits"]] == [ids[name] for name in order], sort
    assert [h["location"]["date"] for h in answer["hits"]] == ["2024-03-01", "2024-03-09"]
    text = run("search", "noose", "--as", "rex", "--sort", "oldest").stdout
    assert text.index("2024-03-01") < text.index("2024-03-09")
    refused = run("search", "noose", "--as", "rex", "--sort", "date", check=False)
    assert refused.returncode == 2 and "'relevance', 'newest', 'oldest'" in refused.stderr


def test_serve_refuses_to_start_on_a_wrong_passphrase(run):
    refused = run("serve", "--port", "0", check=False, CASEVAULT_PASSPHRASE="not the passphrase at all")
    assert refused.returncode == 1 and "passphrase" in refused.stderr.lower()


def test_serve_believes_no_x_forwarded_for_unless_told_which_proxies_to_trust(run):
    """mallory, on the server's own host, sends a made-up X-Forwarded-For with each guess of ivy's
    password (uvicorn on its own believes one from a loopback peer)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "web", "serve", "--port", str(port)], env=run.env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as mallory:
            deadline = time.monotonic() + 60
            while True:
                try:
                    page = mallory.get("/login")
                    break
                except httpx.TransportError:
                    assert server.poll() is None and time.monotonic() < deadline, "serve did not start"
                    time.sleep(0.1)
            token = re.search(r'name="sign_in_token" value="([^"]+)"', page.text).group(1)
            answers = [mallory.post("/login", data={"sign_in_token": token, "name": "ivy", "password": "guess"},
                                    headers={"cookie": f"__Host-casevault-signin={token}",
                                             "x-forwarded-for": f"198.51.100.{i + 1}"})
                       for i in range(11)]
            answers = ["refused" if a.headers.get("location") == "/login?notice=failed" else a.status_code
                       for a in answers]  # a refused sign-in redirects back to the form (post-redirect-get)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert answers == ["refused"] * 10 + [429], (
        f"mallory dodged the sign-in throttle for ivy with a made-up X-Forwarded-For: {answers}")


def _demo(tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEVAULT_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    result = subprocess.run([sys.executable, "-m", "web", "demo", "--dir", str(tmp_path / "demo"), *args],
                            env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def test_the_demo_sets_up_a_reviewed_corpus_and_a_user_per_role(tmp_path):
    result = _demo(tmp_path, "--no-serve")
    assert result.returncode == 0, result.stderr
    users = re.findall(r"(investigator|reviewer|admin)\s+(\w+)\s+password (\S+)\s+access key (cvk_\S+)", result.stdout)
    assert {role for role, *_ in users} == {"investigator", "reviewer", "admin"} and len(users) == 4
    passphrase = re.search(r"passphrase \(shown once\): (\S+)", result.stdout).group(1)
    from vault import Settings, Vault
    with Vault.open(Settings(data_dir=tmp_path / "demo"), passphrase) as vault:
        documents = vault.documents()
        assert len(documents) == len(MANIFEST["documents"])
        assert sum(d.status.value == "in_review" for d in documents) == 1  # one left for the review queue
        ivy = vault.user("ivy")
        released = [d for d in documents if d.status.value == "released"]
        text = json.dumps([vault.view(d.id, ivy, actor="test").units for d in released], default=str)
        for identity in MANIFEST["identities"]:
            assert identity["name"] not in text and identity["pseudonym"] in text
        for _role, name, password, _key in users:  # the printed passwords sign in, with no second factor
            assert vault.sign_in(name, password, None, totp_required=False).session.user.name == name


def test_user_join_and_leave_a_case(run, settings):
    """The operator's memberships: join holds at once (and confirms one an admin left waiting),
    leave removes a confirmed or a waiting one; unknown users and cases are one clear line."""
    run("case", "create", "South")
    run("user", "add", "ivy", "--role", "investigator", "--case", MANIFEST["case"])
    joined = json.loads(run("user", "join", "ivy", "--case", "South", "--json").stdout)
    assert joined == {"user": "ivy", "case": "South", "case_id": joined["case_id"], "member": True}
    listed = {u["name"]: u for u in json.loads(run("user", "list", "--json").stdout)}
    assert joined["case_id"] in listed["ivy"]["cases"] and len(listed["ivy"]["cases"]) == 2
    assert run("user", "leave", "ivy", "--case", "South").stdout.strip() == "ivy left case South"
    listed = {u["name"]: u for u in json.loads(run("user", "list", "--json").stdout)}
    assert joined["case_id"] not in listed["ivy"]["cases"] and len(listed["ivy"]["cases"]) == 1
    again = run("user", "leave", "ivy", "--case", "South", check=False)
    assert again.returncode == 1 and "not a member" in again.stderr and again.stderr.count("\n") == 1
    for args, said in ((("join", "nobody", "--case", "South"), "no user named nobody"),
                       (("join", "ivy", "--case", "Nowhere"), "no such case"),
                       (("leave", "nobody", "--case", "South"), "no user named nobody")):
        refused = run("user", *args, check=False)
        assert refused.returncode == 1 and said in refused.stderr and refused.stderr.count("\n") == 1, refused.stderr
        assert "`casevault " in refused.stderr  # what to run next
    run("user", "add", "ada", "--role", "admin")
    from vault import Vault
    with Vault.open(settings, PASSPHRASE) as vault:
        vault.set_membership("ivy", vault.case("South"), member=True, actor="ada (api)", by=vault.user("ada"))
        assert joined["case_id"] in vault.user("ivy").pending
    assert "joined" in run("user", "join", "ivy", "--case", "South").stdout  # the operator's: confirmed
    with Vault.open(settings, PASSPHRASE) as vault:
        ivy = vault.user("ivy")
        assert joined["case_id"] in ivy.cases and joined["case_id"] not in ivy.pending
        actions = [e.action for e in vault.audit_entries(limit=1000)]
    assert actions.count("membership.add") == 3 and actions.count("membership.remove") == 1


def test_the_demo_leaves_a_review_state_a_reviewer_would(tmp_path):
    result = _demo(tmp_path, "--no-serve")
    assert result.returncode == 0, result.stderr
    passphrase = re.search(r"passphrase \(shown once\): (\S+)", result.stdout).group(1)
    rejects = {entry["text"] for entry in MANIFEST["demo_review"]["reject"]}
    from vault import Settings, Vault
    with Vault.open(Settings(data_dir=tmp_path / "demo"), passphrase) as vault:
        documents = vault.documents()
        decided = [r for d in documents if d.status.value == "released"
                   for r in [*(r for u in vault.masked(d.id).units for r in u.suggestions),
                             *vault.masked(d.id).title_suggestions]]
        states = {r["state"] for r in decided}
        assert states == {"accepted", "rejected"}, f"a released document still has undecided suggestions: {states}"
        rejected = {r["text"] for r in decided if r["state"] == "rejected" and r["category"] != "not_identity"}
        # the judges (public roles), half of the seaport Port-Quillan and the requesting state stay visible
        assert {"Jean-Baptiste Ferréol", "Quillan", "République de Keldavie"} <= rejected
        assert rejected <= rejects
        assert not [r for r in decided if r["state"] == "accepted" and r["text"] in rejects]
        # the clerk "Hadrien Mercadier" is not H: his surname is never accepted as a mask
        assert not [r for r in decided if "Mercadier" in str(r["text"]) and r["state"] != "rejected"]
        # and each mention of H's alias "Hadrien" inside the clerk's name is marked not H: the
        # masked text investigators read holds his name, and no other "Hadrien"
        masked_texts = [u.text for d in documents for u in vault.masked(d.id).units]
        assert any("Hadrien Mercadier" in text for text in masked_texts)
        assert not [t for t in masked_texts if re.search(r"Hadrien(?! Mercadier)", t)]
        # speaker labels are linked to the identity they name (the transcript's "H" is H)
        h = next(i for i in vault.identities(vault.case(MANIFEST["case"])) if i.label == "H")
        speakers = [r for r in decided if r.get("field") == "speaker"]
        assert speakers and all(r["state"] == "accepted" and r.get("identity_id") == h.id for r in speakers), speakers
        # the document in the queue was uploaded by the investigator: either reviewer may release it
        (queued,) = [d for d in documents if d.status.value == "in_review"]
        assert queued.uploaded_by == vault.user("ivy").id
        assert vault.release(queued.id, vault.user("rex"), actor="test").status.value == "released"


def test_the_demo_says_how_to_point_the_command_line_at_its_vault(tmp_path):
    result = _demo(tmp_path, "--no-serve")
    assert result.returncode == 0, result.stderr
    line = re.search(r"export (CASEVAULT_DATA=\S+) (CASEVAULT_PASSPHRASE=\S+)", result.stdout)
    assert line, result.stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEVAULT_")}
    env.update(dict(pair.split("=", 1) for pair in line.groups()))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    listed = subprocess.run([sys.executable, "-m", "web", "review", "list", "--as", "rex", "--json"], env=env,
                            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 1  # the printed settings open the demo vault: its queue


def test_the_demo_refuses_a_taken_port_before_building_anything(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _demo(tmp_path, "--port", str(port))
    assert result.returncode != 0
    assert result.stderr.strip() == (f"error: port {port} on 127.0.0.1 is taken (another server is running?); "
                                     "choose another with --port, or stop the other server")
    assert result.stdout == ""
    assert not (tmp_path / "demo").exists(), "the demo built a vault before finding its port taken"
