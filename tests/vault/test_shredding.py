"""Crypto-shredding a case (SECURITY-TESTS 6): its keys go, and with them everything of it.

A destroyed case reads nothing, for every role and for the operator, answering like a case or a
document that never existed; a copy of its blob files kept from before cannot be decrypted with
any key left in the vault; its rows and files are gone; the audit entry survives and the chain
verifies. Another case, and the archive scope's shared identities, are untouched.
"""

from __future__ import annotations

import io
import uuid

import pytest
import sqlalchemy as sa

from keys import Context, DecryptingReader, IntegrityFailed, Keyring, unwrap_key
from tests.conftest import PASSPHRASE, ingest_bytes
from tests.vault.conftest import CALL, SECRETS, release_all
from vault import Vault
from vault._keystore import SCOPE_PURPOSES, document_key_context
from vault._models import (
    BlobRow,
    CaseKeyRetiredRow,
    CaseKeyVersion,
    CaseRow,
    DocumentRow,
    IdentityRow,
    IndexOutboxRow,
    MembershipRow,
    PendingMembershipRow,
    PseudonymScopeRow,
    ScopeKeyVersion,
    UnmaskRequestRow,
)
from vault.errors import NotFound

REASON = "Needed to contact the witness about the hearing date."


@pytest.fixture
def doomed(vault, case, people):
    """The case with a released call, a call in review, a waiting membership and an unmask
    request; what was on disk and in the rows of its documents, kept aside before the destroy."""
    released = ingest_bytes(vault, case, CALL, "call.txt")
    release_all(vault, people, released.id)
    in_review = ingest_bytes(vault, case, CALL.replace(b"maison", b"gare"), "call2.txt")
    vault.add_user("wendy", "investigator", actor="tester")
    vault.set_membership("wendy", case, member=True, actor="admin:ada", by=people["ada"])
    vault.request_unmask(people["ivy"], case, "H", REASON, actor="tester")
    kept: dict[str, dict[str, object]] = {}
    with vault.db.read() as session:
        for document_id in (released.id, in_review.id):
            row = session.get(DocumentRow, document_id)
            blobs = session.scalars(sa.select(BlobRow).where(BlobRow.document_id == document_id)).all()
            kept[document_id] = {"key_ct": row.key_ct, "blobs": [
                (b.purpose, b.version, vault.blobs.path(b.storage_name),
                 vault.blobs.path(b.storage_name).read_bytes()) for b in blobs]}
    return {"released": released, "in_review": in_review, "kept": kept}


def _rows(vault, model, **where) -> int:
    with vault.db.read() as session:
        query = sa.select(sa.func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return session.scalar(query)


def test_a_destroyed_case_reads_nothing_for_anyone(vault, case, people, doomed):
    gone = vault.destroy_case(case, actor="operator:test")
    assert (gone.documents, gone.blobs, gone.identities, gone.unmask_requests, gone.pending_memberships) == (
        2, 6, 2, 1, 1)
    never = str(uuid.uuid4())
    for document in (doomed["released"], doomed["in_review"]):
        for name in ("ivy", "rex", "rita", "ada"):
            for user in (people[name], vault.user(name)):  # as cached before, and as read now
                with pytest.raises(NotFound) as destroyed:
                    vault.view(document.id, user, actor="tester")
                with pytest.raises(NotFound) as absent:
                    vault.view(never, user, actor="tester")
                assert str(destroyed.value) == str(absent.value) == "no such document", f"{name} reads {document.id}"
        # the operator's paths too
        for read in (vault.document, lambda d: vault.content(d, actor="operator"), vault.masked,
                     lambda d: vault.open_original(d, actor="operator")):
            with pytest.raises(NotFound) as destroyed:
                read(document.id)
            assert str(destroyed.value) == "no such document"
    assert case.id not in {c.id for c in vault.cases()}
    for name in ("ivy", "rex", "rita", "ada"):
        assert case.id not in vault.user(name).cases, f"{name} is still a member"
        assert case.id not in {c.id for c in vault.cases(vault.user(name))}
    for lookup in (case.id, case.name):
        with pytest.raises(NotFound):
            vault.case(lookup)
    with pytest.raises(NotFound):
        vault.identities(case)
    assert not vault.documents(case.id)
    assert all(d.case_id != case.id for d in vault.in_review())
    assert not [w for w in vault.confirmations() if w.case_id == case.id]


def test_no_row_of_a_destroyed_case_is_left(vault, case, people, doomed):
    head = vault.feed.latest_index_change()
    vault.destroy_case(case, actor="operator:test")
    # a follower that has seen the old head must see the signal: the head never falls
    assert vault.feed.latest_index_change() > head
    for model, where in ((CaseRow, {"id": case.id}), (CaseKeyVersion, {"case_id": case.id}),
                         (DocumentRow, {"case_id": case.id}), (MembershipRow, {"case_id": case.id}),
                         (PendingMembershipRow, {"case_id": case.id}), (UnmaskRequestRow, {"case_id": case.id}),
                         (ScopeKeyVersion, {"scope": case.id}), (IdentityRow, {"scope": case.id}),
                         (PseudonymScopeRow, {"id": case.id})):
        assert _rows(vault, model, **where) == 0, f"{model.__tablename__} keeps rows of the destroyed case"
    for document_id in doomed["kept"]:
        assert _rows(vault, BlobRow, document_id=document_id) == 0
    # the outbox keeps one row: the signal for every node to drop the case's index
    with vault.db.read() as session:
        signals = session.execute(sa.select(IndexOutboxRow.document_id).where(IndexOutboxRow.case_id == case.id)).all()
    assert signals == [(case.id,)]


def test_kept_blob_files_cannot_be_decrypted_with_anything_left(vault, settings, case, people, doomed):
    other = vault.case("Another case")
    ingest_bytes(vault, other, b"[00:00:01] A: another case's call.\n", "other.txt")
    vault.destroy_case(case, actor="operator:test")
    for kept in doomed["kept"].values():
        for _purpose, _version, path, _data in kept["blobs"]:
            assert not path.exists(), f"{path.name} is still in the data directory"
    vault.close()
    with Vault.open(settings, PASSPHRASE) as reopened:
        keys = reopened.store.keys
        with reopened.db.read() as session:
            keyrings = [keys.case_keyring(session, case_id) for case_id in session.scalars(sa.select(CaseRow.id))]
            scope_keys = [keys.scope_key(session, scope, purpose)
                          for scope in session.scalars(sa.select(PseudonymScopeRow.id)) for purpose in SCOPE_PURPOSES]
            # the vault's own decryption path: the case's keys are not there to be found
            for kept in doomed["kept"].values():
                with pytest.raises(NotFound):
                    keys.case_keyring(session, case.id, needs=1)
        every_key = [ring.key(v) for ring in keyrings for v in ring.versions] + list(keys.system.values()) + scope_keys
        assert len(keyrings) >= 1 and every_key
        for document_id, kept in doomed["kept"].items():
            context = document_key_context(case.id, document_id)
            for key in every_key:  # as the case key: the document key does not come out
                with pytest.raises(IntegrityFailed):
                    unwrap_key(Keyring([key]), kept["key_ct"], context, 1)
            for purpose, version, path, data in kept["blobs"]:
                for key in every_key:  # as the document key: the file does not decrypt
                    with pytest.raises(IntegrityFailed):
                        with DecryptingReader(key, io.BytesIO(data), len(data),
                                              Context(purpose, case.id, document_id, version)) as reader:
                            reader.read()


def test_the_audit_entry_survives_and_the_chain_verifies(vault, case, people, doomed):
    vault.destroy_case(case, actor="operator:test")
    report = vault.verify_audit()
    assert report.intact, report.reason
    entries = [e for e in vault.audit_entries(limit=500) if e.action == "case.destroy"]
    assert len(entries) == 1 and entries[0].target == case.id and entries[0].actor == "operator:test"
    assert entries[0].details["documents"] == 2 and entries[0].details["identities"] == 2
    shown = [e for e in vault.audit_entries(limit=500, reader=people["ada"]) if e.action == "case.destroy"]
    assert shown[0].details["documents"] == 2  # admins read the counts
    text = repr(entries[0]) + repr(shown[0])
    for secret in [case.name, *SECRETS]:
        assert secret not in text, f"the audit entry names {secret!r}"


def test_another_case_and_the_archive_scope_are_untouched(vault, people):
    first = vault.create_case("Archive one", actor="tester", archive_scope=True)
    second = vault.create_case("Archive two", actor="tester", archive_scope=True)
    own = vault.create_case("Own scope", actor="tester")
    shared = vault.add_identity(first, name="Hadrien Quillon", aliases=["Quillon"], label="H", actor="tester")
    vault.add_identity(own, name="Hadrien Quillon", aliases=["Quillon"], label="H", actor="tester")
    in_first = ingest_bytes(vault, first, CALL, "one.txt")
    in_second = ingest_bytes(vault, second, CALL, "two.txt")
    in_own = ingest_bytes(vault, own, CALL, "own.txt")
    gone = vault.destroy_case(first, actor="operator:test")
    assert gone.identities == 0 and not gone.own_scope
    with pytest.raises(NotFound):
        vault.document(in_first.id)
    # the shared identity still masks and names the other archive-scope case's documents
    assert [i.id for i in vault.identities(second)] == [shared.id]
    assert _rows(vault, ScopeKeyVersion, scope="archive") == len(SCOPE_PURPOSES)
    for document_id in (in_second.id, in_own.id):
        text = " ".join(u.text for u in vault.masked(document_id).units)
        assert "Quillon" not in text and vault.content(document_id, actor="operator").turns
    vault.add_identity(second, name="Quentin Malaure", aliases=["Malaure"], actor="tester")  # the scope still works
    assert "Malaure" not in " ".join(u.text for u in vault.masked(in_second.id).units)
    assert vault.verify_audit().intact


def test_a_new_case_may_take_the_name(vault, case, people, doomed):
    vault.destroy_case(case, actor="operator:test")
    again = vault.create_case(case.name, actor="tester")
    assert again.id != case.id and again.documents == 0
    assert vault.case(case.name).id == again.id
    assert vault.identities(again) == []
    assert not vault.documents(again.id)


def test_destroying_twice_or_an_unknown_case_is_not_found(vault, case):
    vault.destroy_case(case, actor="operator:test")
    with pytest.raises(NotFound):
        vault.destroy_case(case, actor="operator:test")
    assert len([e for e in vault.audit_entries(limit=500) if e.action == "case.destroy"]) == 1


def _crash_before_the_files_go(vault, monkeypatch):
    """Destroy as a process that dies right after the commit: the files and their list stay."""
    def die(name):
        raise KeyboardInterrupt  # stands for the process dying: nothing after this line runs

    monkeypatch.setattr(vault.store.blobs, "delete", die)


def test_blob_files_left_by_a_crash_after_the_commit_go_at_the_next_open(vault, settings, case, people, doomed,
                                                                          monkeypatch):
    survivor = ingest_bytes(vault, vault.case("Another case"), b"[00:00:01] A: stays.\n", "stays.txt")
    _crash_before_the_files_go(vault, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        vault.destroy_case(case, actor="operator:test")
    files = [path for kept in doomed["kept"].values() for _p, _v, path, _d in kept["blobs"]]
    assert all(path.exists() for path in files)  # committed, but the files are still there
    with pytest.raises(NotFound):
        vault.document(doomed["released"].id)  # and unreadable: the rows and keys are gone
    monkeypatch.undo()
    vault.close()
    with Vault.open(settings, PASSPHRASE) as reopened:
        assert not [path for path in files if path.exists()], "the next open left files of the destroyed case"
        assert reopened.content(survivor.id, actor="operator").pages  # a file a row names stays
        assert not list((settings.blob_dir / ".shredding").glob("*"))


def test_a_list_whose_destroy_never_committed_removes_nothing(vault, settings, case, people, doomed):
    names = [path.name for kept in doomed["kept"].values() for _p, _v, path, _d in kept["blobs"]]
    vault.store.blobs.note_shredding(case.id, names)  # as if the commit had failed after the list
    vault.close()
    with Vault.open(settings, PASSPHRASE) as reopened:
        assert reopened.content(doomed["released"].id, actor="operator").turns
        assert not list((settings.blob_dir / ".shredding").glob("*"))


def test_a_membership_added_while_the_case_is_destroyed_is_destroyed_too_or_nothing_is(vault, case, people, doomed):
    """SQLite queues the destroy behind the other writer (it then sees the row and deletes it);
    PostgreSQL's foreign key stops it at the commit: a Conflict, and nothing destroyed."""
    import threading
    import time

    from vault._models import UserRow
    from vault.errors import Conflict

    outcome: list[object] = []
    with vault.store.write() as work:  # another writer, holding its transaction open
        session = work.session
        walt = session.scalar(sa.select(UserRow.id).where(UserRow.name == "wendy"))
        session.add(MembershipRow(user_id=walt, case_id=case.id))
        session.flush()
        thread = threading.Thread(target=lambda: outcome.append(_destroy_or_error(vault, case)))
        thread.start()
        time.sleep(1.0)  # the destroy is now waiting for this transaction
    thread.join(timeout=60)
    if isinstance(outcome[0], Conflict):
        assert vault.case(case.id).id == case.id and vault.document(doomed["released"].id)
        assert not [e for e in vault.audit_entries(limit=500) if e.action == "case.destroy"]
    else:
        assert _rows(vault, MembershipRow, case_id=case.id) == 0 and _rows(vault, CaseRow, id=case.id) == 0
    assert vault.verify_audit().intact


def _destroy_or_error(vault, case):
    try:
        return vault.destroy_case(case, actor="operator:test")
    except Exception as error:  # noqa: BLE001 - the test inspects which
        return error


def test_a_case_with_a_retired_case_key_version_is_destroyed_with_its_tombstones(vault, case, people, doomed):
    """A retirement's tombstone names the case: it goes with the case (a foreign key would stop
    the destroy otherwise)."""
    vault.rotate_keys(actor="tester", case=case)
    vault.rewrap(actor="tester", case=case)
    vault.reencrypt(actor="tester", case=case)
    assert vault.retire_case_key_version(1, actor="tester", case=case)
    vault.destroy_case(case, actor="operator:test")
    assert _rows(vault, CaseKeyRetiredRow, case_id=case.id) == 0 and _rows(vault, CaseRow, id=case.id) == 0
    assert vault.verify_audit().intact
