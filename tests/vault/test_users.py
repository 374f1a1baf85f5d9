"""Users, memberships and access keys (SECURITY-TESTS.md item 20)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from redaction import Role
from vault import ACCESS_KEY_PREFIX, Unauthenticated
from vault._models import utcnow
from vault.errors import Conflict, InvalidInput, NotFound


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
    with pytest.raises(Unauthenticated):
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
