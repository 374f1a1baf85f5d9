"""`Vault.upgrade` on the vault release 1 made (tests/vault/fixtures/release_1), on SQLite and
PostgreSQL: refused before, readable after, exactly as release 1 showed it; resumable format
steps; nothing changed when there is nothing to do, when the passphrase is wrong, or when a newer
release made the vault."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

import pytest
import sqlalchemy as sa

from keys import WrongPassphrase
from tests.conftest import PASSPHRASE as NEW_PASSPHRASE
from tests.vault.release_1 import (
    BEHIND,
    EXPECTED,
    PASSPHRASE,
    fingerprint,
    make_probe_rows,
    probe_runs,
    probe_step,
    release_1_vault,
)
from vault import Settings, Vault
from vault import _formats as formats
from vault import _schema as schema
from vault._db import Database
from vault.errors import SchemaAhead, SchemaBehind, StorageFailed


class Recorder:
    """An UpgradeProgress that remembers what it was told."""

    def __init__(self) -> None:
        self.migrations: list[str] = []
        self.steps: dict[str, tuple[int, list[int]]] = {}

    def migration(self, revision: str, summary: str) -> None:
        assert summary, f"revision {revision} has no docstring to show"
        self.migrations.append(revision)

    @contextmanager
    def step(self, name: str, total: int) -> Iterator[Callable[[int], None]]:
        counts: list[int] = []
        self.steps[name] = (total, counts)
        yield counts.append


@pytest.fixture
def old(tmp_path, database_url) -> Settings:
    return release_1_vault(tmp_path, database_url)


@pytest.fixture
def probe() -> Iterator[Callable[..., formats.FormatStep]]:
    removals = []

    def register(**kwargs: object) -> formats.FormatStep:
        step = probe_step(**kwargs)  # type: ignore[arg-type]
        removals.append(formats.add(step))
        return step

    yield register
    for remove in removals:
        remove()


def _all_revisions() -> list[str]:
    return [s.revision for s in reversed(list(schema.scripts().walk_revisions()))]


def test_a_release_1_vault_is_refused_and_left_alone(old):
    before = fingerprint(old)
    with pytest.raises(SchemaBehind) as refused:
        Vault.open(old, PASSPHRASE)
    assert str(refused.value) == BEHIND
    assert fingerprint(old) == before


def test_upgrade_brings_release_1_to_head_and_every_document_reads_back(old):
    progress = Recorder()
    report = Vault.upgrade(old, PASSPHRASE, progress, actor="tester")
    assert report.from_revisions == () and set(report.to_revisions) == set(schema.heads())
    assert list(report.migrations) == progress.migrations
    assert sorted(report.migrations) == sorted(_all_revisions()[1:])  # release 1 is 0001
    with Vault.open(old, PASSPHRASE) as vault:
        assert sorted(c.name for c in vault.cases()) == EXPECTED["cases"]
        assert {u.name: str(u.role) for u in vault.users()} == EXPECTED["users"]
        for expected in EXPECTED["documents"]:
            info = vault.document(expected["id"])
            view = vault.view(expected["id"], vault.user(expected["reader"]), actor="tester")
            assert (info.case_name, info.kind.value, info.format.value, info.status.value) == (
                expected["case"], expected["kind"], expected["format"], expected["status"]), expected["id"]
            assert view.title == expected["title"]
            assert [{"position": u.position, "speaker": u.speaker, "text": u.text} for u in view.units] \
                == expected["units"], f"document {expected['id']} reads differently after the upgrade"
        # the format step document-dates read their text again: the ordonnance is dated as ingest dates it
        dates = {e["id"]: vault.document(e["id"]).document_date for e in EXPECTED["documents"]}
        assert dates["b1f6025a-9397-4e1d-ab4a-02e194f45832"] == date(2023, 12, 5)
        lyon = vault.case("Affaire H — Lyon")
        requests = {r.id: r.state.value for r in vault.unmask_requests(lyon)}
        assert requests[EXPECTED["unmask_request"]["id"]] == EXPECTED["unmask_request"]["state"]
        audit = vault.verify_audit()
        assert audit.intact and audit.entries > EXPECTED["audit_entries"]
        upgrades = [e for e in vault.audit_entries(limit=1000) if e.action == "vault.upgrade"]
        assert len(upgrades) == 1
        assert upgrades[0].details["from"] == [] and upgrades[0].details["to"] == sorted(schema.heads())


def test_upgrading_again_says_up_to_date_and_changes_nothing(old):
    Vault.upgrade(old, PASSPHRASE, Recorder(), actor="tester")
    before = fingerprint(old)
    report = Vault.upgrade(old, PASSPHRASE, Recorder(), actor="tester")
    assert report.up_to_date and fingerprint(old) == before


def test_upgrading_a_new_vault_changes_nothing(settings):
    Vault.initialize(settings, NEW_PASSPHRASE).close()
    before = fingerprint(settings)
    progress = Recorder()
    assert Vault.upgrade(settings, NEW_PASSPHRASE, progress, actor="tester").up_to_date
    assert progress.migrations == [] and progress.steps == {}
    assert fingerprint(settings) == before


def test_a_wrong_passphrase_upgrades_nothing(old):
    before = fingerprint(old)
    with pytest.raises(WrongPassphrase):
        Vault.upgrade(old, PASSPHRASE + "!", Recorder(), actor="tester")
    assert fingerprint(old) == before


def test_a_vault_of_a_newer_release_is_not_upgraded(settings):
    Vault.initialize(settings, NEW_PASSPHRASE).close()
    db = Database(settings.resolved_database_url)
    with db.write_connection() as connection:
        connection.execute(sa.text("update alembic_version set version_num = '9999_from_the_future'"))
    db.dispose()
    before = fingerprint(settings)
    with pytest.raises(SchemaAhead, match="newer release"):
        Vault.upgrade(settings, NEW_PASSPHRASE, Recorder(), actor="tester")
    assert fingerprint(settings) == before


def test_a_pending_format_step_is_behind_and_upgrade_runs_it_once(settings, probe):
    Vault.initialize(settings, NEW_PASSPHRASE).close()
    make_probe_rows(settings, 25)
    probe(batch=10)
    with pytest.raises(SchemaBehind, match=r"run `casevault upgrade`"):
        Vault.open(settings, NEW_PASSPHRASE)
    progress = Recorder()
    report = Vault.upgrade(settings, NEW_PASSPHRASE, progress, actor="tester")
    assert report.migrations == () and report.steps == ("test-probe",)
    assert progress.steps == {"test-probe": (25, [10, 10, 5])}
    assert probe_runs(settings) == [1] * 25
    Vault.open(settings, NEW_PASSPHRASE).close()
    assert Vault.upgrade(settings, NEW_PASSPHRASE, Recorder(), actor="tester").up_to_date


def test_a_vault_made_now_is_made_in_the_current_format(settings, probe):
    probe()
    Vault.initialize(settings, NEW_PASSPHRASE).close()
    Vault.open(settings, NEW_PASSPHRASE).close()


def test_a_step_that_stopped_midway_is_resumed_and_nothing_is_done_twice(old, probe):
    make_probe_rows(old, 30)
    failing = probe(batch=10, name="test-probe")
    calls = []

    def stop_after_one_batch(count: int) -> None:
        calls.append(count)
        raise KeyboardInterrupt  # as a process stopped between two committed batches

    class Stopping(Recorder):
        @contextmanager
        def step(self, name: str, total: int) -> Iterator[Callable[[int], None]]:
            yield stop_after_one_batch if name == failing.name else (lambda count: None)  # this release's own run

    with pytest.raises(KeyboardInterrupt):
        Vault.upgrade(old, PASSPHRASE, Stopping(), actor="tester")
    assert calls == [10] and sorted(probe_runs(old)) == [0] * 20 + [1] * 10
    with pytest.raises(SchemaBehind):  # the migrations are done, the step is not
        Vault.open(old, PASSPHRASE)
    progress = Recorder()
    report = Vault.upgrade(old, PASSPHRASE, progress, actor="tester")
    assert report.migrations == () and report.steps == (failing.name,)
    assert progress.steps == {failing.name: (20, [10, 10])}
    assert probe_runs(old) == [1] * 30
    Vault.open(old, PASSPHRASE).close()


def test_a_migration_that_fails_leaves_the_vault_as_it_was(old):
    """The migrations run in one transaction on both backends: here the last one fails (its table
    is in the way), and the stamp of release 1 and every earlier migration are rolled back too."""
    db = Database(old.resolved_database_url)
    with db.write_connection() as connection:
        connection.execute(sa.text("create table vault_format (name varchar(80) primary key, stray integer)"))
    db.dispose()
    before = fingerprint(old)
    with pytest.raises(StorageFailed, match="rolled back"):
        Vault.upgrade(old, PASSPHRASE, Recorder(), actor="tester")
    assert fingerprint(old) == before
