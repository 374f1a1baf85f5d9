"""Each command imports only what it uses: the command line starts and prints its help without
the vault, the web stack or Whoosh, and a command that only reads the vault loads neither of
the other two."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.web.cli.test_commands import ROOT, run  # noqa: F401 - run: the CLI fixture, a fresh vault

WEB_STACK_AND_WHOOSH = ("fastapi", "starlette", "uvicorn", "jinja2", "whoosh")
HEAVY = (*WEB_STACK_AND_WHOOSH, "vault", "search", "sqlalchemy")
PROBE = """
import json, sys
from web.cli import main
try:
    main({args!r}, prog_name="casevault")
except SystemExit as exit:
    if exit.code:
        raise
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})))
"""


def _casevault(args: list[str], env: dict[str, str]) -> tuple[str, list[str]]:
    """Run the command line in a fresh interpreter: what it printed, and the heavy modules it loaded."""
    result = subprocess.run([sys.executable, "-c", PROBE.format(args=args, heavy=HEAVY)], env=env,
                            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    assert result.returncode == 0, result.stderr
    output, _, loaded = result.stdout.rstrip("\n").rpartition("\n")
    return output, json.loads(loaded)


@pytest.mark.parametrize("args", [["--help"], ["audit", "--help"], ["search", "--help"], ["serve", "--help"],
                                  ["ingest", "--help"]])
def test_help_loads_no_vault_no_web_stack_and_no_whoosh(args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEVAULT_")} | {"PYTHONPATH": str(ROOT)}
    output, loaded = _casevault(args, env)
    assert "Usage: casevault" in output
    assert not loaded, f"casevault {' '.join(args)} loaded {loaded}"


def test_a_command_that_reads_the_vault_loads_no_web_stack_and_no_whoosh(run):
    output, loaded = _casevault(["audit", "verify"], run.env)
    assert "audit log intact" in output
    wrong = [m for m in loaded if m.split(".")[0] in WEB_STACK_AND_WHOOSH]
    assert not wrong, f"casevault audit verify loaded {wrong}"


def test_the_choices_written_out_for_help_are_the_domain_values():
    from search import Sort
    from vault import IdentityCategory, Kind
    from web.cli._documents import KINDS
    from web.cli._identities import CATEGORIES
    from web.cli._search import SORTS

    assert KINDS == tuple(k.value for k in Kind)
    assert SORTS == tuple(s.value for s in Sort)
    assert CATEGORIES == tuple(c.value for c in IdentityCategory)
