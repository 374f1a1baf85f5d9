"""Whoosh stays behind one door: no module of the project outside ``search/_engine/`` imports it.

The rest of ``search`` works with the plain types the engine hands out (ids, numbers, masked
strings, frozen dataclasses), so a change of engine, or a patch to Whoosh, is one package's
business. Tests and benchmarks may import Whoosh: they hold the engine to Whoosh's own answers.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("keys", "redaction", "vault", "search", "web")
ENGINE = ROOT / "search" / "_engine"
_DYNAMIC = {"import_module", "__import__"}


def _whoosh_imports(path: Path) -> list[int]:
    """The lines of ``path`` that import whoosh, statically or by name."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and getattr(node.func, "attr", getattr(node.func, "id", None)) in _DYNAMIC):
            names = [node.args[0].value]
        else:
            continue
        if any(name == "whoosh" or name.startswith("whoosh.") for name in names):
            lines.append(node.lineno)
    return lines


def _outside_the_engine() -> list[Path]:
    return [path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
            if ENGINE not in path.parents]


def test_only_the_engine_imports_whoosh():
    wrong = [f"{path.relative_to(ROOT)}:{line}" for path in _outside_the_engine() for line in _whoosh_imports(path)]
    assert not wrong, "whoosh imported outside search/_engine: " + ", ".join(wrong)


def test_the_check_sees_every_form_of_import(tmp_path):
    forms = ["import whoosh", "import whoosh.query as q", "from whoosh import query",
             "from whoosh.searching import Searcher", "importlib.import_module('whoosh.index')",
             "__import__('whoosh')", "def f():\n    from whoosh.reading import SegmentReader"]
    for form in forms:
        module = tmp_path / "module.py"
        module.write_text(f"import importlib\n{form}\n")
        assert _whoosh_imports(module), form
    module.write_text("import whooshing\nfrom search._engine import parse\nwhoosh = 'a word'\n")
    assert not _whoosh_imports(module)


def test_the_engine_does_import_whoosh_and_the_walk_reaches_search():
    """Else the first test would pass by reading nothing."""
    assert any(_whoosh_imports(path) for path in ENGINE.rglob("*.py"))
    walked = {path.relative_to(ROOT).as_posix() for path in _outside_the_engine()}
    assert {"search/_service.py", "search/_results.py", "search/_follower.py", "search/_query.py"} <= walked
