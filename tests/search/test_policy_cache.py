"""What a vault keeps decrypted between searches never outlives the policy behind it.

The vault keeps case names, identities and each user's display (who sees which real name) while
the policy epoch stands still (``vault._policy``). These tests change the policy through a SECOND
``Vault`` on the same database, as another node of a PostgreSQL scale-out (or another process on
SQLite) would, and hold that the very next search through the first vault follows it; and that a
grant expiring by time stops revealing although nothing was written.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import PASSPHRASE
from tests.search.conftest import NAMES
from vault import Vault
from vault import _vault as vault_module
from vault._models import MembershipRow, PolicyEpochRow, utcnow

REASON = "Needed to match the caller with the 2023 extortion file."


def _answer(search, user, query) -> dict:
    return search.search(user, query, actor="tester").to_json()


def _leaks(answer: dict, names=NAMES) -> list[str]:
    text = json.dumps(answer, ensure_ascii=False).casefold()
    return [n for n in names if n.casefold() in text]


@pytest.fixture
def other(settings, search):
    """Another node: a second vault over the same database (the first one is ``vault``)."""
    with Vault.open(settings, PASSPHRASE) as opened:
        yield opened


def _warm(search, people, *queries):
    """Search as every persona once so that everything cacheable is cached."""
    for persona in ("ivy", "rex"):
        for query in queries:
            _answer(search, people[persona], query)


def test_a_grant_revoked_on_another_node_stops_revealing_at_the_next_search(vault, search, people, case, other):
    request = vault.request_unmask(people["ivy"], case, "H", REASON, actor="tester")
    vault.decide_unmask(request.id, people["rex"], approve=True, actor="tester")
    revealed = _answer(search, people["ivy"], "Quillon")
    assert revealed["total"] == 4 and "Hadrien Quillon" in json.dumps(revealed)
    _answer(search, people["ivy"], "Quillon")  # answered from what the vault kept

    other.revoke_unmask(request.id, people["rita"], actor="tester")
    after = _answer(search, people["ivy"], "Quillon")
    assert after["total"] == 0 and not _leaks(after)
    by_label = _answer(search, people["ivy"], "H sister")
    assert by_label["total"] == 1 and not _leaks(by_label)


def test_a_grant_approved_on_another_node_reveals_at_the_next_search(vault, search, people, case, other):
    request = vault.request_unmask(people["ivy"], case, "H", REASON, actor="tester")
    _warm(search, people, "Quillon", "H sister")
    assert _answer(search, people["ivy"], "Quillon")["total"] == 0
    other.decide_unmask(request.id, people["rex"], approve=True, actor="tester")
    assert _answer(search, people["ivy"], "Quillon")["total"] == 4


def test_a_grant_stops_revealing_when_it_expires_without_any_write(vault, search, people, case, monkeypatch):
    request = vault.request_unmask(people["ivy"], case, "H", REASON, actor="tester")
    vault.decide_unmask(request.id, people["rex"], approve=True, valid_for=timedelta(minutes=5), actor="tester")
    assert _answer(search, people["ivy"], "Quillon")["total"] == 4
    epoch = vault.policy_epoch()
    later = utcnow() + timedelta(minutes=6)
    monkeypatch.setattr(vault_module, "utcnow", lambda: later)
    answer = _answer(search, people["ivy"], "Quillon")
    assert vault.policy_epoch() == epoch  # nothing was written: time alone ended the grant
    assert answer["total"] == 0 and not _leaks(answer)
    assert not _leaks(_answer(search, people["ivy"], "H sister"))
    # the same through the document view, with an explicit clock
    display = vault.display(case.id, people["ivy"], now=later)
    assert display.revealing == {} and "Hadrien Quillon" not in display.shown.values()


def test_an_identity_registered_on_another_node_is_masked_and_searchable_by_label(vault, search, people, case, other):
    _warm(search, people, "gerard", "red notice")
    assert _answer(search, people["ivy"], "gerard")["total"] == 1
    other.add_identity(case, name="Gérard Brenner", aliases=["Gérard"], label="Witness", actor="tester")
    gone = _answer(search, people["ivy"], "gerard")
    assert gone["total"] == 0
    found = _answer(search, people["ivy"], "Witness notice")
    assert found["total"] == 1
    assert "Witness told me" in found["hits"][0]["snippets"][0]["text"]
    assert not _leaks(found, NAMES + ["Gérard", "Brenner"])
    # a reviewer of the case sees the new real name, from the same first vault
    assert "Gérard Brenner" in json.dumps(_answer(search, people["rex"], "Witness notice"), ensure_ascii=False)


def test_an_identity_renamed_on_another_node_is_seen_at_the_next_search(vault, search, people, case, other):
    _warm(search, people, "Quillon")
    other.edit_identity(case, "H", name="Hadrien Q. Quillon", actor="tester")
    answer = _answer(search, people["rex"], "Quillon")
    assert "Hadrien Q. Quillon" in json.dumps(answer)


def test_a_membership_removed_on_another_node_hides_the_case(vault, search, people, case, other, corpus):
    assert _answer(search, people["ivy"], "noose")["total"] == 1
    before = vault.policy_epoch()
    with other.db.write() as session:  # no vault call removes a membership yet: the table directly
        session.execute(sa.delete(MembershipRow).where(MembershipRow.user_id == people["ivy"].id))
    assert vault.policy_epoch() != before
    ivy = other.user("ivy")  # authenticated afresh, as every request is
    answer = _answer(search, ivy, "noose")
    assert answer == {"total": 0, "page": 1, "hits": [], "facets": {}}


def test_a_role_changed_on_another_node_takes_effect_at_the_next_search(vault, search, people, other):
    assert _answer(search, people["rex"], "noose")["total"] == 2  # the call in review too
    other.set_role("rex", "investigator", actor="tester")  # raw SQL would be refused as tampered
    rex = other.user("rex")
    answer = _answer(search, rex, "noose")
    assert answer["total"] == 1 and not _leaks(answer)
    assert _answer(search, rex, "Quillon")["total"] == 0


def test_a_case_created_on_another_node_is_listed_for_its_members(vault, search, people, other):
    _warm(search, people, "noose")
    created = other.create_case("Affaire K", actor="tester")
    kim = other.add_user("kim", "investigator", cases=(created.id,), actor="tester")[0]
    assert [c.name for c, _ in vault.visible_cases(kim)] == ["Affaire K"]
    assert _answer(search, kim, "noose")["total"] == 0  # its (empty) index is opened, nothing else shows


def test_every_write_to_what_the_policy_reads_moves_the_epoch(vault, search, people, case, other):
    def moves(action) -> bool:
        before = vault.policy_epoch()
        action()
        return vault.policy_epoch() != before

    request = None

    def ask():
        nonlocal request
        request = other.request_unmask(people["ivy"], case, "H", REASON, actor="tester")

    assert moves(lambda: other.create_case("Affaire L", actor="tester"))
    assert moves(lambda: other.add_user("lea", "investigator", cases=(case.id,), actor="tester"))
    assert moves(lambda: other.add_identity(case, name="Lise Moreau", label="Person 9", actor="tester"))
    assert moves(lambda: other.edit_identity(case, "Person 9", add_aliases=["Moreau"], actor="tester"))
    assert moves(ask)
    assert moves(lambda: other.decide_unmask(request.id, people["rex"], approve=True, actor="tester"))
    assert moves(lambda: other.revoke_unmask(request.id, people["rita"], actor="tester"))
    # what the policy does not read leaves it alone: searches, audit entries
    assert not moves(lambda: _answer(search, people["ivy"], "noose"))
    assert not moves(lambda: other.record(actor="tester", action="test"))


def test_a_failed_write_does_not_move_the_epoch(vault, people, case):
    before = vault.policy_epoch()
    with pytest.raises(RuntimeError), vault.db.write() as session:
        session.execute(sa.delete(MembershipRow).where(MembershipRow.user_id == people["ivy"].id))
        raise RuntimeError("rolled back")
    assert vault.policy_epoch() == before
    assert case.id in vault.user("ivy").cases


def test_a_vault_made_before_the_epoch_existed_opens_and_gets_one(settings, vault, people):
    with vault.db.engine.begin() as connection:
        connection.execute(sa.text(f"drop table {PolicyEpochRow.__tablename__}"))
    vault.close()
    with Vault.open(settings, PASSPHRASE) as reopened:
        epoch = reopened.policy_epoch()
        reopened.create_case("Affaire M", actor="tester")
        assert reopened.policy_epoch() != epoch
