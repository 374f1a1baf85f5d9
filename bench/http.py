"""HTTP: the search endpoint over loopback, with concurrent clients, while an ingest runs.

    python3 bench/http.py [--clients 8] [--seconds 20] [--documents 300] [--turns-per-doc 20]
                          [--seed 7] [--no-release] [--no-ingest] [--dir DIR] [--postgres URL]

Setup (not timed as load): a fresh vault (SQLite, or ``--postgres`` on an empty database) with one
case, the identity "Hadrien Quillon" (alias "Quillon", pseudonym "H") registered before anything
is ingested, users with access keys: ivy (investigator), rex and rita (reviewers). ``--documents``
call transcripts, generated (seeded) by bench/search.py's generator (``--turns-per-doc`` turns of
20-40 Zipf-drawn words, fixed phrases and the identity sprinkled in), are ingested straight into
the vault by rex, every pending suggestion rejected and the transcript released by rita (four
eyes), and the encrypted index built (``Search.open``) in this process.

The server: ``web.create_app(settings)`` under uvicorn on 127.0.0.1, port 0, in a separate process
(multiprocessing, spawn): it unseals the vault with the passphrase and reconciles the index as
``casevault serve`` does; the load generator never shares its GIL. One uvicorn worker, as
``casevault serve`` runs.

The load, for ``--seconds`` after one untimed warm-up pass over every query: ``--clients`` threads,
each with its own keep-alive ``httpx.Client``, post ``{"q", "case"}`` to ``/api/v1/search`` as ivy
back to back, cycling (from different offsets) over a fixed query mix drawn from the corpus: term
(frequent and mid-frequency words), AND (two frequent words), phrase, prefix (``abcd*``, expanding
to at most 100 terms), field filter (``speaker:QM w``, ``speaker:H w``, ``kind:transcript w``).
At the same time one ingest client uploads further transcripts of the same generator one by one
over ``POST /api/v1/documents`` as rex, and (unless ``--no-release``) rita reads each one's review,
rejects its pending suggestions and releases it, so the index changes under the searchers (each
search first brings the index up to the outbox). ``--no-ingest`` runs the searches alone.

Measured, client side: latency is wall time from before ``post`` to the parsed JSON answer;
requests/s is completed searches over the measured window; p50/p95/p99 over successful searches,
overall and per query kind. An error is a non-2xx answer or an exception (timeout, connection),
counted by status or exception name, for searches and for the ingest client. Ingest figures are
documents uploaded (and released) per second during the window. Server side: CPU seconds of the
server process during the window (from /proc), peak RSS (VmHWM) of the server process. The exit
status is 1 if any error was counted.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named http.py: run as a script, its directory would come first on sys.path and
# shadow the standard library's ``http`` package for everything imported below (httpx, uvicorn).
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import io  # noqa: E402
import logging  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

import httpx  # noqa: E402

from search import Search  # noqa: E402
from search._engine._analysis import word_analyzer  # noqa: E402
from vault import Settings, Vault  # noqa: E402

PASSPHRASE = "bench passphrase 2026 long"
CASE = "Bench"
KINDS = ("term", "and", "phrase", "prefix", "field")
UPLOAD_POOL = 2000  # transcripts generated for the ingest client (it stops early if they run out)
REQUEST_TIMEOUT = 30.0


def _load_search_bench():
    """bench/search.py's corpus generator (loaded by path: ``bench`` is not a package, and the
    name ``search`` is the project's package)."""
    spec = importlib.util.spec_from_file_location("bench_search", _HERE / "search.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


corpus = _load_search_bench()


# --- helpers ------------------------------------------------------------------------------------

def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def proc_status(pid: int, field_name: str) -> float | None:
    """A ``/proc/<pid>/status`` memory figure in MiB (VmHWM: peak RSS), or None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def proc_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process so far, from ``/proc/<pid>/stat``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def self_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- the query mix -------------------------------------------------------------------------------

def query_mix(documents: list[bytes], all_documents: list[bytes], rng: random.Random) -> dict[str, list[str]]:
    """Per kind, the queries, drawn from the words of the seeded transcripts. Prefixes are chosen
    over every word the generator can produce (uploads included) so that none expands to more
    than 100 terms (casevault refuses more than 128)."""
    counts: Counter[str] = Counter()
    for data in documents:
        for line in data.decode().splitlines():
            counts.update(line.split(": ", 1)[1].split())
    analyzer = word_analyzer()
    words = [w for w, _ in counts.most_common() if w.isalpha() and w.isascii() and len(w) >= 5
             and [t.text for t in analyzer(w)] == [w]]  # kept as they are by the analyzer
    frequent = words[5:45]
    middle = words[200:400] if len(words) >= 400 else words[len(words) // 2:]
    everything = {t.text for data in all_documents for t in analyzer(data.decode())}
    prefixes: list[str] = []
    for word in frequent + middle:
        prefix = word[:4]
        if prefix not in prefixes and 2 <= sum(1 for t in everything if t.startswith(prefix)) <= 100:
            prefixes.append(prefix)
        if len(prefixes) == 8:
            break
    terms = rng.sample(frequent, 5) + rng.sample(middle, 5)
    pairs = []
    while len(pairs) < 8:
        a, b = rng.sample(frequent, 2)
        if f"{a} {b}" not in pairs:
            pairs.append(f"{a} {b}")
    field_queries = ([f"speaker:QM {w}" for w in terms[:3]] + [f"speaker:H {w}" for w in terms[3:6]]
                     + [f"kind:transcript {w}" for w in terms[6:9]])
    return {
        "term": terms + ["noose", "sister"],
        "and": pairs + ["red notice"],
        "phrase": list(corpus.QUERY_PHRASES),
        "prefix": [f"{p}*" for p in prefixes] + ["tigh*"],
        "field": field_queries,
    }


# --- setup ---------------------------------------------------------------------------------------

def seed(settings: Settings, documents: list[bytes]) -> tuple[dict[str, str], float, float]:
    """The vault, its users and the seeded transcripts; returns (access keys, ingest seconds,
    index seconds)."""
    vault = Vault.initialize(settings, PASSPHRASE, actor="bench")
    try:
        case = vault.create_case(CASE, actor="bench")
        users, keys = {}, {}
        for name, role in (("ivy", "investigator"), ("rex", "reviewer"), ("rita", "reviewer")):
            users[name], keys[name] = vault.add_user(name, role, cases=(case.id,), actor="bench")
        name, aliases, label = corpus.IDENTITY
        vault.add_identity(case, name=name, aliases=aliases, label=label, actor="bench")
        started = time.perf_counter()
        step = max(1, len(documents) // 5)
        for i, data in enumerate(documents, 1):
            doc = vault.ingest(io.BytesIO(data), case=case, filename=f"seed-{i:05d}.txt", actor=users["rex"].id)
            masked = vault.masked(doc.id)  # the title's suggestions wait for a decision too
            pending = [str(r["id"]) for r in [*(r for u in masked.units for r in u.suggestions), *masked.title_suggestions]
                       if r["state"] == "pending"]
            if pending:
                vault.decide(doc.id, users["rita"], pending, accept=False, actor="bench")
            vault.release(doc.id, users["rita"], actor="bench")
            if i % step == 0 or i == len(documents):
                note(f"  seeded {i}/{len(documents)} transcripts ({i / (time.perf_counter() - started):.1f}/s)")
        ingest_seconds = time.perf_counter() - started
        started = time.perf_counter()
        Search.open(vault).close()
        index_seconds = time.perf_counter() - started
        return keys, ingest_seconds, index_seconds
    finally:
        vault.close()


def serve(data_dir: str, database_url: str | None, conn) -> None:  # noqa: ANN001
    """The server process: ``create_app`` under uvicorn on a loopback port; sends back
    ("ready", port, seconds to open) or ("failed", message)."""
    import uvicorn

    from web import create_app

    logging.basicConfig(level=logging.WARNING)
    try:
        started = time.perf_counter()
        settings = Settings(data_dir=Path(data_dir), database_url=database_url, passphrase=PASSPHRASE)
        app = create_app(settings)
        opened = time.perf_counter() - started
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                               access_log=False, lifespan="on"))
    except Exception as error:  # noqa: BLE001 - reported to the parent, which stops
        conn.send(("failed", f"{type(error).__name__}: {error}"))
        return

    def report() -> None:
        while not server.started:
            if server.should_exit:
                conn.send(("failed", "uvicorn did not start"))
                return
            time.sleep(0.01)
        conn.send(("ready", server.servers[0].sockets[0].getsockname()[1], opened))

    threading.Thread(target=report, daemon=True).start()
    server.run()  # the main thread: uvicorn's SIGTERM handler shuts it down gracefully


# --- load ----------------------------------------------------------------------------------------

@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    done: int = 0  # completed searches so far, for progress lines (approximate)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, label: str, example: str) -> None:
        with self.lock:
            self.errors[label] += 1
            self.examples.setdefault(label, example[:300])


def search_client(base: str, key: str, plan: list[tuple[str, str]], offset: int, stop: threading.Event,
                  tally: Tally) -> None:
    latencies: dict[str, list[float]] = {k: [] for k in KINDS}
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=REQUEST_TIMEOUT) as client:
        i = offset
        while not stop.is_set():
            kind, q = plan[i % len(plan)]
            i += 1
            started = time.perf_counter()
            try:
                response = client.post("/api/v1/search", json={"q": q, "case": CASE})
                response.json()
            except Exception as error:  # noqa: BLE001 - counted
                tally.error(type(error).__name__, f"{kind} {q!r}: {error}")
                continue
            elapsed = (time.perf_counter() - started) * 1000
            tally.done += 1
            if response.is_success:
                latencies[kind].append(elapsed)
            else:
                tally.error(f"HTTP {response.status_code}", f"{kind} {q!r}: {response.text}")
    with tally.lock:
        for kind, values in latencies.items():
            tally.latencies[kind] += values


@dataclass
class IngestTally:
    uploaded: int = 0
    released: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    ran_out: bool = False


def ingest_client(base: str, keys: dict[str, str], documents: list[bytes], release: bool,
                  stop: threading.Event, tally: IngestTally) -> None:
    """Upload as rex; with ``release``, rita rejects the pending suggestions and releases."""
    def check(response: httpx.Response, step: str) -> bool:
        if response.is_success:
            return True
        label = f"{step}: HTTP {response.status_code}"
        tally.errors[label] += 1
        tally.examples.setdefault(label, response.text[:300])
        return False

    rex = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {keys['rex']}"}, timeout=REQUEST_TIMEOUT)
    rita = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {keys['rita']}"}, timeout=REQUEST_TIMEOUT)
    try:
        for i, data in enumerate(documents, 1):
            if stop.is_set():
                return
            try:
                response = rex.post("/api/v1/documents", data={"case": CASE},
                                    files={"file": (f"upload-{i:05d}.txt", data, "text/plain")})
                if not check(response, "upload"):
                    continue
                tally.uploaded += 1
                if not release:
                    continue
                document_id = response.json()["id"]
                response = rita.get(f"/api/v1/documents/{document_id}/review")
                if not check(response, "review"):
                    continue
                pending = [s["id"] for s in response.json()["suggestions"] if s["state"] == "pending"]
                if pending and not check(rita.post(f"/api/v1/documents/{document_id}/decisions",
                                                   json={"reject": pending}), "decisions"):
                    continue
                if check(rita.post(f"/api/v1/documents/{document_id}/release"), "release"):
                    tally.released += 1
            except Exception as error:  # noqa: BLE001 - counted
                label = f"ingest: {type(error).__name__}"
                tally.errors[label] += 1
                tally.examples.setdefault(label, str(error)[:300])
        tally.ran_out = True
    finally:
        rex.close()
        rita.close()


# --- main ----------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8, help="concurrent search clients")
    parser.add_argument("--seconds", type=float, default=20, help="length of the measured window")
    parser.add_argument("--documents", type=int, default=300, help="transcripts seeded before the load")
    parser.add_argument("--turns-per-doc", type=int, default=20, help="turns per transcript")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-release", action="store_true",
                        help="the ingest client only uploads (the released index does not change)")
    parser.add_argument("--no-ingest", action="store_true",
                        help="no ingest client: the searches alone, a baseline for the figures with one")
    parser.add_argument("--dir", type=Path, default=None, help="work directory (kept); default a temporary one")
    parser.add_argument("--postgres", default=None, metavar="URL", help="database URL of an empty database "
                        "(default SQLite in the work directory)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # figures and progress lines in order when piped

    rng = random.Random(args.seed)
    started = time.perf_counter()
    total = args.documents + UPLOAD_POOL
    generated, _ = corpus.generate(total * args.turns_per_doc, args.turns_per_doc, rng)
    seeded, uploads = generated[:args.documents], generated[args.documents:]
    mix = query_mix(seeded, generated, rng)
    print(f"corpus: {len(seeded)} seeded transcripts of {args.turns_per_doc} turns, "
          f"{sum(map(len, seeded)) / 1e6:.1f} MB; {len(uploads)} more for the ingest client "
          f"(generated in {time.perf_counter() - started:.1f} s)")

    if args.dir:
        work = args.dir
        work.mkdir(parents=True, exist_ok=False)
    else:
        work = Path(tempfile.mkdtemp(prefix="casevault-bench-http-"))
    try:
        return run(args, work, seeded, uploads, mix)
    finally:
        if not args.dir:
            shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path, seeded: list[bytes], uploads: list[bytes],
        mix: dict[str, list[str]]) -> int:
    settings = Settings(data_dir=work / "data", database_url=args.postgres)
    keys, ingest_seconds, index_seconds = seed(settings, seeded)
    print(f"setup: {len(seeded)} transcripts ingested, reviewed and released in {ingest_seconds:.1f} s "
          f"({len(seeded) / ingest_seconds:.1f}/s); index built in {index_seconds:.1f} s "
          f"({len(seeded) * args.turns_per_doc} turns); database {'PostgreSQL' if args.postgres else 'SQLite'}")

    context = multiprocessing.get_context("spawn")
    parent_conn, child_conn = context.Pipe(duplex=False)
    server = context.Process(target=serve, args=(str(settings.data_dir), args.postgres, child_conn),
                             name="casevault-bench-server")
    started = time.perf_counter()
    server.start()
    try:
        if not parent_conn.poll(300):
            raise SystemExit("the server did not start within 300 s")
        message = parent_conn.recv()
        if message[0] != "ready":
            raise SystemExit(f"the server did not start: {message[1]}")
        _, port, opened = message
        base = f"http://127.0.0.1:{port}"
        print(f"server: pid {server.pid}, {base}, up in {time.perf_counter() - started:.1f} s "
              f"(create_app: unseal + index reconcile {opened:.1f} s)")
        return load(args, base, keys, server.pid, uploads, mix)
    finally:
        server.terminate()
        server.join(30)
        if server.is_alive():
            server.kill()
            server.join()


def load(args: argparse.Namespace, base: str, keys: dict[str, str], pid: int, uploads: list[bytes],
         mix: dict[str, list[str]]) -> int:
    plan = [(kind, q) for i in range(max(len(v) for v in mix.values())) for kind in KINDS
            for q in mix[kind][i:i + 1]]
    # warm-up: every query once, in one client, untimed; a query that finds nothing is reported
    started = time.perf_counter()
    empty = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {keys['ivy']}"},
                      timeout=REQUEST_TIMEOUT) as client:
        for kind, q in plan:
            response = client.post("/api/v1/search", json={"q": q, "case": CASE})
            if not response.is_success:
                raise SystemExit(f"warm-up: {kind} {q!r} answered {response.status_code}: {response.text[:300]}")
            if response.json()["total"] == 0:
                empty.append(q)
    print(f"warm-up: {len(plan)} queries ({', '.join(f'{k} {len(mix[k])}' for k in KINDS)}) "
          f"in {time.perf_counter() - started:.1f} s" + (f"; no hit for {empty}" if empty else ""))

    stop = threading.Event()
    tally, ingest = Tally(), IngestTally()
    threads = [threading.Thread(target=search_client, name=f"search-{i}",
                                args=(base, keys["ivy"], plan, i * len(plan) // args.clients, stop, tally))
               for i in range(args.clients)]
    if not args.no_ingest:
        threads.append(threading.Thread(target=ingest_client, name="ingest",
                                        args=(base, keys, uploads, not args.no_release, stop, ingest)))
    cpu_server, cpu_self = proc_cpu_seconds(pid), self_cpu_seconds()
    ingesting = "no ingest client" if args.no_ingest else "1 ingest client"
    note(f"  load: {args.clients} search clients and {ingesting} for {args.seconds:.0f} s")
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    while (left := started + args.seconds - time.perf_counter()) > 0:
        time.sleep(min(left, 5.0))
        note(f"  {time.perf_counter() - started:5.1f} s: searches {tally.done}, uploaded {ingest.uploaded}, released {ingest.released}, "
             f"errors {sum(tally.errors.values()) + sum(ingest.errors.values())}")
    stop.set()
    window = time.perf_counter() - started
    for thread in threads:
        thread.join()
    drained = time.perf_counter() - started - window  # requests in flight when the window closed
    cpu_server_used = (proc_cpu_seconds(pid) or 0.0) - (cpu_server or 0.0)
    cpu_self_used = self_cpu_seconds() - cpu_self
    peak_rss = proc_status(pid, "VmHWM")

    everything = [v for kind in KINDS for v in tally.latencies[kind]]
    completed = len(everything)
    errors = sum(tally.errors.values())
    ingest_errors = sum(ingest.errors.values())
    print()
    print(f"load: {args.clients} search clients (keep-alive, one thread each), {ingesting}, "
          f"{window:.1f} s window (+{drained:.1f} s draining in-flight requests)")
    print(f"  searches completed   {completed}")
    print(f"  requests/s           {completed / window:.1f}")
    print(f"  latency ms           p50 {percentile(everything, 0.5):.1f}   p95 {percentile(everything, 0.95):.1f}   "
          f"p99 {percentile(everything, 0.99):.1f}   max {max(everything, default=float('nan')):.1f}")
    print("  by kind              count      p50      p95      p99")
    for kind in KINDS:
        values = tally.latencies[kind]
        print(f"    {kind:<18}{len(values):7d}{percentile(values, 0.5):9.1f}{percentile(values, 0.95):9.1f}"
              f"{percentile(values, 0.99):9.1f}")
    print(f"  search errors        {errors}" + (f"  {dict(tally.errors)}" if errors else ""))
    for label, example in tally.examples.items():
        print(f"    {label}: {example}")
    released = f", released {ingest.released} ({ingest.released / window:.1f}/s)" if not args.no_release else ""
    print(f"ingest during the load: uploaded {ingest.uploaded} ({ingest.uploaded / window:.1f}/s){released}"
          + (" -- ran out of transcripts" if ingest.ran_out else ""))
    print(f"  ingest errors        {ingest_errors}" + (f"  {dict(ingest.errors)}" if ingest_errors else ""))
    for label, example in ingest.examples.items():
        print(f"    {label}: {example}")
    print(f"server process: CPU {cpu_server_used:.1f} s in the window ({cpu_server_used / window:.2f} cores); "
          f"peak RSS (VmHWM) {peak_rss:.0f} MiB" if peak_rss is not None else "peak RSS unavailable")
    print(f"load generator: CPU {cpu_self_used:.1f} s ({cpu_self_used / window:.2f} cores); "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the end")
    total_errors = errors + ingest_errors
    print(f"errors: {total_errors} ({'ok' if total_errors == 0 else 'MUST BE 0'})")
    return 1 if total_errors else 0


if __name__ == "__main__":
    sys.exit(main())
