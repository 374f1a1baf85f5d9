"""State a database writer cannot forge (SECURITY-TESTS 61): raw-SQL writes to roles,
memberships, credentials, document status and unmask grants are refused as tampered on the next
read, audited, and grant nothing. On SQLite and PostgreSQL.

The attacker here writes to the database directly (``_sql``) and holds no vault key. Where the
policy cache could hide the change, the attacker moves the policy epoch too (as a write from
another process would): the check, not the cache, must refuse.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from tests.conftest import ingest_bytes
from tests.vault.conftest import CALL, release_all
from vault import DocumentStatus, UnmaskState
from vault._stamping import remaining, upgrade_integrity
from vault._models import UserRow, utcnow
from vault.errors import NotFound, SignInFailed, StateTampered, Unauthenticated

REASON = "Caller 1 appears in the 2023 extortion file; we must check his company links."


def _sql(vault, statement: str, **params: object) -> None:
    with vault.db.engine.begin() as connection:
        connection.execute(sa.text(statement), params)


def _row(vault, statement: str, **params: object) -> dict[str, object]:
    with vault.db.engine.connect() as connection:
        return dict(connection.execute(sa.text(statement), params).mappings().one())


def _move_epoch(vault) -> None:
    _sql(vault, "update policy_epoch set value = value + 1")


def _tampered(vault) -> list[dict[str, object]]:
    """The details of the ``integrity.tampered`` audit entries."""
    return [e.details | {"target": e.target} for e in vault.audit_entries(limit=1000) if e.action == "integrity.tampered"]


@pytest.fixture
def keys(vault, case, people):
    """An access key for each persona (the operator issues them)."""
    return {name: vault.issue_access_key(name, actor="tester")[1] for name in people}


# -- roles and users ---------------------------------------------------------------------------

def test_a_role_raised_by_raw_sql_is_refused_at_the_next_request(vault, people, keys):
    assert vault.authenticate(keys["ivy"]).role == "investigator"
    _sql(vault, "update user_account set role = 'reviewer' where name = 'ivy'")
    with pytest.raises(StateTampered) as refused:
        vault.authenticate(keys["ivy"])
    assert "integrity check" in refused.value.message and "ivy" not in refused.value.message
    with pytest.raises(StateTampered):  # the operator's listing refuses it too: no reviewer shown
        vault.user("ivy")
    [entry] = _tampered(vault)[-1:]
    assert entry == {"table": "user_account", "row": people["ivy"].id, "target": people["ivy"].id}


@pytest.mark.parametrize("damage", [
    "update user_account set active = true where name = 'ivy'",   # re-enable a disabled user
    "update user_account set mac = null where name = 'ivy'",      # a row never stamped
    "update user_account set name = 'ivy2' where name = 'ivy'",
])
def test_any_change_to_a_user_row_is_refused(vault, people, keys, damage):
    if "active = true" in damage:
        vault.set_active("ivy", active=False, actor="tester")
    _sql(vault, damage)
    with pytest.raises(StateTampered):
        vault.authenticate(keys["ivy"])


def test_a_tampered_row_is_not_laundered_by_a_later_write(vault, people, keys):
    _sql(vault, "update user_account set role = 'admin' where name = 'ivy'")
    with pytest.raises(StateTampered):  # the operator's change re-stamps nothing it cannot vouch for
        vault.set_role("ivy", "reviewer", actor="tester")
    with pytest.raises(StateTampered):
        vault.authenticate(keys["ivy"])


# -- memberships -------------------------------------------------------------------------------

def test_a_forged_membership_row_is_refused(vault, case, people, keys):
    """INSERT INTO membership copying another row's values and MAC: otto's membership of the
    other case, given to ivy."""
    other = vault.case("Another case")
    _sql(vault, "insert into membership (user_id, case_id, created_at, mac) "
                "select :ivy, case_id, created_at, mac from membership where user_id = :otto",
         ivy=people["ivy"].id, otto=people["otto"].id)
    with pytest.raises(StateTampered):
        vault.authenticate(keys["ivy"])
    with pytest.raises(StateTampered):
        vault.users()
    assert _tampered(vault)[-1] == {"table": "membership", "row": f"{people['ivy'].id}:{other.id}",
                                    "target": people["ivy"].id}


def test_a_membership_moved_to_another_case_is_refused(vault, case, people, keys):
    other = vault.case("Another case")
    _sql(vault, "update membership set case_id = :other where user_id = :ivy", other=other.id, ivy=people["ivy"].id)
    with pytest.raises(StateTampered):
        vault.authenticate(keys["ivy"])


def test_a_forged_waiting_membership_is_confirmed_by_no_one(vault, case, people):
    newcomer = vault.add_user("nina", "investigator", actor="tester", by=people["ada"])[0]
    vault.set_membership("nina", case, member=True, actor="ada (api)", by=people["ada"])
    _sql(vault, "update membership_pending set requested_by = 'operator' where user_id = :nina", nina=newcomer.id)
    with pytest.raises(StateTampered):
        vault.confirmations(people["rex"])
    confirmation = _row(vault, "select id from membership_pending where user_id = :nina", nina=newcomer.id)["id"]
    with pytest.raises(StateTampered):
        vault.confirm(str(confirmation), approve=True, actor="rex (api)", by=people["rex"])


# -- credentials ---------------------------------------------------------------------------------

def test_an_access_key_minted_or_unrevoked_by_raw_sql_is_refused(vault, people, keys):
    minted = "cvk_" + secrets.token_urlsafe(32)
    _sql(vault, "insert into access_key (id, user_id, digest, prefix, created_at, mac) "
                "select :id, user_id, :digest, prefix, created_at, mac from access_key where user_id = :rex limit 1",
         id=str(uuid.uuid4()), digest=hashlib.sha256(minted.encode()).digest(), rex=people["rex"].id)
    with pytest.raises(StateTampered):
        vault.authenticate(minted)
    [info] = [k for k in vault.access_keys("ivy") if k.prefix == keys["ivy"][:12]]
    vault.revoke_access_key(info.id, actor="tester")
    _sql(vault, "update access_key set revoked_at = null where id = :id", id=info.id)
    with pytest.raises(StateTampered):
        vault.authenticate(keys["ivy"])


def test_a_session_or_password_set_by_raw_sql_signs_no_one_in(vault, people):
    password, _ = vault.reset_sign_in("ivy", actor="tester")
    signed = vault.sign_in("ivy", password, None)
    token = "forged-" + secrets.token_urlsafe(24)
    _sql(vault, "insert into web_session (digest, user_id, csrf, created_at, seen_at, mac) "
                "select :digest, :ada, csrf, created_at, seen_at, mac from web_session limit 1",
         digest=hashlib.sha256(token.encode()).digest(), ada=people["ada"].id)
    with pytest.raises(StateTampered):
        vault.web_session(token)
    assert vault.web_session(signed.token).user.id == people["ivy"].id  # the real one still works
    _sql(vault, "update user_credential set password_hash = :hash where user_id = :ivy",
         hash=PasswordHasher().hash("a password the attacker chose"), ivy=people["ivy"].id)
    with pytest.raises(StateTampered):
        vault.sign_in("ivy", "a password the attacker chose", None)
    with pytest.raises((StateTampered, SignInFailed)):
        vault.sign_in("ivy", password, None)


def test_an_enrolment_code_minted_by_raw_sql_sets_no_password(vault, people):
    code = "cve_" + secrets.token_urlsafe(32)
    vault.add_user("ivo", "investigator", actor="tester", enrolment=True)  # a real code, whose row is copied
    _sql(vault, "insert into enrolment (id, user_id, digest, by_operator, created_at, expires_at, mac) "
                "select :id, :rex, :digest, by_operator, created_at, expires_at, mac from enrolment "
                "where user_id <> :other limit 1",
         id=str(uuid.uuid4()), rex=people["rex"].id, other=people["rex"].id, digest=hashlib.sha256(code.encode()).digest())
    with pytest.raises(StateTampered):
        vault.enrol(code, password="a password the attacker chose", totp_required=False)
    assert _row(vault, "select count(*) as n from user_credential where user_id = :rex", rex=people["rex"].id)["n"] == 0


# -- documents -----------------------------------------------------------------------------------

def test_a_document_released_by_raw_sql_is_readable_by_no_one(vault, case, people):
    document = ingest_bytes(vault, case, CALL, "call.txt")
    with pytest.raises(NotFound):
        vault.view(document.id, people["ivy"], actor="tester")
    _sql(vault, "update document set status = 'released' where id = :id", id=document.id)
    with pytest.raises(StateTampered):
        vault.view(document.id, people["ivy"], actor="tester")
    with pytest.raises(StateTampered):
        vault.documents(case.id)
    with pytest.raises(StateTampered):
        vault.feed.document_states([document.id])
    assert vault.feed.searchable(document.id) is None  # the indexes drop it rather than index it as released
    assert {"table": "document", "row": document.id, "target": document.id} in _tampered(vault)


def test_a_document_moved_to_another_case_or_uploader_is_refused(vault, case, people):
    document = ingest_bytes(vault, case, CALL, "call.txt")
    _sql(vault, "update document set uploaded_by = 'someone else' where id = :id", id=document.id)
    with pytest.raises(StateTampered):  # four eyes rest on the uploader: the reviewer may not release it
        vault.release(document.id, people["rex"], actor="tester")


# -- unmask grants -------------------------------------------------------------------------------

@pytest.fixture
def released(vault, case, people):
    document = ingest_bytes(vault, case, CALL, "call.txt")
    release_all(vault, people, document.id)
    return document


def _speakers(vault, document, user):
    return [u.speaker for u in vault.view(document.id, user, actor="tester").units]


def test_an_unmask_request_approved_by_raw_sql_reveals_no_name(vault, case, people, released):
    request = vault.request_unmask(people["ivy"], case, "Caller 1", REASON, actor="tester")
    assert _speakers(vault, released, people["ivy"])[0] == "Caller 1"
    _sql(vault, "update unmask_request set state = 'approved', decided_by = :rex, decided_at = :now, "
                "expires_at = :far where id = :id",
         rex=people["rex"].id, now=utcnow(), far=utcnow() + timedelta(days=3650), id=request.id)
    _move_epoch(vault)
    with pytest.raises(StateTampered):
        vault.view(released.id, people["ivy"], actor="tester")
    with pytest.raises(StateTampered):
        vault.display(case.id, people["ivy"])
    with pytest.raises(StateTampered):
        vault.unmask_requests(case)
    assert not any("Quentin Malaure" in str(e.details) for e in vault.audit_entries(limit=1000))


def test_a_revoked_grant_put_back_is_refused(vault, case, people, released):
    """A replay: the approved row, MAC and all, restored after the revocation. The row alone
    cannot tell; the audit log (append-only) records the revocation."""
    request = vault.request_unmask(people["ivy"], case, "Caller 1", REASON, actor="tester")
    vault.decide_unmask(request.id, people["rex"], approve=True, valid_for=timedelta(days=30), actor="tester")
    approved = _row(vault, "select state, revoked_at, mac from unmask_request where id = :id", id=request.id)
    assert _speakers(vault, released, people["ivy"])[0] == "Quentin Malaure"
    vault.revoke_unmask(request.id, people["rita"], actor="tester")
    assert _speakers(vault, released, people["ivy"])[0] == "Caller 1"
    _sql(vault, "update unmask_request set state = :state, revoked_at = :revoked_at, mac = :mac where id = :id",
         **approved, id=request.id)
    _move_epoch(vault)
    with pytest.raises(StateTampered):
        vault.view(released.id, people["ivy"], actor="tester")


def test_normal_flows_stamp_what_they_write(vault, case, people, released):
    """Ingest, review, release, unmask, revoke, memberships, roles, credentials: every write the
    vault makes is read back without a complaint."""
    request = vault.request_unmask(people["ivy"], case, "Caller 1", REASON, actor="tester")
    vault.decide_unmask(request.id, people["rex"], approve=True, actor="tester")
    assert _speakers(vault, released, people["ivy"])[0] == "Quentin Malaure"
    vault.revoke_unmask(request.id, people["rita"], actor="tester")
    assert [r.state for r in vault.unmask_requests(case)] == [UnmaskState.REVOKED]
    vault.set_role("ivy", "reviewer", actor="tester")
    vault.set_active("otto", active=False, actor="tester")
    vault.set_membership("otto", case, member=True, actor="tester")
    assert vault.user("ivy").role == "reviewer" and case.id in vault.user("otto").cases
    assert vault.document(released.id).status is DocumentStatus.RELEASED
    assert _tampered(vault) == []


def test_a_bulk_update_of_a_macd_field_without_its_mac_is_refused(vault, people):
    """A guard for the vault's own code: a bulk ``update()`` bypasses the flush that stamps, so
    one that changes a MAC'd field must set ``mac`` too (``integrity.mac_after``)."""
    with pytest.raises(RuntimeError, match="must set mac"), vault.store.write() as work:
        work.session.execute(sa.update(UserRow).where(UserRow.name == "ivy").values(role="admin"))
    assert vault.user("ivy").role == "investigator"


# -- rows of a vault made before the MACs ----------------------------------------------------------

def test_unstamped_rows_are_refused_until_the_upgrade_stamps_them(vault, case, people, keys, released):
    tables = ["user_account", "membership", "membership_pending", "access_key", "web_session", "enrolment",
              "user_credential", "document", "unmask_request"]
    vault.request_unmask(people["ivy"], case, "Caller 1", REASON, actor="tester")
    for table in tables:
        _sql(vault, f"update {table} set mac = null")  # noqa: S608 - the table names above
    with pytest.raises(StateTampered):
        vault.authenticate(keys["ivy"])
    left = remaining(vault.store)
    stamped = upgrade_integrity(vault.store, batch=3)  # several batches, each its own transaction
    assert stamped == left > 3 and remaining(vault.store) == 0
    assert upgrade_integrity(vault.store) == 0  # idempotent: nothing left to stamp
    assert vault.authenticate(keys["ivy"]).cases == frozenset({case.id})
    assert _speakers(vault, released, people["ivy"])[0] == "Caller 1"
    with pytest.raises(Unauthenticated):
        vault.authenticate("cvk_" + "A" * 43)
    _sql(vault, "update user_account set role = 'admin', mac = null where name = 'ivy'")  # after the upgrade
    assert upgrade_integrity(vault.store) == 0  # a second run launders nothing
    with pytest.raises(StateTampered):
        vault.authenticate(keys["ivy"])
