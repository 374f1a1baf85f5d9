"""Personas and a call transcript shared by the redaction and unmask tests."""

from __future__ import annotations

import pytest

CALL = (
    "[00:00:04] QM: Hadrien, ta mère t'attend à la maison.\n"
    "[00:00:09] H: Monsieur Malaure, je ne rentrerai pas.\n"
    "[00:00:15] QM: QUILLON, réfléchis. Quillon's company will suffer.\n"
).encode()
SECRETS = ["Hadrien Quillon", "Hadrien", "Quillon", "Quentin Malaure", "Malaure"]


@pytest.fixture
def people(vault, case):
    other = vault.create_case("Another case", actor="tester")
    users = {
        "ivy": vault.add_user("ivy", "investigator", cases=(case.id,), actor="tester")[0],
        "rex": vault.add_user("rex", "reviewer", cases=(case.id,), actor="tester")[0],
        "rita": vault.add_user("rita", "reviewer", cases=(case.id,), actor="tester")[0],
        "ada": vault.add_user("ada", "admin", cases=(case.id,), actor="tester")[0],
        "otto": vault.add_user("otto", "investigator", cases=(other.id,), actor="tester")[0],
    }
    vault.add_identity(case, name="Hadrien Quillon", aliases=["Quillon", "Hadrien"], label="H", actor="tester")
    vault.add_identity(case, name="Quentin Malaure", aliases=["Malaure", "QM"], label="Caller 1", actor="tester")
    return users


def speaker_suggestions(vault, document_id):
    masked = vault.masked(document_id)
    return [r for u in masked.units for r in u.suggestions if r["field"] == "speaker"]


def release_all(vault, people, document_id):
    masked = vault.masked(document_id)
    records = [*(r for u in masked.units for r in u.suggestions), *masked.title_suggestions]
    for record in [r for r in records if r["state"] == "pending"]:
        vault.decide(document_id, people["rex"], [record["id"]], accept=False, actor="tester")
    return vault.release(document_id, people["rex"], actor="tester")
