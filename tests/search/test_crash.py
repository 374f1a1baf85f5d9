"""SECURITY-TESTS.md 47: a search index killed while it is written reopens consistent with the
database, with what the dead writers left swept away."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from search import Search
from tests.conftest import PASSPHRASE, ingest_bytes
from tests.search.conftest import release

ROOT = Path(__file__).resolve().parents[2]


def test_reindex_killed_again_and_again_leaves_a_consistent_index(vault, case, people, settings, database_url):
    for number in range(40):
        turns = "".join(f"[00:00:{t:02d}] QM: lighthouse report {number} part {t} about the harbour.\n" for t in range(20))
        document = ingest_bytes(vault, case, turns.encode(), f"call{number}.txt")
        if number % 2 == 0:
            release(vault, document.id, people["rex"], people["rita"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEVAULT_")}
    env.update(CASEVAULT_DATA=str(settings.data_dir), CASEVAULT_PASSPHRASE=PASSPHRASE,
               PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    if database_url:
        env["CASEVAULT_DATABASE_URL"] = database_url
    rng = random.Random(3)
    for _ in range(6):
        child = subprocess.Popen([sys.executable, "-m", "web", "reindex"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 2.0))
        child.send_signal(signal.SIGKILL)
        child.wait()
    with Search.open(vault) as search:
        answer = search.search(people["ivy"], "lighthouse", actor="tester").to_json()
        assert answer["total"] == 20 * 20  # every turn of the 20 released calls, each once
        assert search.search(people["rex"], "harbour", actor="tester").total == 40 * 20
        for index in search.follower.indexes():
            assert index.storage._orphans("MAIN") == []
            leftovers = [p.name for p in index.path.iterdir() if p.name.endswith(".partial") or p.name.endswith(".tmp")]
            assert leftovers == []
