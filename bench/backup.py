"""Backup and restore throughput against tar of the same data directory.

    python3 bench/backup.py [--megabytes 1024] [--database-url URL --restore-database-url URL] [--dir DIR]

Builds a vault from the words of the demo corpus's text files (vault/demo/corpus), each copy
shuffled into numbered paragraphs of about 4 MB (no two documents alike, so none is refused as
a duplicate), until the data directory (database and blobs) holds --megabytes. Then it
times `Vault.backup` and `Vault.restore` (index rebuild excluded: the indexes are not in the
archive) and, in the same run, `tar cf` of the same data directory and `tar xf` of that tar as
the reference, and prints MB/s (of the data directory's size) and the ratio to tar.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vault import Settings, Vault  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / "vault" / "demo" / "corpus"
PASSPHRASE = "benchmark passphrase for casevault"
DOC_BYTES = 4 * 1024 * 1024


def _size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file() and ".backup" not in p.parts)


def _varied(source: Path, number: int, rng: random.Random) -> bytes:
    """About DOC_BYTES of the demo document's words, shuffled into numbered paragraphs."""
    words = source.read_bytes().decode("utf-8", errors="replace").split()
    body: list[str] = []
    while sum(map(len, body)) < DOC_BYTES:
        rng.shuffle(words)
        body.append(f"Paragraphe {number}-{len(body)}. " + " ".join(words[:200]) + "\n")
    return "".join(body).encode()


def build(settings: Settings, megabytes: int, rng: random.Random) -> int:
    with Vault.initialize(settings, PASSPHRASE) as vault:
        case = vault.create_case("Affaire H (benchmark)", actor="bench")
        sources = [p for p in sorted(CORPUS.iterdir()) if p.suffix == ".txt"]
        number, goal = 0, megabytes * 1024 * 1024
        while _size(settings.data_dir) < goal:
            for source in sources:
                number += 1
                data = _varied(source, number, rng)
                vault.ingest(io.BytesIO(data), case=case, filename=f"{number}-{source.name}", actor="bench")
            if number % 9 == 0:
                print(f"  {number} documents, {_size(settings.data_dir) / 2**20:.0f} MB", file=sys.stderr, flush=True)
        return number


def timed(work) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    work()
    os.sync()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=1024)
    parser.add_argument("--database-url")
    parser.add_argument("--restore-database-url", help="an empty database (schema) to restore into (PostgreSQL)")
    parser.add_argument("--dir", type=Path, help="work here (default: a new temporary directory, removed after)")
    args = parser.parse_args()
    if args.database_url and not args.restore_database_url:
        parser.error("--database-url needs --restore-database-url (an empty schema to restore into)")
    work = Path(tempfile.mkdtemp(prefix="casevault-bench-", dir=args.dir))
    try:
        source = Settings(data_dir=work / "data", database_url=args.database_url)
        documents = build(source, args.megabytes, random.Random(7))
        size = _size(source.data_dir)
        mb = size / 2**20
        with Vault.open(source, PASSPHRASE) as vault:
            backup_s = timed(lambda: vault.backup(work / "vault.backup", actor="bench"))
        tar_s = timed(lambda: subprocess.run(["tar", "cf", str(work / "plain.tar"), "-C", str(work), "data"],
                                             check=True))
        target = Settings(data_dir=work / "restored", database_url=args.restore_database_url)
        restore_s = timed(lambda: Vault.restore(target, work / "vault.backup", PASSPHRASE, actor="bench"))
        (work / "untar").mkdir()
        untar_s = timed(lambda: subprocess.run(["tar", "xf", str(work / "plain.tar"), "-C", str(work / "untar")],
                                               check=True))
        backend = "PostgreSQL" if args.database_url else "SQLite"
        print(f"{backend}: {documents} documents, data directory {mb:.0f} MB "
              f"(archive {(work / 'vault.backup').stat().st_size / 2**20:.0f} MB)")
        print(f"backup  {mb / backup_s:7.1f} MB/s ({backup_s:.1f} s)   tar cf {mb / tar_s:7.1f} MB/s   "
              f"ratio {tar_s / backup_s:.2f}x tar")
        print(f"restore {mb / restore_s:7.1f} MB/s ({restore_s:.1f} s)   tar xf {mb / untar_s:7.1f} MB/s   "
              f"ratio {untar_s / restore_s:.2f}x tar  (the index rebuild after a restore is not included)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
