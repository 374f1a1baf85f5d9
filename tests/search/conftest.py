"""A case with released and in-review transcripts, registered people, and personas.

Personas: ivy (investigator of the case), rex and rita (reviewers of the case), ada (admin),
otto (investigator of another case), nobody (investigator of no case).
"""

from __future__ import annotations

import pytest

from search import Search
from tests.conftest import ingest_bytes

# Real names, in every form a leak test looks for them
NAMES = ["Hadrien Quillon", "Quillon", "Hadrien", "Quentin Malaure", "Malaure"]

CALL_1 = (
    "[00:00:04] QM: Hadrien, the noose will tighten around your sister.\n"
    "[00:00:09] H: A red notice changes nothing. QUILLON stays here.\n"
    "[00:00:15] QM: Quillon's family is waiting for you in Lyon.\n"
).encode()
CALL_2 = (
    "[00:01:00] QM: Malaure speaking. Think about your mother, Hadrien.\n"
    "[00:01:07] H: Gérard told me the red notice was withdrawn.\n"
).encode()
IN_REVIEW = "[00:02:00] QM: The noose tightens, Quillon. Your sister knows.\n[00:02:05] H: Leave her alone.\n".encode()


def release(vault, document_id, reviewer, releaser):
    """Link the speaker label "H" to the identity H, reject every other suggestion, release."""
    masked = vault.masked(document_id)
    case = vault.case(vault.document(document_id).case_id)
    h = [i.id for i in vault.identities(case) if i.label == "H"]
    speakers = [r["id"] for u in masked.units for r in u.suggestions
                if r["state"] == "pending" and r["field"] == "speaker" and r["text"] == "H"]
    if h and speakers:
        vault.decide(document_id, reviewer, speakers, accept=True, identity_id=h[0], actor="tester")
    masked = vault.masked(document_id)
    records = [*(r for u in masked.units for r in u.suggestions), *masked.title_suggestions]
    pending = [r["id"] for r in records if r["state"] == "pending"]
    if pending:
        vault.decide(document_id, reviewer, pending, accept=False, actor="tester")
    return vault.release(document_id, releaser, actor="tester")


@pytest.fixture
def people(vault, case):
    other = vault.create_case("Another case", actor="tester")
    users = {
        "ivy": vault.add_user("ivy", "investigator", cases=(case.id,), actor="tester")[0],
        "rex": vault.add_user("rex", "reviewer", cases=(case.id,), actor="tester")[0],
        "rita": vault.add_user("rita", "reviewer", cases=(case.id,), actor="tester")[0],
        "ada": vault.add_user("ada", "admin", cases=(case.id,), actor="tester")[0],
        "otto": vault.add_user("otto", "investigator", cases=(other.id,), actor="tester")[0],
        "nobody": vault.add_user("nobody", "investigator", actor="tester")[0],
    }
    vault.add_identity(case, name="Hadrien Quillon", aliases=["Quillon", "Hadrien"], label="H", actor="tester")
    vault.add_identity(case, name="Quentin Malaure", aliases=["Malaure", "QM"], label="Caller 1", actor="tester")
    return users


@pytest.fixture
def corpus(vault, case, people):
    """Two released calls and one call still in review."""
    documents = {
        "call1": ingest_bytes(vault, case, CALL_1, "call1.txt"),
        "call2": ingest_bytes(vault, case, CALL_2, "call2.txt"),
        "review": ingest_bytes(vault, case, IN_REVIEW, "call3.txt"),
    }
    for name in ("call1", "call2"):
        release(vault, documents[name].id, people["rex"], people["rita"])
    return documents


@pytest.fixture
def search(vault, corpus):
    with Search.open(vault) as opened:
        yield opened
