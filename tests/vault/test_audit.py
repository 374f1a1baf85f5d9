"""The audit log: a keyed hash chain whose verifier names the first broken position."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import PASSPHRASE
from vault import AuditFilter, Settings, Vault
from vault.errors import AuditFailed


def _fill(vault: Vault, count: int) -> None:
    for i in range(count):
        vault.record(actor="tester", action="test.event", details={"n": i, "query": f"secret query {i}"})


def _sql(vault: Vault, statement: str, **params: object) -> None:
    with vault.db.engine.begin() as connection:
        connection.execute(sa.text(statement), params)


def test_fresh_log_verifies_and_counts(vault):
    _fill(vault, 5)
    report = vault.verify_audit()
    assert report.intact, report.reason
    assert report.entries == 6  # vault.init + 5


def test_entries_read_back_with_decrypted_details(vault):
    _fill(vault, 2)
    entries = vault.audit_entries()
    assert [e.action for e in entries] == ["vault.init", "test.event", "test.event"]
    assert entries[2].details == {"n": 1, "query": "secret query 1"}


def test_details_are_not_stored_in_clear(vault):
    _fill(vault, 1)
    with vault.db.engine.connect() as connection:
        raw = b"".join(r[0] for r in connection.execute(sa.text("select details_ct from audit_log where details_ct is not null")))
    assert b"secret query" not in raw


def test_edited_entry_is_named(vault):
    _fill(vault, 5)
    _sql(vault, "update audit_log set actor = 'someone else' where seq = 4")
    report = vault.verify_audit()
    assert report.first_broken == 4 and "altered" in report.reason


def test_edited_action_is_named(vault):
    _fill(vault, 3)
    _sql(vault, "update audit_log set action = 'document.read' where seq = 2")
    assert vault.verify_audit().first_broken == 2


def test_edited_timestamp_is_named(vault):
    _fill(vault, 3)
    _sql(vault, "update audit_log set at = '2020-01-01 00:00:00' where seq = 3")
    assert vault.verify_audit().first_broken == 3


def test_chain_verifies_in_a_postgresql_session_with_another_time_zone(tmp_path, postgres_url):
    """PostgreSQL answers timestamps in the session's time zone; the chain must not care."""
    settings = Settings(data_dir=tmp_path / "data", database_url=postgres_url)
    with Vault.initialize(settings, PASSPHRASE) as vault:
        _fill(vault, 3)
    paris = replace(settings, database_url=postgres_url.replace("options=", "options=-ctimezone%3DEurope/Paris%20", 1))
    with Vault.open(paris, PASSPHRASE) as vault:
        with vault.db.engine.connect() as connection:
            assert connection.execute(sa.text("show timezone")).scalar_one() == "Europe/Paris"
        report = vault.verify_audit()
        assert report.intact, report.reason


def test_deleted_entry_is_named(vault):
    _fill(vault, 5)
    _sql(vault, "delete from audit_log where seq = 3")
    report = vault.verify_audit()
    assert report.first_broken == 3 and "missing" in report.reason


def test_reordered_entries_are_named(vault):
    _fill(vault, 5)
    _sql(vault, "update audit_log set seq = 100 where seq = 2")
    _sql(vault, "update audit_log set seq = 2 where seq = 3")
    _sql(vault, "update audit_log set seq = 3 where seq = 100")
    assert vault.verify_audit().first_broken == 2


def test_truncated_tail_is_detected(vault):
    _fill(vault, 5)
    _sql(vault, "delete from audit_log where seq >= 5")
    report = vault.verify_audit()
    assert report.first_broken == 5 and "removed from the end" in report.reason


def test_concurrent_appends_form_one_chain(vault):
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            _fill(vault, 10)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    report = vault.verify_audit()
    assert report.intact, report.reason
    assert report.entries == 61


def test_a_read_fails_when_the_audit_cannot_be_written(vault, case):
    from tests.conftest import ingest_bytes

    document = ingest_bytes(vault, case, "Page one of the decision.\n".encode())
    _sql(vault, "drop table audit_log")
    with pytest.raises(AuditFailed):
        vault.content(document.id, actor="tester")


def test_the_log_survives_reopening(settings):
    with Vault.initialize(settings, PASSPHRASE) as vault:
        _fill(vault, 2)
    with Vault.open(settings, PASSPHRASE) as reopened:
        assert reopened.verify_audit().entries == 3


def test_a_listing_is_newest_first_filtered_and_ends_at_the_chain_head(vault):
    _fill(vault, 3)
    vault.record(actor="ada (web)", action="user.disable", target="t-1")
    vault.record(actor="ada_x", action="user.disable")  # "_" is no wildcard: not "ada"
    listing = vault.audit_listing(AuditFilter())
    assert [e.seq for e in listing.entries] == [6, 5, 4, 3, 2, 1]
    report = vault.verify_audit()
    assert (listing.head_position, listing.head_mac) == (report.entries, report.head)
    assert {"vault.init", "test.event", "user.disable"} <= set(listing.actions)
    assert [e.seq for e in vault.audit_listing(AuditFilter(actor="ada")).entries] == [5]
    assert [e.seq for e in vault.audit_listing(AuditFilter(action="test.event"), before=4, limit=1).entries] == [3]
    now = datetime.now(UTC)
    assert len(vault.audit_listing(AuditFilter(since=now - timedelta(hours=1), until=now + timedelta(hours=1))).entries) == 6
    assert vault.audit_listing(AuditFilter(until=now - timedelta(days=1))).entries == []
