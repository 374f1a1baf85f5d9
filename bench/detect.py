"""Candidate detection on hostile and ordinary text, timed against a plain regular-expression scan.

    python3 bench/detect.py [--kb 100] [--runs 3]

For each input of ``--kb`` KB (the hostile patterns that tests/redaction/test_detect.py holds to
linear work, and the demo corpus's court records and transcripts repeated to the size), times
``detect()`` (best of ``--runs``) and, in the same run, a reference: one ``re`` pass over the same
text that finds every word (``\\w+``). The ratio says how many reference scans one detection costs,
which stays comparable from a busy machine to an idle one where seconds do not; the last column
is the ratio at ``--kb`` over the ratio at a tenth of it, about 1 where the cost is linear.
The word frequency lists are loaded before anything is timed.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

# bench/ holds http.py: keep this folder off sys.path, or it would hide the standard library's http
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redaction import detect  # noqa: E402
from tests.redaction.test_detect import ADVERSARIAL as HOSTILE  # noqa: E402  (the same inputs as the test's)

ROOT = Path(__file__).resolve().parents[1]
_REFERENCE = re.compile(r"\w+")


def _corpus() -> str:
    demo = ROOT / "vault" / "demo"
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(demo.rglob("*"))
             if p.is_file() and p.suffix in (".txt", ".json", ".md", ".html")]
    return "\n\n".join(texts) or "Mme Odile Quillon appelle le 06 39 98 42 17. "


def _best(runs: int, work) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def _ratio(text: str, runs: int) -> tuple[float, float]:
    seconds = _best(runs, lambda: detect(text, speakers=["H", "SPEAKER_01"]))
    reference = _best(runs, lambda: sum(1 for _ in _REFERENCE.finditer(text)))
    return seconds, seconds / max(reference, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kb", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    size = args.kb * 1000
    corpus = _corpus()
    inputs = {name: (head, unit, tail) for name, (head, unit, tail) in HOSTILE.items()}
    inputs["demo corpus"] = ("", corpus, "")
    detect("sa mère, Odile Quillon, et Jean Valmont l'ont vu.")  # loads wordfreq and its lists

    print(f"detect() on {args.kb} KB, best of {args.runs}; reference: one re scan for \\w+ of the same text")
    print(f"{'input':<26}{'ms':>9}{'x reference':>13}{'growth 10x':>12}")
    for name, (head, unit, tail) in inputs.items():
        def text(n: int) -> str:
            return (head + unit * (n // len(unit) + 1))[:n - len(tail)] + tail
        seconds, ratio = _ratio(text(size), args.runs)
        _, small_ratio = _ratio(text(size // 10), args.runs)
        print(f"{name:<26}{seconds * 1000:>9.1f}{ratio:>13.1f}{ratio / small_ratio:>12.2f}")


if __name__ == "__main__":
    main()
