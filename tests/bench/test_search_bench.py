"""bench/search.py runs end to end on a tiny corpus and prints its table (no figure is checked)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_search_benchmark_runs_on_a_tiny_corpus():
    done = subprocess.run([sys.executable, "-W", "error", str(ROOT / "bench" / "search.py"),
                           "--turns", "300", "--queries", "5"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    for heading in ("indexing (300 turns", "index size on disk", "query latency", "aims", "peak RSS"):
        assert heading in done.stdout
    for kind in ("term", "and", "phrase", "prefix", "fuzzy", "field"):
        assert f"  {kind} [" in done.stdout
    assert "with no hit" not in done.stderr
