"""Imports flow one way (DESIGN.md): keys and redaction import no project package; vault may
import keys and redaction; search may import vault, redaction and keys; web imports them all;
nothing imports web; only web imports the web frameworks."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["keys", "redaction", "vault", "search", "web"]
ALLOWED = {
    "keys": set(),
    "redaction": set(),
    "vault": {"keys", "redaction"},
    "search": {"vault", "redaction", "keys"},
    "web": {"keys", "redaction", "vault", "search"},
}
WEB_ONLY = {"fastapi", "starlette", "jinja2", "click", "uvicorn"}


def _imports(package: str) -> list[tuple[Path, int, str]]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(path, node.lineno, alias.name.split(".")[0]) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append((path, node.lineno, node.module.split(".")[0]))
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_flow_one_way(package):
    wrong = [f"{p.relative_to(ROOT)}:{line} imports {name}" for p, line, name in _imports(package)
             if name in PACKAGES and name != package and name not in ALLOWED[package]]
    assert not wrong, "wrong arrows: " + "; ".join(wrong)


@pytest.mark.parametrize("package", [p for p in PACKAGES if p != "web"])
def test_only_web_imports_web_frameworks(package):
    wrong = [f"{p.relative_to(ROOT)}:{line} imports {name}" for p, line, name in _imports(package)
             if name in WEB_ONLY]
    assert not wrong, "; ".join(wrong)


def test_every_package_is_checked():
    on_disk = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
    assert on_disk == set(PACKAGES)
