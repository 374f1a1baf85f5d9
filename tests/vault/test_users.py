"""Users, memberships and access keys (SECURITY-TESTS.md item 20)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from redaction import Role
from vault import ACCESS_KEY_PREFIX, Unauthenticated
from vault._models import utcnow
from vault.errors import Conflict, Forbidden, InvalidInput, NotFound, StateTampered


def _sql(vault, statement: str, **params: object) -> None:
    with vault.db.engine.begin() as connection:
        connection.execute(sa.text(statement), params)


def test_added_user_authenticates_with_the_key_shown_once(vault, case):
    info, key = vault.add_user("ivy", "investigator", cases=("Affaire H",), actor="tester")
    assert key.startswith(ACCESS_KEY_PREFIX) and len(key) - len(ACCESS_KEY_PREFIX) >= 43  # 256 bits
    assert (info.name, info.role, info.cases) == ("ivy", Role.INVESTIGATOR, frozenset({case.id}))
    assert vault.authenticate(key).id == info.id
    assert vault.authenticate(key).actor.cases == frozenset({case.id})


def test_keys_are_random_and_stored_only_as_a_digest(vault, case):
    keys = [vault.add_user(f"user{i}", "investigator", actor="tester")[1] for i in range(5)]
    assert len(set(keys)) == 5
    with vault.db.engine.connect() as connection:
        stored = [bytes(r[0]) + r[1].encode() for r in connection.execute(sa.text("select digest, prefix from access_key"))]
    for key in keys:
        secret = key[len(ACCESS_KEY_PREFIX):].encode()
        assert not any(secret in row for row in stored), "an access key is stored in clear"


@pytest.mark.parametrize("damage", [
    "update access_key set revoked_at = :now",
    "update access_key set expires_at = :now",
    "update user_account set active = false",
])
def test_revoked_expired_or_disabled_is_refused_at_once(vault, damage):
    _, key = vault.add_user("ivy", "investigator", actor="tester")
    vault.authenticate(key)
    _sql(vault, damage, now=utcnow() - timedelta(seconds=1)) if ":now" in damage else _sql(vault, damage)
    with pytest.raises((Unauthenticated, StateTampered)):  # raw SQL: refused, and as tampered
        vault.authenticate(key)


@pytest.mark.parametrize("key", ["", "cvk_", "cvk_" + "A" * 43, "not a key", "x" * 10_000])
def test_unknown_keys_are_refused(vault, key):
    vault.add_user("ivy", "investigator", actor="tester")
    with pytest.raises(Unauthenticated):
        vault.authenticate(key)


def test_bad_user_input_is_a_clear_error(vault, case):
    vault.add_user("ivy", "investigator", actor="tester")
    with pytest.raises(Conflict):
        vault.add_user("ivy", "reviewer", actor="tester")
    with pytest.raises(InvalidInput, match="unknown role"):
        vault.add_user("rex", "superuser", actor="tester")
    with pytest.raises(InvalidInput, match="user name"):
        vault.add_user("Rex Smith", "reviewer", actor="tester")
    with pytest.raises(NotFound):
        vault.add_user("rex", "reviewer", cases=("No such case",), actor="tester")
    assert [u.name for u in vault.users()] == ["ivy"]


def test_adding_a_user_is_audited(vault, case):
    info, _ = vault.add_user("rex", "reviewer", cases=(case.id,), actor="tester")
    entry = [e for e in vault.audit_entries() if e.action == "user.add"][0]
    assert entry.target == info.id and entry.details == {"role": "reviewer", "cases": [case.id]}


# -- separation of duties: what an admin makes waits for a reviewer (DESIGN.md rule 11) --------

PASSWORD = "a password of my own choosing"


@pytest.fixture
def staff(vault, case):
    ada = vault.add_user("ada", "admin", actor="tester")[0]
    rex = vault.add_user("rex", "reviewer", cases=(case.id,), actor="tester")[0]
    return ada, rex


def test_an_admins_user_reaches_nothing_until_enrolled_and_confirmed(vault, case, staff):
    ada, rex = staff
    made, code = vault.add_user("ivo", "investigator", cases=(case.id,), actor="ada (api)", by=ada)
    assert code.startswith("cve_") and made.cases == frozenset()
    assert vault.user("ivo").pending == frozenset({case.id})
    (waiting,) = vault.confirmations(rex)
    assert (waiting.user_name, waiting.case_id, waiting.awaiting_enrolment) == ("ivo", case.id, True)
    with pytest.raises(Conflict, match="not enrolled"):
        vault.confirm(waiting.id, approve=True, actor="rex", by=rex)
    enrolled, key = vault.enrol(code, password=PASSWORD)
    assert vault.authenticate(key).cases == frozenset(), "an enrolled but unconfirmed user reaches the case"
    with pytest.raises(Unauthenticated):  # single use
        vault.enrol(code, password=PASSWORD)
    (waiting,) = vault.confirmations(rex)
    vault.confirm(waiting.id, approve=True, actor="rex", by=rex)
    assert vault.authenticate(key).cases == frozenset({case.id})
    assert vault.confirmations(rex) == []


def test_the_operators_memberships_hold_at_once_and_an_admin_cannot_confirm(vault, case, staff):
    ada, rex = staff
    assert rex.cases == frozenset({case.id}) and vault.confirmations() == []
    vault.add_user("ivy", "investigator", actor="tester")
    for name in ("ada", "ivy"):
        vault.set_membership(name, case, member=True, actor="ada (api)", by=ada)
    own, ivy = vault.confirmations()
    with pytest.raises(Forbidden, match="four eyes"):
        vault.confirm(own.id, approve=True, actor="ada", by=ada)
    with pytest.raises(NotFound):  # an admin confirms nobody's
        vault.confirm(ivy.id, approve=True, actor="ada", by=ada)
    vault.confirm(own.id, approve=False, actor="rex", by=rex)  # refused: removed
    assert vault.user("ada").cases == vault.user("ada").pending == frozenset()
    vault.set_membership("ivy", case, member=True, actor="operator")  # the operator's confirms
    assert vault.user("ivy").cases == frozenset({case.id}) and vault.confirmations() == []


def test_a_reset_by_an_admin_revokes_every_credential_and_unconfirms(vault, case, staff):
    ada, rex = staff
    _, key = vault.add_user("ivy", "investigator", cases=(case.id,), actor="tester")
    vault.reset_sign_in("ivy", actor="tester")
    code = vault.reset_credentials("ivy", actor="ada (api)", by=ada)
    with pytest.raises(Unauthenticated):
        vault.authenticate(key)
    assert vault.user("ivy").cases == frozenset() and vault.user("ivy").pending == frozenset({case.id})
    _, key = vault.enrol(code, password=PASSWORD)
    assert vault.authenticate(key).cases == frozenset()
    vault.confirm(vault.confirmations(rex)[0].id, approve=True, actor="rex", by=rex)
    assert vault.authenticate(key).cases == frozenset({case.id})


def test_an_admin_widening_a_role_unconfirms_and_nobody_changes_their_own(vault, case, staff):
    ada, rex = staff
    vault.add_user("ivy", "investigator", cases=(case.id,), actor="tester")
    widened = vault.set_role("ivy", "reviewer", actor="ada (api)", by=ada)
    assert widened.role is Role.REVIEWER and widened.cases == frozenset() and widened.pending == frozenset({case.id})
    with pytest.raises(Forbidden):
        vault.set_role("ada", "reviewer", actor="ada (api)", by=ada)
    with pytest.raises(Forbidden):  # only admins manage users
        vault.set_role("ivy", "reviewer", actor="rex", by=rex)


def test_keys_are_issued_by_their_owner_only(vault, case, staff):
    ada, rex = staff
    with pytest.raises(Forbidden):
        vault.issue_access_key("rex", actor="ada (api)", by=ada)
    info, key = vault.issue_access_key("rex", actor="rex (api)", by=rex)
    assert vault.authenticate(key).name == "rex"
    vault.revoke_access_key(info.id, actor="ada (api)", by=ada)  # an admin may end anyone's key
    with pytest.raises(Unauthenticated):
        vault.authenticate(key)
    own, _ = vault.issue_access_key("ada", actor="ada (api)", by=ada)
    with pytest.raises(NotFound):  # someone else's key is as if there were none
        vault.revoke_access_key(own.id, actor="rex (api)", by=rex)


def test_an_expired_or_replaced_enrolment_code_is_refused(vault, case, staff, monkeypatch):
    ada, _ = staff
    _, first = vault.add_user("ivo", "investigator", actor="ada (api)", by=ada)
    second = vault.reset_credentials("ivo", actor="ada (api)", by=ada)
    with pytest.raises(Unauthenticated):
        vault.enrol(first, password=PASSWORD)
    later = utcnow() + timedelta(hours=73)  # past the code's life (raw SQL would be refused as tampered)
    monkeypatch.setattr("vault._vault.utcnow", lambda: later)
    with pytest.raises(Unauthenticated):
        vault.enrol(second, password=PASSWORD)
    monkeypatch.undo()
    with pytest.raises(InvalidInput):  # a reviewer's enrolment needs a second factor
        vault.enrol(vault.reset_credentials("rex", actor="ada (api)", by=ada), password=PASSWORD)
