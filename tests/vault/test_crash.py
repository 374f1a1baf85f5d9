"""Crashes and leftovers: SIGKILL in the middle of ingest, and what a run leaves in temp dirs."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import DEMO_CORPUS, PASSPHRASE, ingest_bytes
from vault import Vault

ROOT = Path(__file__).resolve().parents[2]

INGEST_FOREVER = textwrap.dedent("""
    import io, os, sys
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from vault import Settings, Vault
    settings = Settings(data_dir=Path({data!r}), database_url={url!r})
    with Vault.open(settings, {passphrase!r}) as vault:
        case = vault.case("Affaire H")
        print("ready", flush=True)
        n = 0
        while True:
            n += 1
            body = (f"[00:00:0{{n % 10}}] H: call {{n}} {{os.urandom(8).hex()}}\\n" * 3000).encode()
            vault.ingest(io.BytesIO(body), case=case, filename=f"call-{{n}}.txt", actor="crash-test")
""")


def test_sigkill_during_ingest_leaves_a_consistent_vault(settings):
    with Vault.initialize(settings, PASSPHRASE) as vault:
        vault.create_case("Affaire H", actor="tester")
    script = INGEST_FOREVER.format(root=str(ROOT), data=str(settings.data_dir), url=settings.database_url,
                                   passphrase=PASSPHRASE)
    rng = random.Random(47)
    for _ in range(6):
        with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) as child:
            try:
                ready = child.stdout.readline()
                assert ready == b"ready\n", child.stderr.read().decode()
                time.sleep(rng.uniform(0.05, 0.6))
            finally:
                child.send_signal(signal.SIGKILL)

        _age(settings.blob_dir / ".incoming", hours=1)  # the restart comes later; fresh temps are spared
        with Vault.open(settings, PASSPHRASE) as vault:  # opening sweeps what the crash left
            assert not list((settings.blob_dir / ".incoming").iterdir()), "temporary blobs survived a restart"
            for document in vault.documents():
                assert vault.content(document.id, actor="tester").turns, f"document {document.id} lost its content"
                with vault.open_original(document.id, actor="tester") as original:
                    assert original.read().startswith(b"[00:00:0")
            report = vault.verify_audit()
            assert report.intact, report.reason
            with vault.db.engine.connect() as connection:
                rows = connection.execute(sa.text("select count(*) from blob")).scalar_one()
            assert rows == 3 * len(vault.documents())  # original, content, masked


def test_no_plaintext_is_left_in_temporary_directories(vault, case, tmp_path, monkeypatch):
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setenv("TMPDIR", str(spool))
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    for path in sorted(DEMO_CORPUS.iterdir()):
        with path.open("rb") as source:
            vault.ingest(source, case=case, filename=path.name, actor="tester")
    ingest_bytes(vault, case, b"H: one more\nQM: and another\n")
    assert list(spool.rglob("*")) == [], "ingest left files in the temporary directory"
    assert list((vault.settings.blob_dir / ".incoming").iterdir()) == []


def _age(folder: Path, *, hours: float) -> None:
    past = time.time() - hours * 3600
    for path in folder.iterdir():
        os.utime(path, (past, past))


def test_leftover_temporary_blob_is_swept_at_open_but_a_fresh_one_is_not(settings):
    Vault.initialize(settings, PASSPHRASE).close()
    leftover = settings.blob_dir / ".incoming" / f"{'a' * 32}.tmp"
    leftover.write_bytes(os.urandom(100))
    _age(leftover.parent, hours=1)
    in_flight = settings.blob_dir / ".incoming" / f"{'b' * 32}.tmp"  # another process is writing it
    in_flight.write_bytes(os.urandom(100))
    with Vault.open(settings, PASSPHRASE):
        assert not leftover.exists()
        assert in_flight.exists()
