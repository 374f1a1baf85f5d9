"""The web layer never acts as the operator (DESIGN.md rule 11): every vault call of the API and
the pages that makes or changes access says who acts (``by=`` an admin or user, ``reader=`` for
the audit), and none reaches the operator-only ``reset_sign_in``. Without ``by``, the vault would
take the call as the operator's, whose memberships need no confirmation."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"
ACTS = {"add_user": "by", "set_membership": "by", "set_role": "by", "reset_credentials": "by",
        "issue_access_key": "by", "revoke_access_key": "by", "confirm": "by", "audit_entries": "reader"}
OPERATOR_ONLY = {"reset_sign_in"}
# every module of the API and of the pages
MODULES = sorted(str(p.relative_to(WEB)) for package in ("api", "pages") for p in (WEB / package).glob("*.py"))


def _vault_calls(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            yield node.func.attr, node


@pytest.mark.parametrize("module", MODULES)
def test_the_web_layer_says_who_acts_on_every_access_change(module):
    wrong = []
    for name, call in _vault_calls(WEB / module):
        if name in OPERATOR_ONLY:
            wrong.append(f"line {call.lineno}: {name} is the operator's (it shows a password)")
        elif name in ACTS and ACTS[name] not in {k.arg for k in call.keywords}:
            wrong.append(f"line {call.lineno}: {name} without {ACTS[name]}=, so it acts as the operator")
        elif name in ACTS and any(isinstance(k.value, ast.Name) and k.value.id == "OPERATOR" for k in call.keywords):
            wrong.append(f"line {call.lineno}: {name} as the OPERATOR")
    assert not wrong, f"web/{module}: " + "; ".join(wrong)


def test_the_check_sees_the_calls():
    assert len(MODULES) > 10
    names = {name for module in MODULES for name, _ in _vault_calls(WEB / module)}
    assert set(ACTS) <= names, set(ACTS) - names
