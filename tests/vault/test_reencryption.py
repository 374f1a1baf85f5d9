"""Re-encryption under new document keys, and retiring case key versions (SECURITY-TESTS 3):
rotate, rewrap, re-encrypt, retire; a ciphertext kept from before then fails as retired."""

from __future__ import annotations

import os
import shutil

import pytest
import sqlalchemy as sa

from keys import KeyVersionRetired, stream_key_version, token_version
from tests.conftest import PASSPHRASE, ingest_bytes
from tests.vault.conftest import CALL
from vault import Vault
from vault._models import BlobRow, CaseKeyRetiredRow, CaseKeyVersion, DocumentRow
from vault.errors import Conflict, NotFound

BIG = b"".join(f"[00:{i // 60:02d}:{i % 60:02d}] H: line {i} of a long call {os.urandom(6).hex()}\n".encode()
               for i in range(3000))
JUSTIFICATION_TEXT = "needed to prepare the extradition hearing of 14 May"


def _blobs(vault: Vault) -> dict[str, tuple[str, int, str]]:
    with vault.db.read() as session:
        return {b.id: (b.storage_name, b.key_version, b.document_id) for b in session.scalars(sa.select(BlobRow))}


def _files(vault: Vault) -> set[str]:
    return {p.name for p in vault.settings.blob_dir.glob("??/*")}


def test_reencrypt_gives_each_document_a_new_key_and_new_files(vault, case):
    first = ingest_bytes(vault, case, CALL, "call.txt")
    second = ingest_bytes(vault, case, BIG, "long.txt")
    original = {d.id: vault.content(d.id, actor="tester").text for d in (first, second)}
    vault.rotate_keys(actor="tester")
    vault.rewrap(actor="tester")
    before = _blobs(vault)
    assert {v for _, v, _ in before.values()} == {1}
    assert {u.version: u.blobs for u in vault.key_status().case_key_uses} == {1: 6, 2: 0}

    report = vault.reencrypt(actor="ada")

    assert (report.total_documents, report.total_blobs) == (2, 6)
    after = _blobs(vault)
    assert set(after) == set(before)  # the same rows, swapped to new files
    for blob_id, (name, version, _) in after.items():
        assert name != before[blob_id][0] and version == 2
        with (vault.settings.blob_dir / name[:2] / name).open("rb") as handle:
            assert stream_key_version(handle.read(64)) == 2
    assert _files(vault) == {name for name, _, _ in after.values()}, "an old file was left behind"
    with vault.db.read() as session:
        for row in session.scalars(sa.select(DocumentRow)):
            assert (token_version(row.key_ct), token_version(row.title_ct), row.case_key_version) == (2, 2, 2)
    for document in (first, second):
        assert vault.content(document.id, actor="tester").text == original[document.id]
        assert vault.document(document.id).filename in ("call.txt", "long.txt")
    with vault.open_original(second.id, actor="tester") as reader:
        assert reader.read() == BIG
    assert {u.version: u.blobs for u in vault.key_status().case_key_uses} == {1: 0, 2: 6}
    entries = [e for e in vault.audit_entries(limit=500) if e.action == "keys.reencrypt"]
    assert [(e.actor, e.target, e.details["documents"], e.details["blobs"]) for e in entries] == [("ada", case.id, 2, 6)]
    assert vault.reencrypt(actor="ada").total_documents == 0  # nothing left: nothing redone
    assert vault.verify_audit().intact


def test_reencrypt_of_one_case_leaves_the_others(vault, case):
    other = vault.create_case("Other case", actor="tester")
    ingest_bytes(vault, case, CALL, "a.txt")
    kept = ingest_bytes(vault, other, CALL, "b.txt")
    vault.rotate_keys(actor="tester")
    report = vault.reencrypt(actor="tester", case=case)
    assert report.documents == {case.id: 1}
    assert {v for _, v, d in _blobs(vault).values() if d == kept.id} == {1}


def test_a_document_ingested_after_the_rotation_is_already_done(vault, case):
    vault.rotate_keys(actor="tester")
    ingest_bytes(vault, case, CALL, "after.txt")
    assert {v for _, v, _ in _blobs(vault).values()} == {2}
    assert vault.reencrypt(actor="tester").total_documents == 0


def _retire_refusal(vault, version=1, **kwargs) -> str:
    with pytest.raises(Conflict) as refused:
        vault.retire_case_key_version(version, actor="tester", **kwargs)
    return str(refused.value)


def test_retirement_is_refused_while_anything_depends_on_the_version(vault, case, people):
    ingest_bytes(vault, case, CALL, "call.txt")
    vault.request_unmask(people["ivy"], case, "H", JUSTIFICATION_TEXT, actor="tester")
    assert "newest key" in _retire_refusal(vault) and "keys rotate" in _retire_refusal(vault)
    vault.rotate_keys(actor="tester")

    message = _retire_refusal(vault)
    for expected in ("1 document key", "3 files", "1 unmask justification", "the case name",
                     "the search index key", '"Affaire H"', "keys rewrap", "keys reencrypt"):
        assert expected in message, f"{expected!r} missing from: {message}"
    vault.rewrap(actor="tester")
    message = _retire_refusal(vault)
    assert "3 files" in message and "document key" not in message and "justification" not in message
    vault.reencrypt(actor="tester")

    assert vault.retire_case_key_version(1, actor="ada") == sorted(c.id for c in vault.cases())

    uses = {u.version: u for u in vault.key_status().case_key_uses}
    assert uses[1].retired and not uses[1].in_use and uses[1].retired_cases == 2
    assert not uses[2].retired and uses[2].cases == 2
    with vault.db.read() as session:
        assert not session.scalars(sa.select(CaseKeyVersion).where(CaseKeyVersion.version == 1)).all(), \
            "the retired key's wrapped material is still stored"
        assert len(session.scalars(sa.select(CaseKeyRetiredRow)).all()) == 2
    entry = next(e for e in vault.audit_entries(limit=500) if e.action == "keys.retire-case-key")
    assert (entry.actor, entry.details["case_key_version"]) == ("ada", 1)
    assert "Quillon" in vault.content(vault.documents()[0].id, actor="tester").text  # everything still reads
    with pytest.raises(NotFound, match="already retired"):
        vault.retire_case_key_version(1, actor="tester")
    with pytest.raises(NotFound, match="no case key has version 7"):
        vault.retire_case_key_version(7, actor="tester")


def test_retiring_one_case_leaves_the_others(vault, case):
    other = vault.create_case("Other case", actor="tester")
    vault.rotate_keys(actor="tester")
    vault.rewrap(actor="tester")
    assert vault.retire_case_key_version(1, actor="tester", case=case) == [case.id]
    uses = {u.version: u for u in vault.key_status().case_key_uses}
    assert (uses[1].cases, uses[1].retired_cases) == (1, 1)
    assert vault.case(other.name).id == other.id


def _retire_everything_below_2(vault: Vault) -> None:
    vault.rotate_keys(actor="tester")
    vault.rewrap(actor="tester")
    vault.reencrypt(actor="tester")
    vault.retire_case_key_version(1, actor="tester")


def test_a_blob_file_kept_from_before_fails_as_retired(vault, case):
    """SECURITY-TESTS 3: a leftover v1 blob gives KEY_VERSION_RETIRED, never its plaintext."""
    document = ingest_bytes(vault, case, CALL, "call.txt")
    with vault.db.read() as session:
        content = session.scalar(sa.select(BlobRow).where(BlobRow.document_id == document.id,
                                                          BlobRow.purpose == "content"))
        kept_name = content.storage_name
    aside = vault.settings.data_dir / "aside.blob"
    shutil.copy(vault.settings.blob_dir / kept_name[:2] / kept_name, aside)

    _retire_everything_below_2(vault)

    with vault.db.read() as session:
        current = session.get(BlobRow, content.id).storage_name
    shutil.copy(aside, vault.settings.blob_dir / current[:2] / current)  # the old file restored
    with pytest.raises(KeyVersionRetired, match="case key version 1, which was retired"):
        vault.content(document.id, actor="tester")


def test_a_wrapped_document_key_kept_from_before_fails_as_retired(settings, vault, case):
    document = ingest_bytes(vault, case, CALL, "call.txt")
    with vault.db.read() as session:
        old = session.get(DocumentRow, document.id)
        kept = (old.key_ct, old.title_ct, old.filename_ct, old.case_key_version)
    with Vault.open(settings, PASSPHRASE) as other:  # another process, its cache holding version 1
        assert other.document(document.id).title
        _retire_everything_below_2(vault)
        with vault.db.engine.begin() as connection:  # a row restored from before, by raw SQL
            connection.execute(sa.update(DocumentRow).where(DocumentRow.id == document.id).values(
                key_ct=kept[0], title_ct=kept[1], filename_ct=kept[2], case_key_version=kept[3]))
        for opened in (vault, other):
            with pytest.raises(KeyVersionRetired, match="retired"):
                opened.document(document.id)


def test_a_re_masking_racing_a_re_encryption_is_a_conflict_not_a_file_under_the_old_key(vault, case):
    document = ingest_bytes(vault, case, CALL, "call.txt")
    vault.rotate_keys(actor="tester")

    def meanwhile(decisions, previous):  # between the re-masking's read and its write
        assert vault.reencrypt(actor="tester").total_documents == 1
        return {}

    with pytest.raises(Conflict):
        vault.store.remask(document.id, actor="tester", action="document.remask", decide=meanwhile)
    assert vault.masked(document.id).units  # the masked form reads under the document's new key
    assert _files(vault) == {name for name, _, _ in _blobs(vault).values()}
