"""The policy is decided in one place (redaction's permission table and rules): web/ asks it,
never a role. A ``user.role is Role.ADMIN`` in a route is a second policy that drifts from the
table; here any comparison that involves ``Role.<X>`` or a ``.role`` attribute fails."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _about_a_role(node: ast.expr) -> bool:
    """``Role.X`` or ``<anything>.role`` (``user.role``, ``session.user.role``...)."""
    if not isinstance(node, ast.Attribute):
        return False
    return node.attr == "role" or (isinstance(node.value, ast.Name) and node.value.id == "Role")


def role_comparisons(source: str, filename: str = "<source>") -> list[int]:
    """The lines of ``source`` that compare a role (``is``, ``==``, ``in``, ``!=``, ``is not``...)."""
    lines = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Compare) and any(_about_a_role(n) for n in (node.left, *node.comparators)):
            lines.append(node.lineno)
    return sorted(lines)


def test_web_compares_no_role():
    wrong = [f"{path.relative_to(ROOT)}:{line}" for path in sorted((ROOT / "web").rglob("*.py"))
             for line in role_comparisons(path.read_text(), str(path))]
    assert not wrong, "web/ decides by role instead of asking the permission table: " + ", ".join(wrong)


def test_the_check_finds_what_web_used_to_do():
    """The shapes web/ had before the one gate (see git history), each caught."""
    found = role_comparisons(
        "a = user.role is Role.ADMIN\n"
        "b = session.user.role is not Role.REVIEWER\n"
        "c = Role.ADMIN == user.role\n"
        "d = user.role in (Role.ADMIN, Role.REVIEWER)\n"
        "e = x.role != 'admin'\n"
        "f = case.id in user.cases or user.role is Role.ADMIN\n"
    )
    assert found == [1, 2, 3, 4, 5, 6]


def test_naming_a_role_without_comparing_is_fine():
    assert role_comparisons("roles = [r.value for r in Role]\nlabel = user.role.value\nk = Role('admin')\n") == []
