"""Backup and restore, on SQLite and PostgreSQL: a round trip that changes nothing a user sees, an
archive without plaintext, refusals that write nothing, and a backup taken while a writer runs."""

from __future__ import annotations

import base64
import io
import json
import secrets
import tarfile
import threading
import unicodedata
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from search import Search
from tests.conftest import PASSPHRASE, POSTGRES_URL, ingest_bytes
from tests.vault.conftest import CALL, SECRETS, release_all
from vault import BlobPurpose, Settings, Vault
from vault._archive import MANIFEST, Manifest
from vault._models import AuditEntryRow, BlobRow, DocumentRow
from vault.errors import BackupFailed, BackupTooNew, BackupUnreadable, RestoreRefused

CASE_NAME = "Affaire Zéphyrine Brocatelle"
OTHER_CALL = "[00:00:01] QM: Malaure here. Quillon owes the Vantablack fund.\n[00:00:05] H: Never.\n".encode()
QUERIES = ["maison", "company", "Vantablack", "H", "rentrerai"]


@pytest.fixture
def target(request, tmp_path, settings) -> Settings:
    """Where a backup is restored: a new data directory (and a new PostgreSQL schema)."""
    if settings.database_url is None:
        return Settings(data_dir=tmp_path / "restored")
    engine = request.getfixturevalue("postgres_engine")
    schema = f"cv_{secrets.token_hex(6)}"
    with engine.connect() as connection:
        connection.execute(sa.text(f"create schema {schema}"))
    request.addfinalizer(lambda: _drop(engine, schema))
    return Settings(data_dir=tmp_path / "restored", database_url=f"{POSTGRES_URL}?options=-csearch_path%3D{schema}")


def _drop(engine, schema):
    with engine.connect() as connection:
        connection.execute(sa.text(f"drop schema {schema} cascade"))


@pytest.fixture
def filled(vault, case, people):
    """Released and in-review documents, two identities, an approved unmask, several cases."""
    released = ingest_bytes(vault, case, CALL, "call.txt")
    release_all(vault, people, released.id)
    ingest_bytes(vault, case, OTHER_CALL, "other.txt")  # left in review
    request = vault.request_unmask(people["ivy"], case, "Caller 1", "Needed to confirm the caller for the hearing.",
                                   actor="tester")
    vault.decide_unmask(request.id, people["rex"], approve=True, valid_for=timedelta(days=30), actor="tester")
    vault.create_case(CASE_NAME, actor="tester")
    return people


def _target_is_empty(target: Settings) -> bool:
    if target.data_dir.exists() and any(target.data_dir.iterdir()):
        return False
    if target.database_url:
        engine = sa.create_engine(target.database_url)
        try:
            return not sa.inspect(engine).get_table_names()
        finally:
            engine.dispose()
    return True


def _picture(vault: Vault, people, index_dir: Path) -> dict[str, object]:
    """Everything a user or the operator sees, for comparison."""
    views = {}
    for document in vault.documents():
        for name, user in people.items():
            try:
                views[(document.id, name)] = vault.view(document.id, user, actor="tester")
            except Exception as error:  # noqa: BLE001 - what a user is refused is part of the picture
                views[(document.id, name)] = type(error).__name__
    with Search(vault, index_dir) as search:
        search.catch_up()
        answers = {(name, q): _answer(search.search(user, q, actor="tester").to_json())
                   for name, user in people.items() for q in QUERIES}
    return {"views": views, "answers": answers, "cases": vault.cases(), "users": vault.users(),
            "documents": vault.documents(), "keys": vault.key_status(),
            "unmask": [vault.unmask_requests(c) for c in vault.cases()]}


def _answer(body):
    # scores depend on how the index was built (an incremental index counts deleted rows), not what is found
    return body["total"], [(h["id"], h["location"], h["snippets"]) for h in body["hits"]], body["facets"]


def _audit(vault: Vault) -> list[tuple]:
    with vault.store.db.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(sa.select(AuditEntryRow).order_by(AuditEntryRow.seq))]


def test_a_round_trip_changes_nothing_anyone_sees(vault, case, filled, target, tmp_path):
    archive = tmp_path / "vault.backup"
    vault.backup(archive, actor="tester")
    assert not any((vault.settings.data_dir / ".backup").iterdir())  # the snapshot and the links are gone
    entries, head = _audit(vault), vault.verify_audit()  # before the views below add theirs
    before = _picture(vault, filled, tmp_path / "index-before")

    report = Vault.restore(target, archive, PASSPHRASE, actor="restorer")
    assert report.documents == 2 and not report.resumed
    with Vault.open(target, PASSPHRASE) as restored:
        restored_entries, verified = _audit(restored), restored.verify_audit()
        after = _picture(restored, filled, target.index_dir)
        # the restored vault goes on: new rows take ids past the restored ones (PostgreSQL's sequences)
        added = ingest_bytes(restored, restored.case(case.id), b"A record written after the restore.", "after.txt")
        assert restored.feed.latest_index_change() > 0 and restored.document(added.id).status.value == "in_review"
    assert after == before
    # the same chain, the backup's own entry included, then the restore's entry on top of it
    assert restored_entries[:len(entries)] == entries and entries[-1][-1] == head.head
    assert [e[3] for e in restored_entries[len(entries):]] == ["vault.restore"]
    assert "vault.backup" in [e[3] for e in entries]
    assert verified.intact and verified.entries == head.entries + 1


def test_every_search_index_is_rebuilt_from_the_restored_vault(vault, filled, target, tmp_path):
    vault.backup(tmp_path / "b", actor="tester")
    Vault.restore(target, tmp_path / "b", PASSPHRASE, actor="restorer")
    assert not target.index_dir.exists()  # no index in the archive
    with Vault.open(target, PASSPHRASE) as restored, Search.open(restored) as search:
        found = search.search(filled["ivy"], "maison", actor="tester")
    assert found.total == 1


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


def _spellings(word: str) -> set[bytes]:
    forms = {word, word.lower(), word.upper(), word.casefold(), unicodedata.normalize("NFD", word)}
    return {f.encode(enc) for f in forms for enc in ("utf-8", "utf-16-le")}


def test_the_archive_holds_no_plaintext(vault, case, people, tmp_path):
    canaries = ["Zéphyrine Brocatelle", "Brocatelle", "Quillon", "Malaure", "Vantablack", "Hadrien",
                "maison", "rentrerai"]
    vault.create_case(CASE_NAME, actor="tester")
    vault.add_identity(case, name="Zéphyrine Brocatelle", aliases=["Brocatelle"], label="ZB", actor="tester")
    release_all(vault, people, ingest_bytes(vault, case, CALL, "Brocatelle call.txt").id)
    ingest_bytes(vault, case, OTHER_CALL + b"Brocatelle paid.\n", "other.txt")
    archive = tmp_path / "vault.backup"
    vault.backup(archive, actor="tester")

    places = {"the archive's bytes": archive.read_bytes()}
    for name, data in _members(archive).items():
        places[name] = data
        if name.startswith("database/"):  # bytes travel as base64: look inside every value too
            for number, line in enumerate(data.splitlines()[1:]):
                for value in json.loads(line):
                    if isinstance(value, str):
                        try:
                            places[f"{name} row {number} (decoded)"] = base64.b64decode(value, validate=True)
                        except ValueError:
                            places[f"{name} row {number}"] = value.encode()
    leaks = [f"{word!r} in {where}" for where, data in places.items() for word in canaries + SECRETS
             for form in _spellings(word) if form in data]
    assert not leaks, "plaintext leaked: " + "; ".join(sorted(set(leaks))[:10])


def _rewrite(archive: Path, change) -> None:
    """Write the archive again with its members passed through ``change(name, data)``."""
    members = _members(archive)
    with tarfile.open(archive, "w") as tar:
        for name, data in members.items():
            data = change(name, data)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _flip(data: bytes) -> bytes:
    return data[:len(data) // 2] + bytes([data[len(data) // 2] ^ 1]) + data[len(data) // 2 + 1:]


@pytest.mark.parametrize("member", ["blobs/", "database/document.jsonl", "database/master_key.jsonl"])
def test_a_flipped_byte_in_any_member_is_refused_before_anything_is_written(vault, filled, target, tmp_path, member):
    archive = tmp_path / "vault.backup"
    vault.backup(archive, actor="tester")
    _rewrite(archive, lambda name, data: _flip(data) if name.startswith(member) and member in name else data)
    with pytest.raises(BackupUnreadable, match="does not match its SHA-256"):
        Vault.restore(target, archive, PASSPHRASE, actor="restorer")
    assert _target_is_empty(target)


def test_a_manifest_altered_consistently_is_refused_by_its_mac(vault, filled, target, tmp_path):
    archive = tmp_path / "vault.backup"
    vault.backup(archive, actor="tester")
    manifest = Manifest.from_bytes(_members(archive)[MANIFEST])
    manifest.counts["documents"] = 99  # anything: the hashes still match, the MAC does not
    _rewrite(archive, lambda name, data: manifest.to_bytes() if name == MANIFEST else data)
    with pytest.raises(BackupUnreadable, match="MAC"):
        Vault.restore(target, archive, PASSPHRASE, actor="restorer")
    assert _target_is_empty(target)


@pytest.mark.parametrize("field, value", [("release", "99.0.0"), ("schema", "0099_from_the_future"),
                                          ("format_version", 2)])
def test_a_backup_from_a_newer_release_is_refused(vault, case, target, tmp_path, field, value):
    archive = tmp_path / "vault.backup"
    vault.backup(archive, actor="tester")
    manifest = Manifest.from_bytes(_members(archive)[MANIFEST])
    setattr(manifest, field, value)
    _rewrite(archive, lambda name, data: manifest.to_bytes() if name == MANIFEST else data)
    with pytest.raises(BackupTooNew, match="newer than this release") as refused:
        Vault.restore(target, archive, PASSPHRASE, actor="restorer")
    assert "\n" not in str(refused.value)
    assert _target_is_empty(target)


def test_a_wrong_passphrase_is_refused_before_anything_is_written(vault, filled, target, tmp_path):
    from keys import WrongPassphrase

    vault.backup(tmp_path / "b", actor="tester")
    with pytest.raises(WrongPassphrase):
        Vault.restore(target, tmp_path / "b", "another long passphrase", actor="restorer")
    assert _target_is_empty(target)


def test_a_target_that_is_not_empty_is_refused(vault, case, target, tmp_path):
    vault.backup(tmp_path / "b", actor="tester")
    target.data_dir.mkdir()
    (target.data_dir / "notes.txt").write_text("mine")
    with pytest.raises(RestoreRefused, match="not empty"):
        Vault.restore(target, tmp_path / "b", PASSPHRASE, actor="restorer")
    (target.data_dir / "notes.txt").unlink()
    Vault.restore(target, tmp_path / "b", PASSPHRASE, actor="restorer")
    with pytest.raises(RestoreRefused):  # a vault is there now
        Vault.restore(target, tmp_path / "b", PASSPHRASE, actor="restorer")


def test_a_file_that_is_not_a_backup_is_refused(target, tmp_path):
    (tmp_path / "x").write_bytes(b"not a tar at all" * 100)
    with pytest.raises(BackupUnreadable):
        Vault.restore(target, tmp_path / "x", PASSPHRASE, actor="restorer")
    assert _target_is_empty(target)


class _Remasking:
    """Registers a new identity right after the first snapshot: every document of the case is
    masked again, and the masked blobs that snapshot references are deleted."""

    def __init__(self, vault, case):
        self.vault, self.case, self.snapshots, self.replaced = vault, case, 0, 0

    def snapshot_taken(self, rows):
        self.snapshots += 1
        if self.snapshots == 1:
            self.vault.add_identity(self.case, name="Gérard Novak", aliases=["Gérard"], label="G", actor="tester")

    def blobs_replaced(self, count):
        self.replaced += count

    def begin(self, total_bytes):
        pass

    def advance(self, nbytes):
        pass


def test_blobs_replaced_after_the_snapshot_are_kept_for_it_while_the_backup_runs(vault, filled, case, target,
                                                                                tmp_path):
    """A re-masking between the snapshot and the linking of its files deletes files the snapshot
    names: the backup's hold keeps them (under ``.held/``), so one snapshot is enough, and they go
    when the backup ends."""
    observer = _Remasking(vault, case)
    report = vault.backup(tmp_path / "b", actor="tester", progress=observer)
    assert observer.snapshots == 1 and observer.replaced == 0 and report.snapshots == 1 and report.replaced == 0
    blobs = vault.store.blobs.root
    assert not (blobs / ".held").exists() and not any((blobs / ".holds").iterdir())
    Vault.restore(target, tmp_path / "b", PASSPHRASE, actor="restorer")
    with Vault.open(target, PASSPHRASE) as restored:  # the vault as the snapshot saw it, before G
        assert [i.label for i in restored.identities(restored.case(case.id))] == ["H", "Caller 1"]
        _check_every_blob(restored)


def test_a_blob_missing_while_still_referenced_fails_the_backup_and_leaves_no_file(vault, filled, tmp_path):
    with vault.store.read() as work:
        name = work.session.scalars(sa.select(BlobRow.storage_name)).first()
    vault.store.blobs.path(name).unlink()
    with pytest.raises(BackupFailed, match="1 blob files the database references are missing"):
        vault.backup(tmp_path / "b", actor="tester")
    assert list(tmp_path.glob("*b*")) == [] and not any((vault.settings.data_dir / ".backup").iterdir())


def _check_every_blob(vault: Vault) -> int:
    """Every blob every document row names exists and decrypts; the number checked."""
    checked = 0
    with vault.store.read() as work:
        for row in work.session.scalars(sa.select(DocumentRow)):
            for blob in work.session.scalars(sa.select(BlobRow).where(BlobRow.document_id == row.id)):
                work.read_blob(row, BlobPurpose(blob.purpose), blob)
                checked += 1
    return checked


def test_a_backup_taken_while_a_writer_runs_restores_to_a_consistent_vault(vault, filled, case, settings, target,
                                                                           tmp_path):
    stop, done, failures = threading.Event(), [], []

    def write() -> None:
        with Vault.open(settings, PASSPHRASE) as writer:
            number = 0
            while not stop.is_set():
                number += 1
                try:
                    text = f"[00:00:0{number % 10}] QM: Quillon, call number {number} about lot {secrets.token_hex(4)}.\n"
                    document = ingest_bytes(writer, case, text.encode(), f"w{number}.txt")
                    release_all(writer, filled, document.id)
                    if number % 4 == 0:  # re-masks the case: blobs the snapshot names are replaced
                        writer.add_identity(case, name=f"Person {number}", label=f"P{number}", actor="tester")
                    done.append(document.id)
                except Exception as error:  # noqa: BLE001 - reported below
                    failures.append(repr(error))
                    return

    thread = threading.Thread(target=write)
    thread.start()
    try:
        while len(done) < 3 and thread.is_alive():
            threading.Event().wait(0.05)
        report = vault.backup(tmp_path / "b", actor="tester")
        report2 = vault.backup(tmp_path / "c", actor="tester")
    finally:
        stop.set()
        thread.join()
    assert not failures, failures
    for archive, taken in ((tmp_path / "b", report), (tmp_path / "c", report2)):
        manifest = Manifest.from_bytes(_members(archive)[MANIFEST])
        restored_settings = Settings(data_dir=tmp_path / f"r-{archive.name}", database_url=target.database_url)
        Vault.restore(restored_settings, archive, PASSPHRASE, actor="restorer")
        with Vault.open(restored_settings, PASSPHRASE) as restored:
            assert restored.verify_audit().intact
            assert _check_every_blob(restored) == manifest.counts["blobs"]
            assert len(restored.documents()) == manifest.counts["documents"] == taken.documents
        if target.database_url:  # the next archive goes into a fresh schema of its own
            engine = sa.create_engine(target.database_url)
            with engine.begin() as connection:
                for name in sa.inspect(connection).get_table_names():
                    connection.execute(sa.text(f'drop table if exists "{name}" cascade'))
            engine.dispose()


def test_an_interrupted_restore_does_not_claim_another_vault_made_in_its_target(vault, case, target, tmp_path):
    vault.backup(tmp_path / "b", actor="tester")
    Vault.restore(target, tmp_path / "b", PASSPHRASE, actor="restorer")
    (target.data_dir / ".restore").mkdir()  # as if killed before its clean-up...
    marker = json.dumps({"archive": Manifest.from_bytes(_members(tmp_path / "b")[MANIFEST]).digest})
    (target.data_dir / ".restore" / "restoring.json").write_text(marker)
    Vault.restore(target, tmp_path / "b", PASSPHRASE, actor="restorer")  # ...which the same command finishes
    assert not (target.data_dir / ".restore").exists()

    other = Settings(data_dir=tmp_path / "other", database_url=target.database_url)
    if target.database_url is None:  # a vault made by someone else where the restore had stopped
        with Vault.initialize(Settings(data_dir=tmp_path / "other"), "another long passphrase"):
            pass
        (target.data_dir / "casevault.db").unlink()
        for suffix in ("-wal", "-shm"):
            (target.data_dir / f"casevault.db{suffix}").unlink(missing_ok=True)
        (tmp_path / "other" / "casevault.db").rename(target.data_dir / "casevault.db")
    else:
        engine = sa.create_engine(target.database_url)
        with engine.begin() as connection:
            for name in sa.inspect(connection).get_table_names():
                connection.execute(sa.text(f'drop table if exists "{name}" cascade'))
        engine.dispose()
        with Vault.initialize(other, "another long passphrase"):
            pass
    (target.data_dir / ".restore").mkdir()
    (target.data_dir / ".restore" / "restoring.json").write_text(marker)
    with pytest.raises(RestoreRefused, match="another vault"):
        Vault.restore(target, tmp_path / "b", PASSPHRASE, actor="restorer")
