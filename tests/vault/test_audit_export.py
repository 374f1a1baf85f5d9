"""The audit log's off-host copy (SECURITY-TESTS 53 and 60).

An export is checked without the vault: an edited, deleted, reordered or truncated line is
reported at its position; a file rewritten and signed with another key passes only its own key,
never the vault's; an earlier export must be a prefix of a later one, which catches a vault whose
tail was cut and head rolled back (invisible to the in-vault chain). The file holds who, what,
which object and when, never a query, a justification, a name or text.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from keys import SecretKey, SigningKey
from tests.conftest import PASSPHRASE, ingest_bytes
from vault import Vault, check_export
from vault._audit_file import genesis, line, link, signed_message
from vault._models import AuditEntryRow, AuditHead, SystemKeyVersion
from vault.errors import AuditBroken, Forbidden, InvalidInput

CANARIES = {
    "case": "Affaire Canari Zéphyrin",
    "name": "Zéphyrin Canarelli",
    "alias": "Canarelli",
    "query": "canary-query-zephyrin",
    "reason": "Canary justification: Zephyrin must be reached before the hearing.",
    "text": "Le canari Zéphyrin chante à minuit.",
}


def export(vault, path: Path, **kwargs) -> Path:
    path.write_text("".join(vault.export_audit(actor="operator:test", **kwargs)), encoding="utf-8")
    return path


@pytest.fixture
def busy(vault):
    """A vault whose log holds every kind of secret a detail may carry."""
    case = vault.create_case(CANARIES["case"], actor="tester")
    ivy = vault.add_user("ivy", "investigator", cases=(case.id,), actor="tester")[0]
    vault.add_identity(case, name=CANARIES["name"], aliases=[CANARIES["alias"]], label="Z", actor="tester")
    ingest_bytes(vault, case, f"[00:00:01] Z: {CANARIES['text']}\n".encode(), "canary.txt")
    vault.record(actor="ivy", action="search", details={"user": ivy.id, "query": CANARIES["query"], "cases": [case.id]})
    vault.request_unmask(ivy, case, "Z", CANARIES["reason"], actor="ivy")
    return vault


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_an_export_verifies_without_the_vault_under_the_vault_key(busy, tmp_path):
    status = busy.key_status()
    path = export(busy, tmp_path / "audit.jsonl")
    head = busy.verify_audit()
    busy.close()
    for key in (status.audit_public_key, status.audit_key_fingerprint, None):
        checked = check_export(path, public_key=key)
        assert checked.intact, checked.reason
        assert checked.entries == head.entries and checked.fingerprint == status.audit_key_fingerprint
    last = json.loads(_lines(path)[-2])
    assert last["action"] == "audit.export" and last["actor"] == "operator:test"  # the export is audited first


def test_an_export_holds_no_detail_query_justification_name_or_text(busy, tmp_path):
    data = export(busy, tmp_path / "audit.jsonl").read_bytes()
    for what, canary in CANARIES.items():
        for form in {canary, canary.casefold(), canary.split()[-1]}:
            assert form.encode() not in data, f"the export leaks the {what}: {form!r}"
    for record in map(json.loads, _lines(tmp_path / "audit.jsonl")[1:-1]):
        assert set(record) == {"seq", "at", "actor", "action", "target", "chain"}


def _edit(lines, k):
    record = json.loads(lines[k])
    record["actor"] = "someone-else"
    lines[k] = line(record)


def _delete(lines, k):
    del lines[k]


def _reorder(lines, k):
    lines[k], lines[k + 1] = lines[k + 1], lines[k]


def _truncate_tail(lines, k):
    del lines[-2]  # the last entry; the signature line stays


def _cut_signature(lines, k):
    del lines[-1]


def _cut_mid_line(lines, k):
    lines[k] = lines[k][: len(lines[k]) // 2]
    del lines[k + 1:]


@pytest.mark.parametrize(("tamper", "position", "words"), [
    (_edit, 5, "entry 5 was altered"),
    (_delete, 5, "entry 5 is missing"),
    (_reorder, 5, "entry 5 is missing or out of order (entry 6 is in its place)"),
    (_truncate_tail, "last", "entries were removed"),  # the entry cut is the last one
    (_cut_signature, "after", "truncated"),  # the line after the last entry
    (_cut_mid_line, 5, "entry 5 is not a well-formed entry line"),
])
def test_a_tampered_export_is_reported_at_its_position(busy, tmp_path, tamper, position, words):
    path = export(busy, tmp_path / "audit.jsonl")
    key = busy.key_status().audit_public_key
    count = check_export(path, public_key=key).entries
    lines = _lines(path)
    tamper(lines, 5)  # line 5 holds entry 5 (line 0 is the header)
    path.write_text("".join(lines), encoding="utf-8")
    checked = check_export(path, public_key=key)
    assert not checked.intact
    assert checked.first_broken == {"last": count, "after": count + 1}.get(position, position), checked.reason
    assert words in checked.reason


def _resign(path: Path, signer: SigningKey, edit_at: int) -> None:
    """Rewrite the export as a forger would: change an entry, chain it again, sign with their key."""
    lines = _lines(path)
    header = json.loads(lines[0]) | {"public_key": signer.public_key.hex(), "fingerprint": signer.fingerprint}
    chain, out = genesis(header["vault_id"]), [line(header)]
    for text in lines[1:-1]:
        record = json.loads(text)
        if record["seq"] == edit_at:
            record["actor"] = "nobody"
        chain = link(chain, record)
        out.append(line(record | {"chain": chain.hex()}))
    count = len(out) - 1
    out.append(line({"count": count, "head": chain.hex(),
                     "signature": signer.sign(signed_message(header, count, chain)).hex()}))
    path.write_text("".join(out), encoding="utf-8")


def test_a_file_signed_again_with_another_key_fails_against_the_real_key(busy, tmp_path):
    status = busy.key_status()
    path = export(busy, tmp_path / "audit.jsonl")
    forger = SigningKey(SecretKey.generate())
    _resign(path, forger, edit_at=3)
    assert check_export(path).intact  # the key the file names proves nothing by itself
    for real in (status.audit_public_key, status.audit_key_fingerprint):
        checked = check_export(path, public_key=real)
        assert not checked.intact and checked.first_broken == 0
        assert forger.fingerprint in checked.reason and status.audit_key_fingerprint in checked.reason


def test_entries_chained_again_without_the_key_fail_the_signature(busy, tmp_path):
    path = export(busy, tmp_path / "audit.jsonl")
    header, signature = _lines(path)[0], json.loads(_lines(path)[-1])["signature"]
    _resign(path, SigningKey(SecretKey.generate()), edit_at=3)
    lines = _lines(path)
    lines[0] = header  # the vault's header and key back
    trailer = json.loads(lines[-1]) | {"signature": signature}  # and the signature the vault made
    lines[-1] = line(trailer)
    path.write_text("".join(lines), encoding="utf-8")
    checked = check_export(path)
    assert not checked.intact and "signature does not match" in checked.reason, checked.reason


def test_an_earlier_export_must_be_a_prefix_of_a_later_one(busy, tmp_path):
    key = busy.key_status().audit_public_key
    first = export(busy, tmp_path / "first.jsonl")
    busy.create_case("Later case", actor="tester")
    second = export(busy, tmp_path / "second.jsonl")
    assert check_export(second, public_key=key, previous=first).intact
    backwards = check_export(first, public_key=key, previous=second)
    assert not backwards.intact and "entries were removed from the end" in backwards.reason


def test_a_vault_whose_tail_was_cut_and_head_rolled_back_differs_from_the_off_host_copy(busy, tmp_path):
    """The in-vault chain cannot see this (README: keep a copy elsewhere); the export can."""
    key = busy.key_status().audit_public_key
    kept = export(busy, tmp_path / "kept.jsonl")
    count = check_export(kept).entries
    with busy.db.write() as session:  # someone with the database drops the last three entries
        keep = count - 3
        mac = session.scalar(sa.select(AuditEntryRow.entry_mac).where(AuditEntryRow.seq == keep))
        session.execute(sa.delete(AuditEntryRow).where(AuditEntryRow.seq > keep))
        session.execute(sa.update(AuditHead).values(seq=keep, mac=mac))
    assert busy.verify_audit().intact  # the in-vault chain cannot tell
    later = export(busy, tmp_path / "later.jsonl")
    checked = check_export(later, public_key=key, previous=kept)
    # entry count - 2 is now the later export's own audit.export entry: the log was rewritten there
    assert not checked.intact and checked.first_broken == count - 2, checked.reason
    assert "differs from the earlier export" in checked.reason


def test_a_log_edited_in_the_database_is_not_signed(busy, tmp_path):
    with busy.db.write() as session:
        session.execute(sa.update(AuditEntryRow).where(AuditEntryRow.seq == 4).values(actor="nobody"))
    with pytest.raises(AuditBroken, match="position 4"):
        export(busy, tmp_path / "audit.jsonl")


def test_only_admins_export(vault, tmp_path):
    case = vault.create_case("A case", actor="tester")
    users = {role: vault.add_user(role[:3], role, cases=(case.id,) if role != "admin" else (), actor="tester")[0]
             for role in ("investigator", "reviewer", "admin")}
    for role in ("investigator", "reviewer"):
        before = vault.verify_audit().entries
        with pytest.raises(Forbidden):
            vault.export_audit(actor=role, reader=users[role])
        assert vault.verify_audit().entries == before  # a refused export writes nothing
    path = export(vault, tmp_path / "audit.jsonl", reader=users["admin"])
    assert check_export(path, public_key=vault.key_status().audit_public_key).intact


def test_a_vault_made_before_the_signing_key_gets_one_when_it_opens(vault, settings, tmp_path):
    with vault.db.write() as session:
        session.execute(sa.delete(SystemKeyVersion).where(SystemKeyVersion.purpose == "audit-signing"))
    vault.close()
    with Vault.open(settings, PASSPHRASE) as reopened:
        first = reopened.key_status().audit_key_fingerprint
        assert first.startswith("ed25519:")
        path = export(reopened, tmp_path / "audit.jsonl")
    with Vault.open(settings, PASSPHRASE) as again:  # made once, kept
        assert again.key_status().audit_key_fingerprint == first
    assert check_export(path, public_key=first).intact


def test_a_key_that_is_neither_hex_nor_a_fingerprint_is_refused(vault, tmp_path):
    path = export(vault, tmp_path / "audit.jsonl")
    with pytest.raises(InvalidInput, match="64 hex digits"):
        check_export(path, public_key="not a key")
    with pytest.raises(InvalidInput, match="cannot read"):
        check_export(tmp_path / "missing.jsonl")
