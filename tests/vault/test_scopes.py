"""Pseudonym scopes and identity changes: per case by default, archive-wide by opt-in, and every
change re-masks the whole scope, even across a crash or a second process."""

from __future__ import annotations

import pytest

from tests.conftest import PASSPHRASE, ingest_bytes
from tests.vault.conftest import release_all
from vault import IdentityCategory, Vault
from vault.errors import Conflict, InvalidInput, NotFound

CALL = "[00:00:01] A: Hadrien Quillon a rappelé hier soir.\n[00:00:04] B: Dis à Hadrien de rentrer.\n".encode()


def _text(vault, document_id, user):
    return "\n".join(u.text for u in vault.view(document_id, user, actor="tester").units)


@pytest.fixture
def team(vault):
    """Two archive-scope cases, one case of its own, and who works where."""
    cases = {
        "north": vault.create_case("North", actor="tester", archive_scope=True),
        "south": vault.create_case("South", actor="tester", archive_scope=True),
        "own": vault.create_case("Own", actor="tester"),
    }
    ids = tuple(c.id for c in cases.values())
    people = {
        "ivy": vault.add_user("ivy", "investigator", cases=ids, actor="tester")[0],
        "rex": vault.add_user("rex", "reviewer", cases=ids, actor="tester")[0],
    }
    documents = {name: ingest_bytes(vault, case, CALL, "call.txt") for name, case in cases.items()}
    for document in documents.values():
        release_all(vault, people, document.id)
    return cases, people, documents


def test_an_archive_identity_masks_every_archive_case_and_no_other(vault, team):
    cases, people, documents = team
    vault.add_identity(cases["north"], name="Hadrien Quillon", aliases=["Hadrien"], label="H", actor="tester")
    for name in ("north", "south"):
        text = _text(vault, documents[name].id, people["ivy"])
        assert "Hadrien" not in text and "Quillon" not in text and text.count("H") >= 2
    assert "Hadrien Quillon" in _text(vault, documents["own"].id, people["ivy"])  # not in the scope
    # the same token stands for the same person in both archive cases
    assert vault.masked(documents["north"].id).tokens == vault.masked(documents["south"].id).tokens
    assert {c.name: c.archive_scope for c in vault.cases()} == {"North": True, "South": True, "Own": False}


def test_per_case_scopes_are_unlinkable_and_labels_repeat_only_across_scopes(vault, team):
    cases, _, documents = team
    vault.add_identity(cases["own"], name="Hadrien Quillon", aliases=["Hadrien"], label="H", actor="tester")
    vault.add_identity(cases["north"], name="Hadrien Quillon", aliases=["Hadrien"], label="H", actor="tester")
    own, north = (vault.masked(documents[n].id).tokens for n in ("own", "north"))
    assert own and north and not set(own) & set(north)  # one person, two tokens nobody can link
    with pytest.raises(Conflict):  # the label is taken in the archive scope, through another case
        vault.add_identity(cases["south"], name="Someone Else", label="h", actor="tester")
    assert [i.label for i in vault.identities(cases["south"])] == ["H"]


def test_an_unmask_grant_in_one_archive_case_does_not_reach_another(vault, team):
    cases, people, documents = team
    vault.add_identity(cases["north"], name="Hadrien Quillon", aliases=["Hadrien"], label="H", actor="tester")
    rita = vault.add_user("rita", "reviewer", cases=(cases["north"].id,), actor="tester")[0]
    request = vault.request_unmask(people["ivy"], cases["north"], "H", "Needed to cross-check the caller's claims.",
                                   actor="tester")
    vault.decide_unmask(request.id, rita, approve=True, actor="tester")
    assert "Hadrien Quillon" in _text(vault, documents["north"].id, people["ivy"])
    assert "Hadrien" not in _text(vault, documents["south"].id, people["ivy"])


def test_editing_an_identity_remasks_its_scope(vault, team):
    cases, people, documents = team
    vault.add_identity(cases["own"], name="Hadrien Quillon", label="H", actor="tester")
    # the first name alone is not an alias yet: a word of the registered name standing alone is a
    # suggestion, masked as its category until a reviewer decides
    assert "Dis à [person] de" in _text(vault, documents["own"].id, people["ivy"])
    vault.edit_identity(cases["own"], "h", add_aliases=["Hadrien"], actor="tester")
    assert "Dis à H de" in _text(vault, documents["own"].id, people["ivy"])
    edited = vault.edit_identity(cases["own"], "H", label="The businessman", actor="tester")
    assert edited.label == "The businessman" and edited.aliases == ("Hadrien Quillon", "Hadrien")
    text = _text(vault, documents["own"].id, people["ivy"])
    assert text.startswith("The businessman a rappelé") and "Hadrien" not in text
    vault.edit_identity(cases["own"], "The businessman", remove_aliases=["HADRIEN"], actor="tester")
    assert "Dis à [person] de" in _text(vault, documents["own"].id, people["ivy"])  # a suggestion again
    # the audit says what changed, never to what
    entry = [e for e in vault.audit_entries() if e.action == "identity.edit"][-1]
    assert entry.details["changed"] == ["aliases"] and "Hadrien" not in str(entry.details)


def test_a_new_real_name_keeps_the_old_one_as_an_alias(vault, team):
    cases, people, documents = team
    vault.add_identity(cases["own"], name="Hadrien Quillon", label="H", actor="tester")
    edited = vault.edit_identity(cases["own"], "H", name="Hadrien Q. Quillon", actor="tester")
    assert edited.name == "Hadrien Q. Quillon" and "Hadrien Quillon" in edited.aliases
    assert "Quillon" not in _text(vault, documents["own"].id, people["ivy"])


@pytest.mark.parametrize("change, error", [
    ({}, InvalidInput),
    ({"remove_aliases": ["Nobody"]}, InvalidInput),
    ({"remove_aliases": ["Hadrien Quillon"]}, InvalidInput),  # the real name itself
    ({"label": "Caller 1"}, Conflict),
    ({"add_aliases": ["  "]}, InvalidInput),
])
def test_a_bad_edit_is_refused_and_changes_nothing(vault, team, change, error):
    cases, _, _ = team
    vault.add_identity(cases["own"], name="Hadrien Quillon", label="H", actor="tester")
    vault.add_identity(cases["own"], name="Quentin Malaure", label="Caller 1", actor="tester")
    before = vault.identities(cases["own"])
    with pytest.raises(error):
        vault.edit_identity(cases["own"], "H", actor="tester", **change)
    assert vault.identities(cases["own"]) == before
    with pytest.raises(NotFound):
        vault.edit_identity(cases["north"], "H", label="X", actor="tester")  # H is not in that scope


def test_a_change_interrupted_before_remasking_is_finished_before_anyone_reads(vault, team, settings):
    cases, people, documents = team
    # the identity is committed, then the process dies before re-masking (nothing re-masked)
    with vault.db.write() as session:
        vault.identity_map.add(session, cases["north"].id, name="Hadrien Quillon", aliases=["Hadrien"], label="H",
                               category=IdentityCategory.PERSON, actor="tester")
    assert set(vault.stale_documents()) == {documents["north"].id, documents["south"].id}
    assert "Hadrien" not in _text(vault, documents["north"].id, people["ivy"])  # masked before it is shown
    vault.close()
    with Vault.open(settings, PASSPHRASE) as reopened:  # opening finishes the rest
        assert reopened.stale_documents() == []
        assert "Hadrien" not in _text(reopened, documents["south"].id, people["ivy"])


def test_an_identity_added_by_another_process_is_used_at_once(vault, team, settings):
    cases, people, _ = team
    ingest_bytes(vault, cases["own"], b"warm the matcher cache\n", "warm.txt")
    with Vault.open(settings, PASSPHRASE) as other:
        other.add_identity(other.case("Own"), name="Hadrien Quillon", aliases=["Hadrien"], label="H", actor="tester")
    document = ingest_bytes(vault, cases["own"], "Hadrien est parti.\n".encode(), "late.txt")
    assert vault.masked(document.id).tokens and "Hadrien" not in vault.masked(document.id).units[0].text
