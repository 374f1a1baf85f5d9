"""What a refused sign-in costs, by what was wrong: does the time tell whether a name exists?

    python3 bench/sign_in.py [--rounds 15] [--database-url URL]

A fresh vault (SQLite by default) with ivy (investigator, password), rex (reviewer, password and
TOTP), nora (a user who never got a password) and dina (disabled). Each round signs in once of
every kind below, in a shuffled order (so load on the machine spreads over all kinds), through
``Vault.sign_in``, the call the sign-in page makes (the audit write of a refusal included). Prints
the median and the spread (p10-p90) per kind in milliseconds, and the largest difference between
medians as a share of the smallest. Each kind should cost one Argon2id verification
(tests/vault/test_sign_in.py counts them), so the medians should agree within the noise.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vault import Settings, SignInFailed, Vault  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="casevault-bench-") as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", database_url=args.database_url)
        with Vault.initialize(settings, "benchmark passphrase, not secret") as vault:
            case = vault.create_case("bench", actor="bench")
            passwords = {}
            for name, role in (("ivy", "investigator"), ("rex", "reviewer"), ("nora", "investigator"),
                               ("dina", "investigator")):
                vault.add_user(name, role, cases=(case.id,), actor="bench")
                if name != "nora":
                    passwords[name], _ = vault.reset_sign_in(name, actor="bench")
            vault.set_active("dina", active=False, actor="bench")
            kinds = {
                "unknown user": ("mallory", "a guessed password"),
                "wrong password": ("ivy", "a guessed password"),
                "user without a password": ("nora", "a guessed password"),
                "disabled user": ("dina", passwords["dina"]),
                "reviewer, no code": ("rex", passwords["rex"]),
            }
            for name, password in kinds.values():  # warm up: the dummy hash, the connection pool
                try:
                    vault.sign_in(name, password, None)
                except SignInFailed:
                    pass
            times: dict[str, list[float]] = {kind: [] for kind in kinds}
            rng = random.Random(7)
            for _ in range(args.rounds):
                order = list(kinds)
                rng.shuffle(order)
                for kind in order:
                    name, password = kinds[kind]
                    started = time.perf_counter()
                    try:
                        vault.sign_in(name, password, None)
                    except SignInFailed:
                        pass
                    times[kind].append((time.perf_counter() - started) * 1000)
    medians = {}
    print(f"refused sign-ins, {args.rounds} rounds ({'SQLite' if not args.database_url else 'PostgreSQL'}):")
    for kind, samples in times.items():
        deciles = statistics.quantiles(samples, n=10)
        medians[kind] = statistics.median(samples)
        print(f"  {kind:<24} median {medians[kind]:7.1f} ms  p10-p90 {deciles[0]:7.1f}-{deciles[-1]:7.1f} ms")
    low, high = min(medians.values()), max(medians.values())
    print(f"largest difference between medians: {high - low:.1f} ms ({(high - low) / low:.0%} of the smallest)")


if __name__ == "__main__":
    main()
