"""bench/detect.py runs on small inputs and prints a line per input (no figure is checked)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.redaction.test_detect import ADVERSARIAL

ROOT = Path(__file__).resolve().parents[2]


def test_the_detection_benchmark_runs_on_small_inputs():
    done = subprocess.run([sys.executable, "-W", "error", str(ROOT / "bench" / "detect.py"), "--kb", "2", "--runs", "1"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    for name in [*ADVERSARIAL, "demo corpus"]:
        assert f"\n{name} " in done.stdout, name
