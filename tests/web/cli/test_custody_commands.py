"""`casevault keys passphrase`, `keys split`, unsealing every command with CASEVAULT_UNSEAL_SHARES,
`keys rotate --master` and `keys retire`, as a user runs them: a real process on both databases."""

from __future__ import annotations

import json

from tests.web.cli.test_commands import MANIFEST, run  # noqa: F401 - the fixture

NEW_PASSPHRASE = "a new passphrase for the vault"


def _shares_file(tmp_path, lines: list[str]) -> str:
    path = tmp_path / "shares.txt"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_keys_passphrase_changes_what_opens_the_vault(run):
    run("keys", "passphrase", CASEVAULT_NEW_PASSPHRASE=NEW_PASSPHRASE)
    refused = run("case", "list", check=False)
    assert refused.returncode == 1 and "the passphrase does not open this vault" in refused.stderr
    assert MANIFEST["case"] in run("case", "list", CASEVAULT_PASSPHRASE=NEW_PASSPHRASE).stdout
    weak = run("keys", "passphrase", check=False, CASEVAULT_PASSPHRASE=NEW_PASSPHRASE, CASEVAULT_NEW_PASSPHRASE="short")
    assert weak.returncode == 1 and "CASEVAULT_NEW_PASSPHRASE" in weak.stderr
    missing = run("keys", "passphrase", check=False, CASEVAULT_PASSPHRASE=NEW_PASSPHRASE)
    assert missing.returncode == 1 and "CASEVAULT_NEW_PASSPHRASE" in missing.stderr


def test_keys_split_then_every_command_unseals_with_a_file_of_shares(run, tmp_path):
    made = json.loads(run("keys", "split", "--shares", "3", "--threshold", "3", "--json").stdout)
    shares = made["shares"]
    assert made["threshold"] == 3 and len(shares) == 3
    status = json.loads(run("keys", "status", "--json").stdout)
    assert status["seal"]["shares"] == {"threshold": 3, "shares": 3} and status["seal"]["passphrase"]
    assert not any(share.split()[4] + " " + share.split()[5] in json.dumps(status) for share in shares)

    two = run("case", "list", check=False, CASEVAULT_PASSPHRASE=None,
              CASEVAULT_UNSEAL_SHARES=_shares_file(tmp_path, shares[:2]))
    assert two.returncode == 1
    assert two.stderr.strip() == "error: 2 of 3 shares given; 1 more needed to unseal the vault"
    words = shares[1].split()
    words[10] = "academic" if words[10] != "academic" else "acid"
    path = _shares_file(tmp_path, [shares[0], "", " ".join(words), shares[2]])
    typo = run("case", "list", check=False, CASEVAULT_PASSPHRASE=None, CASEVAULT_UNSEAL_SHARES=path)
    assert typo.returncode == 1 and f"line 3 of {path} is not a valid share" in typo.stderr
    assert not any(" ".join(words[i:i + 2]) in " ".join(typo.stderr.split()) for i in range(len(words) - 1))

    everything = _shares_file(tmp_path, [shares[2], "", shares[0], shares[1]])
    listed = run("case", "list", CASEVAULT_PASSPHRASE=None, CASEVAULT_UNSEAL_SHARES=everything)
    assert MANIFEST["case"] in listed.stdout

    dropped = run("keys", "split", "--shares", "2", "--threshold", "2", "--drop-passphrase")
    newer = [line.split(": ", 1)[1] for line in dropped.stdout.splitlines() if line.startswith("share ")]
    assert len(newer) == 2 and "the passphrase no longer unseals it" in dropped.stderr
    no_passphrase = run("case", "list", check=False)
    assert no_passphrase.returncode == 1 and "no longer opens with a passphrase" in no_passphrase.stderr
    old = run("case", "list", check=False, CASEVAULT_PASSPHRASE=None, CASEVAULT_UNSEAL_SHARES=everything)
    assert old.returncode == 1 and "belongs to another split" in old.stderr
    assert MANIFEST["case"] in run("case", "list", CASEVAULT_PASSPHRASE=None,
                                   CASEVAULT_UNSEAL_SHARES=_shares_file(tmp_path, newer)).stdout


def test_keys_rotate_master_and_retire(run):
    refused = run("keys", "retire", "1", check=False)
    assert refused.returncode == 1 and refused.stderr.strip() == (
        "error: master key version 1 is the newest and wraps new keys; make a newer one with "
        "`casevault keys rotate --master` first")
    rotated = run("keys", "rotate", "--master", "--json")
    assert "made master key v2" in rotated.stderr
    status = json.loads(rotated.stdout)
    assert [(m["version"], m["wraps"]["case_keys"]) for m in status["master_key"]] == [(1, 0), (2, 1)]
    retired = json.loads(run("keys", "retire", "1", "--json").stdout)
    assert [(m["version"], m["retired"]) for m in retired["master_key"]] == [(1, True), (2, False)]
    assert "master key v1: retired" in run("keys", "status").stdout
    again = run("keys", "retire", "1", check=False)
    assert again.returncode == 1 and "retired already" in again.stderr
    both = run("keys", "rotate", "--master", "--case", MANIFEST["case"], check=False)
    assert both.returncode != 0 and "leave out --case" in both.stderr


def test_serve_without_a_secret_starts_sealed_and_its_logs_hold_no_share(run, tmp_path):
    import socket
    import subprocess
    import sys
    import time

    import httpx

    shares = json.loads(run("keys", "split", "--shares", "3", "--threshold", "2", "--json").stdout)["shares"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in run.env.items() if k != "CASEVAULT_PASSPHRASE"}
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        server = subprocess.Popen([sys.executable, "-m", "web", "serve", "--port", str(port)], env=env,
                                  stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as custodian:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        health = custodian.get("/api/v1/health")
                        break
                    except httpx.TransportError:
                        assert server.poll() is None and time.monotonic() < deadline, log.read_text()
                        time.sleep(0.1)
                assert health.json() == {"status": "sealed"}
                assert custodian.get("/api/v1/cases").status_code == 503
                assert custodian.post("/api/v1/seal/shares", json={"share": shares[0] + " typo"}).status_code == 400
                assert custodian.post("/api/v1/seal/shares", json={"share": shares[2]}).json()["shares_given"] == 1
                assert custodian.post("/api/v1/seal/shares", json={"share": shares[0]}).json()["sealed"] is False
                assert custodian.get("/api/v1/cases").status_code == 401  # unsealed: now it asks who calls
        finally:
            server.terminate()
            server.wait(timeout=30)
    output = log.read_text()
    assert "vault sealed (any 2 of 3 shares)" in output and "POST /api/v1/seal/shares 200" in output
    words = " ".join(output.lower().split())
    assert not [s for s in shares for i in range(32) if " ".join(s.split()[i:i + 2]) in words]


def _on_a_terminal(run, *args: str, lines: list[str]) -> tuple[int, str, str]:
    """Run a command whose stdin and controlling terminal are a pseudo-terminal, typing ``lines``
    at its prompts one by one as they appear; its exit code, what the terminal showed, and stdout."""
    import fcntl
    import os
    import pty
    import select
    import subprocess
    import sys
    import termios
    import time

    env = {k: v for k, v in run.env.items() if k != "CASEVAULT_PASSPHRASE"}
    controller, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "web", *args], env=env, stdin=terminal,
                               stdout=subprocess.PIPE, stderr=terminal, start_new_session=True,
                               preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
    os.close(terminal)
    shown, pending, answered = "", list(lines), 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.05)
        if ready:
            try:
                shown += os.read(controller, 4096).decode(errors="replace")
            except OSError:  # the command ended and closed the terminal
                break
        elif process.poll() is not None:
            break
        echo_off = not termios.tcgetattr(controller)[3] & termios.ECHO
        if pending and shown.count("Share ") > answered and echo_off:  # a prompt waits, as a person sees it
            os.write(controller, (pending.pop(0) + "\n").encode())
            answered += 1
    if process.poll() is None:  # still waiting for a share it never got
        process.kill()
    with process.stdout:
        printed = process.stdout.read().decode()
    process.wait(timeout=30)
    os.close(controller)
    return process.returncode, shown, printed


def test_shares_typed_one_after_another_on_a_terminal(run):
    """A vault that only shares open asks for them on a terminal: a mistyped share, a share given
    twice and a share of an older split are refused at once and asked again, never echoed."""
    older = json.loads(run("keys", "split", "--shares", "2", "--threshold", "2", "--json").stdout)["shares"]
    shares = json.loads(run("keys", "split", "--shares", "3", "--threshold", "2", "--drop-passphrase",
                            "--json").stdout)["shares"]
    words = shares[0].split()
    words[10] = "academic" if words[10] != "academic" else "acid"
    code, shown, listed = _on_a_terminal(run, "case", "list",
                                         lines=[" ".join(words), shares[2], shares[2], older[0], shares[1]])
    assert code == 0, shown
    assert MANIFEST["case"] in listed
    assert "this vault unseals with 2 shares of its split" in shown
    assert "not a valid share" in shown and "given already" in shown and "belongs to another split" in shown
    for share in (shares[1], shares[2], older[0], " ".join(words)):
        assert " ".join(share.split()[3:6]) not in shown  # typed with the echo off, never repeated
