"""Crypto-shredding and the audit export: what they cost.

    python3 bench/shred.py [--documents 200] [--entries 20000] [--database-url URL]

Setup: a fresh vault (SQLite in a temporary directory unless ``--database-url``). Printed:
- destroying a case of ``--documents`` small transcripts (one transaction, then the files);
- exporting an audit log of ``--entries`` entries (the in-vault chain verified first, then each
  row checked again, chained with SHA-256 and signed) and checking the file without the vault,
  in entries per second, and the file's size per entry.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vault import Settings, Vault, check_export  # noqa: E402

PASSPHRASE = "bench passphrase for casevault"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--entries", type=int, default=20000)
    parser.add_argument("--database-url")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", database_url=options.database_url)
        with Vault.initialize(settings, PASSPHRASE) as vault:
            case = vault.create_case("Doomed", actor="bench")
            kept = vault.create_case("Kept", actor="bench")
            vault.add_identity(case, name="Hadrien Quillon", aliases=["Quillon"], label="H", actor="bench")
            started = time.perf_counter()
            for n in range(options.documents):
                text = f"[00:00:{n % 60:02d}] H: call {n}, Quillon speaking about the notice.\n".encode()
                vault.ingest(io.BytesIO(text), case=case, filename=f"{n}.txt", actor="bench")
            vault.ingest(io.BytesIO(b"[00:00:01] A: kept.\n"), case=kept, filename="kept.txt", actor="bench")
            print(f"ingest: {options.documents} documents in {time.perf_counter() - started:.1f} s")
            started = time.perf_counter()
            gone = vault.destroy_case(case, actor="bench")
            print(f"destroy: {gone.documents} documents, {gone.blobs} files in {time.perf_counter() - started:.2f} s")

            started = time.perf_counter()
            for n in range(options.entries):
                vault.record(actor="bench", action="search", details={"query": f"q{n}"})
            print(f"audit: {options.entries} entries appended in {time.perf_counter() - started:.1f} s")
            path = Path(tmp) / "audit.jsonl"
            started = time.perf_counter()
            with path.open("w", encoding="utf-8") as out:
                out.writelines(vault.export_audit(actor="bench"))
            export_s = time.perf_counter() - started
            fingerprint = vault.key_status().audit_key_fingerprint
        count = sum(1 for _ in path.open()) - 2
        started = time.perf_counter()
        checked = check_export(path, public_key=fingerprint)
        check_s = time.perf_counter() - started
        assert checked.intact, checked.reason
        print(f"export: {count} entries in {export_s:.2f} s ({count / export_s:,.0f} entries/s), "
              f"{os.path.getsize(path) / count:.0f} bytes per entry")
        print(f"verify --file: {count} entries in {check_s:.2f} s ({count / check_s:,.0f} entries/s)")


if __name__ == "__main__":
    main()
