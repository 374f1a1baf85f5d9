"""The shape of web/, beside the import arrows of test_architecture.py.

One permission gate: the policy is decided in one place (redaction's permission table and
rules); web/ asks it, never a role. A ``user.role is Role.ADMIN`` in a route is a second policy
that drifts from the table; here any comparison that involves ``Role.<X>`` or a ``.role``
attribute fails. And: handlers off the event loop, pages that never import the API, no file of
web/ over 500 lines."""

from __future__ import annotations

import ast
import inspect
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


# -- the rest of web/'s shape -----------------------------------------------------------------------

ASYNC_HANDLERS = {"upload_document", "upload"}  # they read a streamed upload; the vault's work goes to the pool


def _routes(router):
    for route in router.routes:
        if hasattr(route, "original_router"):  # an included router
            yield from _routes(route.original_router)
        else:
            yield route


def test_handlers_leave_the_event_loop_free():
    """A plain ``def`` runs in FastAPI's thread pool; an ``async def`` runs on the event loop,
    where a blocking vault call (re-masking, fsync, key derivation) stalls every other request."""
    from web.api import router as api
    from web.pages import router as pages

    handlers = [route.endpoint for router in (api, pages) for route in _routes(router)]
    assert len(handlers) > 60
    on_the_loop = sorted(h.__name__ for h in handlers if inspect.iscoroutinefunction(h))
    assert set(on_the_loop) <= ASYNC_HANDLERS, f"async handlers: {on_the_loop}"


def test_pages_never_import_the_api():
    wrong = [f"{path.relative_to(ROOT)}:{node.lineno}" for path in sorted((ROOT / "web" / "pages").rglob("*.py"))
             for node in ast.walk(ast.parse(path.read_text(), str(path)))
             if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("web.api")]
    assert not wrong, "shared code goes in web/deps.py or a shared module: " + ", ".join(wrong)


def test_no_file_of_web_is_over_500_lines():
    long = [f"{path.relative_to(ROOT)}: {n}" for path in sorted((ROOT / "web").rglob("*.py"))
            if path.name != "cli.py" and (n := len(path.read_text().splitlines())) > 500]
    assert not long, long
