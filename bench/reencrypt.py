"""Re-encryption throughput and memory: what `casevault keys reencrypt` costs.

    python3 bench/reencrypt.py [--docs 300] [--large-mb 8] [--database-url URL]

Ingests generated transcripts (~2-4 KB each) and one large transcript into a fresh vault
(SQLite by default), rotates and rewraps the case key, then re-encrypts every document and
prints documents/s, files/s and MB/s of ciphertext rewritten, and the Python heap's peak
(tracemalloc) while the large document alone is re-encrypted: its files are streamed in 1 MiB
chunks, so the peak stays a few chunks whatever the file's size.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import sqlalchemy as sa

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest import transcript  # noqa: E402
from vault import Settings, Vault  # noqa: E402
from vault._models import BlobRow, DocumentRow  # noqa: E402

PASSPHRASE = "bench passphrase for casevault"


def _stored_bytes(vault: Vault, case_id: str) -> int:
    with vault.db.read() as session:
        return int(session.scalar(sa.select(sa.func.sum(BlobRow.stored_bytes)).join(
            DocumentRow, DocumentRow.id == BlobRow.document_id).where(DocumentRow.case_id == case_id)) or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--large-mb", type=int, default=8)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    rng = random.Random(16)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", database_url=args.database_url)
        with Vault.initialize(settings, PASSPHRASE) as vault:
            case = vault.create_case("Bench", actor="bench")
            large_case = vault.create_case("Bench large", actor="bench")
            for i in range(args.docs):
                vault.ingest(io.BytesIO(transcript(rng)), case=case, filename=f"call-{i}.txt", actor="bench")
            large = b""
            while len(large) < args.large_mb * 1024 * 1024:
                large += transcript(rng)
            vault.ingest(io.BytesIO(large), case=large_case, filename="large.txt", actor="bench")
            vault.rotate_keys(actor="bench")
            vault.rewrap(actor="bench")

            started = time.perf_counter()
            report = vault.reencrypt(actor="bench", case=case)
            elapsed = time.perf_counter() - started
            small_bytes = _stored_bytes(vault, case.id)
            print(f"re-encrypted {report.total_documents} documents ({report.total_blobs} files, "
                  f"{small_bytes / 2**20:.1f} MiB) in {elapsed:.2f} s: {report.total_documents / elapsed:.1f} docs/s, "
                  f"{report.total_blobs / elapsed:.1f} files/s")

            tracemalloc.start()
            started = time.perf_counter()
            big = vault.reencrypt(actor="bench", case=large_case)
            elapsed = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            large_bytes = _stored_bytes(vault, large_case.id)
            print(f"large document: {len(large) / 2**20:.1f} MiB original, {large_bytes / 2**20:.1f} MiB of files "
                  f"re-encrypted in {elapsed:.2f} s ({large_bytes / 2**20 / elapsed:.1f} MiB/s), "
                  f"{big.total_blobs} files, Python heap peak {peak / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
