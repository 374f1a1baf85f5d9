"""Upload oracle: how long an investigator waits for a new upload, and for a duplicate of a file in
review that they may not see (answered as a new upload, web/_api.py ``ingest_upload``).

    python3 bench/duplicate.py [--rounds 40] [--postgres URL]

Setup: a fresh vault (SQLite in a temporary directory, or ``--postgres`` on an empty database)
with one case, the identity "Hadrien Quillon" (alias "Quillon", pseudonym "H"), ivy (investigator)
and rex (reviewer), and one transcript uploaded by rex, in review. The app runs under uvicorn on
127.0.0.1 in a thread. Each round, ivy posts (over ``POST /api/v1/documents``, keep-alive) a new
transcript of the same size, then the file in review; both must answer 201 in review. Printed:
the median and p90 of each, client side, from before the post to the parsed answer. The two should
not differ by more than the noise between rounds: a duplicate that answered faster would tell
ivy that the file waits in review.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

# bench/http.py would shadow the standard library's ``http`` if this directory came first on sys.path
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from vault import Settings, Vault  # noqa: E402
from web import create_app  # noqa: E402

PASSPHRASE = "bench passphrase for casevault"
IN_REVIEW = "[00:02:00] QM: The noose tightens, Quillon. Your sister knows.\n[00:02:05] H: Leave her alone.\n".encode()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--postgres", help="an empty PostgreSQL database's SQLAlchemy URL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", database_url=args.postgres)
        with Vault.initialize(settings, PASSPHRASE) as vault:
            case = vault.create_case("Affaire H", actor="bench")
            _, key = vault.add_user("ivy", "investigator", cases=(case.id,), actor="bench")
            rex, _ = vault.add_user("rex", "reviewer", cases=(case.id,), actor="bench")
            vault.add_identity(case, name="Hadrien Quillon", aliases=["Quillon"], label="H", actor="bench")
            vault.ingest(io.BytesIO(IN_REVIEW), case=case, filename="review.txt", actor=rex.id)
            server = uvicorn.Server(uvicorn.Config(create_app(settings, vault=vault), host="127.0.0.1", port=0,
                                                   log_level="warning", lifespan="off"))
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            while not server.started:
                time.sleep(0.02)
            base = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
            timings: dict[str, list[float]] = {"new upload": [], "duplicate of a file in review": []}
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as ivy:
                for round_ in range(args.rounds):
                    fresh = IN_REVIEW.replace(b"alone.", f"a{round_:05d}".encode())  # new, of the same length
                    for name, data in zip(timings, (fresh, IN_REVIEW)):
                        started = time.perf_counter()
                        answer = ivy.post("/api/v1/documents", files={"file": ("call.txt", io.BytesIO(data))},
                                          data={"case": case.name})
                        body = answer.json()
                        timings[name].append(time.perf_counter() - started)
                        if answer.status_code != 201 or body["status"] != "in_review":
                            sys.exit(f"{name}: {answer.status_code} {body}")
            server.should_exit = True
            thread.join(timeout=20)
    backend = "PostgreSQL" if args.postgres else "SQLite"
    for name, values in timings.items():
        print(f"{name:32} median {statistics.median(values) * 1000:7.1f} ms   p90 "
              f"{_percentile(values, 0.9) * 1000:7.1f} ms   ({len(values)} uploads, {backend})")


if __name__ == "__main__":
    main()
