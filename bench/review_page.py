"""The review page of a long transcript: GET /review/{id} and a group decision, through the app.

    python3 bench/review_page.py [--megabytes 2] [--seed 7] [--dir DIR]

Setup (not timed): a fresh vault (SQLite) with one case, the identities "Hadrien Quillon" (H) and
"Quentin Malaure" (QM), a reviewer "rex" signed in through the sign-in form of ``web.create_app``
(FastAPI's TestClient, in this process). The transcript: the turns of the demo corpus's text
transcripts (vault/demo/corpus/*.txt), shuffled (seeded) and repeated until ``--megabytes``, their
speakers drawn from the corpus's own and the generic roles "Agent" and "Caller 2" (as the call
centre transcript of issue 17 had); it is ingested by another user so rex may review it.

Measured (wall clock, best and median of ``--repeat``): the ingest; GET /review/{id} (the first
page of units and the group list); the reference, rendering the same text as plain HTML through
Jinja2 with no suggestion at all (a ``<p>`` per turn), which the page is compared with; and one
group decision (rejecting the largest group over the form, then following the redirect). Figures
are printed, not asserted, in wall seconds and in this process's CPU seconds (the app runs in it;
on a shared machine the wall clock also counts other processes' turns on the cores).
"""

from __future__ import annotations

import argparse
import io
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jinja2  # noqa: E402
import pyotp  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from vault import Settings, Vault  # noqa: E402
from web import create_app  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / "vault" / "demo" / "corpus"
TURN = re.compile(r"^\[(\d\d):(\d\d):(\d\d)\] ([^:]{1,40}): (.+)$")
PASSPHRASE = "bench passphrase for casevault"


def transcript(megabytes: float, seed: int) -> bytes:
    """Turns of the demo corpus, shuffled and repeated to ``megabytes``, under fresh times."""
    rng = random.Random(seed)
    turns = [m.group(4, 5) for f in sorted(CORPUS.glob("*.txt"))
             for m in map(TURN.match, f.read_bytes().decode("utf-8", "replace").splitlines()) if m]
    speakers = sorted({s for s, _ in turns}) + ["Agent", "Agent", "Caller 2"]
    lines, size, second = [], 0, 0
    while size < megabytes * 1024 * 1024:
        rng.shuffle(turns)
        for _, text in turns:
            second += rng.randint(2, 9)
            line = f"[{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}] {rng.choice(speakers)}: {text}"
            lines.append(line)
            size += len(line.encode()) + 1
    return ("\n".join(lines) + "\n").encode()


CPU: list[float] = []  # the CPU seconds of each timed call, this process (the app runs in it)


def timed(action, repeat: int) -> tuple[float, float, object]:
    """Best and median wall seconds of ``repeat`` calls; their median CPU seconds go to CPU (on a
    shared machine the wall clock also counts other processes' turns on the cores)."""
    times, cpu, result = [], [], None
    for _ in range(repeat):
        began, began_cpu = time.perf_counter(), time.process_time()
        result = action()
        times.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    CPU.append(statistics.median(cpu))
    return min(times), statistics.median(times), result


def sign_in(client: TestClient, name: str, password: str, secret: str | None) -> None:
    page = client.get("/login")
    token = re.search(r'name="sign_in_token" value="([^"]+)"', page.text).group(1)
    form = {"sign_in_token": token, "name": name, "password": password}
    if secret:
        form["code"] = pyotp.TOTP(secret).now()
    answer = client.post("/login", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text[:300]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megabytes", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    data = transcript(args.megabytes, args.seed)
    base = Path(args.dir or tempfile.mkdtemp(prefix="casevault-bench-review-"))
    settings = Settings(data_dir=base / "data", database_url=None, secure_cookies=False)
    with Vault.initialize(settings, PASSPHRASE) as vault:
        case = vault.create_case("Affaire H", actor="bench")
        vault.add_identity(case, name="Hadrien Quillon", aliases=["Quillon", "Hadrien"], label="H", actor="bench")
        vault.add_identity(case, name="Quentin Malaure", aliases=["Malaure", "QM"], label="Caller 1", actor="bench")
        rex, _ = vault.add_user("rex", "reviewer", cases=(case.id,), actor="bench")
        uploader, _ = vault.add_user("rita", "reviewer", cases=(case.id,), actor="bench")
        password, secret = vault.reset_sign_in("rex", actor="bench")
        began = time.perf_counter()
        document = vault.ingest(io.BytesIO(data), case=case, filename="long-call.txt", actor=uploader.id)
        ingest_seconds = time.perf_counter() - began
        view = vault.review_view(document.id, rex, actor="bench")
        pending = [s for s in view.suggestions if s["state"] == "pending"]
        groups = {(s["text"], s["category"]) for s in pending}
        texts = [t for _, _, t in view.units]
        app = create_app(settings, vault=vault)
        with TestClient(app, base_url="http://testserver") as client:
            sign_in(client, "rex", password, secret)
            page_best, page_median, page = timed(lambda: client.get(f"/review/{document.id}"), args.repeat)
            assert page.status_code == 200, page.text[:300]
            template = jinja2.Environment(autoescape=True).from_string(
                "<html><body>{% for t in texts %}<p>{{ t }}</p>{% endfor %}</body></html>")
            ref_best, ref_median, reference = timed(lambda: template.render(texts=texts), args.repeat)
            token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
            largest = re.search(r'data-key="([^"]+)" data-count="(\d+)" data-text="([^"]*)"', page.text)
            review_best, review_median, _ = timed(lambda: vault.review_view(document.id, rex, actor="bench"),
                                                  args.repeat)
            began, began_cpu = time.perf_counter(), time.process_time()
            decided = client.post(f"/review/{document.id}/groups",
                                  data={"csrf": token, "group": largest.group(1), "decision": "reject",
                                        "confirm": "yes"}, follow_redirects=False)
            after = client.get(decided.headers.get("location", f"/review/{document.id}"))
            decide_seconds, decide_cpu = time.perf_counter() - began, time.process_time() - began_cpu
    print(f"transcript: {len(data) / 1024 / 1024:.2f} MB, {len(texts)} units, {len(pending)} pending suggestions "
          f"in {len(groups)} groups; ingest {ingest_seconds:.2f} s")
    print(f"GET /review/{{id}}: best {page_best * 1000:.0f} ms, median {page_median * 1000:.0f} ms, "
          f"{len(page.content) / 1024:.0f} KB")
    print(f"reference (the whole text as plain HTML through Jinja2, no suggestion): best {ref_best * 1000:.0f} ms, "
          f"median {ref_median * 1000:.0f} ms, {len(reference) / 1024:.0f} KB")
    print(f"ratio page/reference (median): {page_median / ref_median:.1f}x wall, {CPU[0] / CPU[1]:.1f}x CPU "
          f"(CPU medians: page {CPU[0] * 1000:.0f} ms, reference {CPU[1] * 1000:.0f} ms)")
    print(f"vault.review_view over every unit (decrypt, match identities in all, collect suggestions): best "
          f"{review_best * 1000:.0f} ms, median {review_median * 1000:.0f} ms, CPU {CPU[2] * 1000:.0f} ms")
    print(f"group decision (reject the largest group, {largest.group(3)!r} x{largest.group(2)}, POST + redirected GET): {decide_seconds * 1000:.0f} ms, "
          f"answer {decided.status_code} then {after.status_code}, CPU {decide_cpu * 1000:.0f} ms; "
          f"ratio to the reference {decide_seconds / ref_median:.1f}x wall, {decide_cpu / CPU[1]:.1f}x CPU")
    print("a decision re-masks (and re-detects) the whole document: the ingest is its floor")


if __name__ == "__main__":
    main()
