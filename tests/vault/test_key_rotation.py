"""Case key rotation and rewrap: new data goes under the newest version, data under older
versions still reads, other processes on the same database follow, and neither the audit log
nor the database ever holds a key in clear.
"""

from __future__ import annotations

import base64
import logging

import pytest
import sqlalchemy as sa

from keys import token_version
from tests.conftest import PASSPHRASE, ingest_bytes
from tests.vault.conftest import CALL, SECRETS, release_all
from vault import Vault
from vault._models import Base, CaseKeyVersion, CaseRow, DocumentRow, UnmaskRequestRow

LATER_CALL = b"[00:00:02] QM: Quillon, the lawyer called again.\n[00:00:06] H: Not now.\n"
JUSTIFICATION = "needed to prepare the extradition hearing of 14 May"


def _case_key_versions(vault: Vault, case_id: str) -> list[int]:
    with vault.db.read() as session:
        return sorted(session.scalars(sa.select(CaseKeyVersion.version).where(CaseKeyVersion.case_id == case_id)))


def _document_key_version(vault: Vault, document_id: str) -> int:
    with vault.db.read() as session:
        row = session.get(DocumentRow, document_id)
        assert token_version(row.key_ct) == row.case_key_version
        return row.case_key_version


def test_new_documents_use_the_new_case_key_and_old_ones_still_read(vault, case, people):
    before = ingest_bytes(vault, case, CALL, "before.txt")
    release_all(vault, people, before.id)

    status = vault.rotate_keys(actor="tester", case=case)

    after = ingest_bytes(vault, case, LATER_CALL, "after.txt")
    release_all(vault, people, after.id)
    assert _case_key_versions(vault, case.id) == [1, 2]
    assert (_document_key_version(vault, before.id), _document_key_version(vault, after.id)) == (1, 2)
    for document in (before, after):
        assert vault.document(document.id).filename in ("before.txt", "after.txt")
        view = vault.view(document.id, people["ivy"], actor="tester")
        assert view.units and not any(secret in u.text for u in view.units for secret in SECRETS)
    assert "Quillon" in vault.content(before.id, actor="tester").text
    assert vault.case(case.name).id == case.id  # the case name, under version 1, still reads
    # "Another case" was not rotated
    assert status.case_key_versions == {1: 2, 2: 1}


def test_key_status_reports_every_version_and_what_it_protects(vault, case, people):
    ingest_bytes(vault, case, CALL, "before.txt")
    vault.rotate_keys(actor="tester")
    ingest_bytes(vault, case, LATER_CALL, "after.txt")

    status = vault.key_status()

    assert status.case_key_versions == {1: 2, 2: 2}  # both cases have both versions
    assert status.documents_by_case_key_version == {1: 1, 2: 1}
    assert [m.version for m in status.master_versions] == [1]


def test_rotating_again_adds_a_version_each_time(vault, case):
    other = vault.create_case("Second case", actor="tester")
    vault.rotate_keys(actor="tester")
    vault.rotate_keys(actor="tester", case=case)
    assert _case_key_versions(vault, case.id) == [1, 2, 3]
    assert _case_key_versions(vault, other.id) == [1, 2]
    assert _document_key_version(vault, ingest_bytes(vault, case, CALL).id) == 3


def test_unmask_justifications_follow_the_rotation(vault, case, people):
    first = vault.request_unmask(people["ivy"], case, "H", JUSTIFICATION, actor="tester")
    vault.rotate_keys(actor="tester", case=case)
    second = vault.request_unmask(people["ivy"], case, "Caller 1", JUSTIFICATION + " (second)", actor="tester")
    with vault.db.read() as session:
        versions = {r.id: token_version(r.justification_ct) for r in session.scalars(sa.select(UnmaskRequestRow))}
    assert versions == {first.id: 1, second.id: 2}
    assert [r.justification for r in vault.unmask_requests(case)] == [JUSTIFICATION, JUSTIFICATION + " (second)"]


def test_a_second_vault_on_the_same_database_follows_a_rotation(settings, vault, case, people):
    before = ingest_bytes(vault, case, CALL, "before.txt")
    with Vault.open(settings, PASSPHRASE) as other:
        assert other.document(before.id).title  # its cache now holds the case keyring at version 1
        index_key = other.feed.index_key(case.id)

        vault.rotate_keys(actor="tester")
        after = ingest_bytes(vault, case, LATER_CALL, "after.txt")
        from_other = ingest_bytes(other, case, b"[00:00:01] H: a third call.\n", "third.txt")

        # the other process reads what was written under the version it had not seen, and
        # writes under the newest version although its cache predated the rotation
        assert "lawyer" in other.content(after.id, actor="tester").text
        assert _document_key_version(vault, from_other.id) == 2
        assert "third call" in vault.content(from_other.id, actor="tester").text
        vault.rewrap(actor="tester")
        assert other.case(case.name).id == case.id  # the name, now under version 2
        assert other.feed.index_key(case.id).material == index_key.material
        assert "Quillon" in other.content(before.id, actor="tester").text


def test_rewrap_moves_every_wrapped_key_and_name_to_the_newest_version(vault, case, people):
    documents = [ingest_bytes(vault, case, CALL, "a.txt"), ingest_bytes(vault, case, LATER_CALL, "b.txt")]
    vault.request_unmask(people["ivy"], case, "H", JUSTIFICATION, actor="tester")
    index_key = vault.feed.index_key(case.id)
    with vault.db.read() as session:
        blobs_before = session.execute(sa.text("select storage_name, stored_bytes from blob order by storage_name")).all()
    vault.rotate_keys(actor="tester")

    status = vault.rewrap(actor="tester")

    assert status.documents_by_case_key_version == {2: 2}
    with vault.db.read() as session:
        for row in session.scalars(sa.select(CaseRow)):
            assert token_version(row.name_ct) == token_version(row.index_key_ct) == 2
        assert {token_version(r.justification_ct) for r in session.scalars(sa.select(UnmaskRequestRow))} == {2}
        blobs_after = session.execute(sa.text("select storage_name, stored_bytes from blob order by storage_name")).all()
    assert blobs_after == blobs_before  # no file was rewritten
    assert vault.feed.index_key(case.id).material == index_key.material
    assert [r.justification for r in vault.unmask_requests(case)] == [JUSTIFICATION]
    for document in documents:
        assert vault.content(document.id, actor="tester").text
    assert vault.rewrap(actor="tester").documents_by_case_key_version == {2: 2}  # nothing left to move


def test_rotation_and_rewrap_are_audited_with_versions(vault, case):
    vault.rotate_keys(actor="ada", case=case)
    vault.rewrap(actor="ada", case=case)
    entries = [e for e in vault.audit_entries(limit=500) if e.action.startswith("keys.")]
    assert [(e.action, e.actor, e.target) for e in entries] == [("keys.rotate", "ada", case.id),
                                                                ("keys.rewrap", "ada", case.id)]
    assert entries[0].details == {"scope": "case", "case_keys": {case.id: 2}, "master_version": 1}
    assert entries[1].details == {"case_key_version": 2, "documents": 0, "justifications": 0}
    assert vault.verify_audit().intact


def _key_forms(vault: Vault, case_ids: list[str]) -> dict[bytes, str]:
    """Every case key version and the master key, raw, in hex and in base64."""
    materials = {}
    with vault.db.read() as session:
        for case_id in case_ids:
            keyring = vault._keys.case_keyring(session, case_id)
            for version in keyring.versions:
                materials[f"case key {case_id} v{version}"] = keyring.key(version).material
    materials["master key"] = vault._keys._master.primary.material
    forms = {}
    for label, material in materials.items():
        for form, encoded in (("raw", material), ("hex", material.hex().encode()),
                              ("HEX", material.hex().upper().encode()), ("base64", base64.b64encode(material)),
                              ("urlsafe base64", base64.urlsafe_b64encode(material).rstrip(b"="))):
            forms[encoded] = f"{label} ({form})"
    return forms


def test_no_key_material_in_the_audit_log_the_database_or_the_logs(vault, case, people, caplog):
    caplog.set_level(logging.DEBUG)
    ingest_bytes(vault, case, CALL, "before.txt")
    vault.rotate_keys(actor="tester")
    ingest_bytes(vault, case, LATER_CALL, "after.txt")
    vault.rewrap(actor="tester")
    forms = _key_forms(vault, [c.id for c in vault.cases()])
    assert len(forms) == 5 * (2 * 2 + 1)  # two cases with two versions each, and the master key

    details = repr([e.details for e in vault.audit_entries(limit=500)]).encode()
    dumped = []
    with vault.db.read() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(sa.select(table)):
                dumped.extend(v if isinstance(v, bytes) else str(v).encode() for v in row)
    database = b"\x00".join(dumped)
    logged = caplog.text.encode()
    for haystack, where in ((details, "audit details"), (database, "database"), (logged, "logs")):
        leaked = [label for needle, label in forms.items() if needle in haystack]
        assert not leaked, f"{', '.join(leaked)} leaked into the {where}"


def test_rotating_a_case_that_is_gone_changes_nothing(vault, case):
    from vault import CaseInfo
    from vault.errors import NotFound

    ghost = CaseInfo("00000000-0000-4000-8000-000000000000", "ghost", case.created_at)
    with pytest.raises(NotFound):
        vault.rotate_keys(actor="tester", case=ghost)
    assert _case_key_versions(vault, case.id) == [1]
    assert not [e for e in vault.audit_entries(limit=500) if e.action == "keys.rotate"]


def test_rotation_during_concurrent_uploads_leaves_every_document_readable(vault, case):
    from concurrent.futures import ThreadPoolExecutor

    def upload(i: int):
        return ingest_bytes(vault, case, f"[00:00:01] H: call number {i}.\n".encode(), f"call{i}.txt")

    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(upload, i) for i in range(20)]
        vault.rotate_keys(actor="tester")
        documents = [f.result() for f in futures]

    versions = {_document_key_version(vault, d.id) for d in documents}
    assert versions <= {1, 2}
    for i, document in enumerate(documents):
        assert f"call number {i}." in vault.content(document.id, actor="tester").text
    assert _document_key_version(vault, ingest_bytes(vault, case, CALL).id) == 2
