"""Ingest throughput, and what encryption costs within it.

    python3 bench/ingest.py [--docs 2000] [--database-url URL]

Generates a corpus of call transcripts (speaker turns with times, ~2-4 KB each), ingests it into
a fresh vault (SQLite by default), and prints docs/s and MB/s. It then encrypts exactly the same
bytes the vault encrypted (originals and extracted content) twice, once through the vault's
chunked stream and once through one raw AES-256-GCM call per blob, and prints the ratio and the
share of ingest time spent encrypting. Finally it streams one large file through both, in MB/s.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

# bench/ holds http.py: keep this folder off sys.path, or it would hide the standard library's http
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402

from keys import Context, SecretKey, StreamEncryptor  # noqa: E402
from vault import Settings, Vault  # noqa: E402
from vault._ingest._pipeline import extract  # noqa: E402
from vault._ingest._model import Format  # noqa: E402
from vault._ingest._limits import Limits  # noqa: E402
from vault._ingest._sandbox import ParserSlots  # noqa: E402

WORDS = ("home return family mother sister company money court notice passport embassy lawyer "
         "appeal decision warrant arrest safe promise nothing happen tighten noose call again "
         "tomorrow police brother friend business contract bank account travel Paris").split()
SPEAKERS = ["H", "QM", "Caller 2", "Official", "Friend"]


def transcript(rng: random.Random) -> bytes:
    lines, t = [], 0
    for _ in range(rng.randint(20, 40)):
        t += rng.randint(2, 15)
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 18)))
        lines.append(f"[{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}] {rng.choice(SPEAKERS)}: {words.capitalize()}.")
    return ("\n".join(lines) + "\n").encode()


def progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        width = 40
        filled = width * done // total
        print(f"\r  [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="", file=sys.stderr, flush=True)
        if done == total:
            print(file=sys.stderr)
    elif done % max(1, total // 10) == 0 or done == total:
        print(f"  ingested {done}/{total}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--large-mb", type=int, default=64)
    args = parser.parse_args()

    rng = random.Random(42)
    corpus = [transcript(rng) for _ in range(args.docs)]
    total_bytes = sum(map(len, corpus))
    turns = sum(d.count(b"\n") for d in corpus)
    print(f"corpus: {args.docs} transcripts, {total_bytes / 1e6:.1f} MB, {turns} turns")

    with tempfile.TemporaryDirectory(prefix="casevault-bench-") as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", database_url=args.database_url)
        with Vault.initialize(settings, "benchmark passphrase, not secret") as vault:
            case = vault.create_case("bench", actor="bench")
            started = time.perf_counter()
            for i, data in enumerate(corpus, 1):
                vault.ingest(io.BytesIO(data), case=case, filename=f"call-{i}.txt", actor="bench")
                progress(i, len(corpus))
            ingest_seconds = time.perf_counter() - started
    print(f"ingest ({'SQLite' if not args.database_url else args.database_url.split(':')[0]}): "
          f"{args.docs / ingest_seconds:.0f} docs/s, {total_bytes / 1e6 / ingest_seconds:.2f} MB/s "
          f"({ingest_seconds:.1f} s)")

    # The same bytes the vault encrypted: each original and its extracted content.
    contents = [extract(Format.TRANSCRIPT_TEXT, io.BytesIO(d), limits=Limits(), legacy_encoding=None,
                         parsers=ParserSlots(1, 0)).to_json()
                for d in corpus]
    blobs = corpus + contents
    key = SecretKey.generate()
    context = Context("original", "case", "doc", 1)
    started = time.perf_counter()
    for blob in blobs:
        for _ in StreamEncryptor(key, context).chunks(iter([blob])):
            pass
    stream_seconds = time.perf_counter() - started
    raw = AESGCM(key.material)
    started = time.perf_counter()
    for blob in blobs:
        raw.encrypt(os.urandom(12), blob, b"")
    raw_seconds = time.perf_counter() - started
    print(f"blob encryption: {stream_seconds * 1e6 / len(blobs):.1f} us per blob through the vault's stream, "
          f"{raw_seconds * 1e6 / len(blobs):.1f} us raw AES-GCM: ratio {stream_seconds / raw_seconds:.1f}x; "
          f"{100 * stream_seconds / ingest_seconds:.1f}% of ingest time")

    large = os.urandom(args.large_mb * 1024 * 1024)
    started = time.perf_counter()
    mib = 1024 * 1024
    for _ in StreamEncryptor(key, context).chunks(iter([large[i:i + mib] for i in range(0, len(large), mib)])):
        pass
    stream_seconds = time.perf_counter() - started
    started = time.perf_counter()
    raw.encrypt(os.urandom(12), large, b"")
    raw_seconds = time.perf_counter() - started
    print(f"large file ({args.large_mb} MiB): stream {args.large_mb / stream_seconds:.0f} MiB/s, "
          f"raw AES-GCM {args.large_mb / raw_seconds:.0f} MiB/s: ratio {stream_seconds / raw_seconds:.2f}x")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
