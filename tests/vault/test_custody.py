"""Key custody on SQLite and PostgreSQL: the passphrase changed (the root key re-sealed and
nothing else), a split into SLIP-39 shares (any threshold of them unseal; fewer, a share of an
older split, a mistyped word do not), the passphrase dropped, and a vault of release 1 (master
keys sealed by the passphrase itself) converted the first time it opens.
"""

from __future__ import annotations

import base64
import itertools
import json

import pytest
import sqlalchemy as sa

from keys import (
    NotEnoughShares,
    SealMissing,
    ShareInvalid,
    ShareOfAnotherSplit,
    WrongPassphrase,
    seal_master_key,
)
from tests.conftest import PASSPHRASE, ingest_bytes
from tests.vault.conftest import CALL
from vault import Vault
from vault._models import MasterKeyVersion, RootSealRow

NEW_PASSPHRASE = "another passphrase for casevault"
KEY_TABLES = ("master_key", "system_key", "case_key", "scope_key", "case", "document", "blob")


def _rows(vault: Vault, table: str) -> list[tuple]:
    with vault.db.engine.connect() as connection:
        return sorted(tuple(r) for r in connection.execute(sa.text(f'SELECT * FROM "{table}"')))


def _audit_text(vault: Vault) -> str:
    with vault.db.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT * FROM audit_log")).all()
    return repr(rows) + repr(vault.audit_entries(limit=500))


def test_changing_the_passphrase_reseals_the_root_key_and_nothing_else(settings, vault, case):
    ingest_bytes(vault, case, CALL)
    before = {table: _rows(vault, table) for table in KEY_TABLES}
    old_seal = _rows(vault, "root_seal")

    vault.change_passphrase(NEW_PASSPHRASE, actor="tester")

    assert {table: _rows(vault, table) for table in KEY_TABLES} == before  # byte for byte
    assert _rows(vault, "root_seal") != old_seal
    vault.close()
    with pytest.raises(WrongPassphrase):
        Vault.open(settings, PASSPHRASE)
    with Vault.open(settings, NEW_PASSPHRASE) as reopened:
        assert reopened.case(case.name).id == case.id
        assert "Quillon" in reopened.content(reopened.documents()[0].id, actor="tester").text
        entry = [e for e in reopened.audit_entries(limit=500) if e.action == "keys.passphrase"]
        assert len(entry) == 1
        assert PASSPHRASE not in _audit_text(reopened) and NEW_PASSPHRASE not in _audit_text(reopened)


def test_any_two_of_three_shares_unseal_and_one_does_not(settings, vault, case):
    made = vault.split_keys(3, 2, actor="tester")
    vault.close()
    assert len(made.shares) == 3 and len(set(made.shares)) == 3
    for pair in itertools.combinations(made.shares, 2):
        with Vault.open(settings, shares=list(pair)) as opened:
            assert opened.case(case.name).id == case.id
    for share in made.shares:
        with pytest.raises(NotEnoughShares, match="1 of 2 shares given; 1 more needed"):
            Vault.open(settings, shares=[share])
    with pytest.raises(NotEnoughShares, match="1 of 2 shares given"):  # the same share twice counts once
        Vault.open(settings, shares=[made.shares[0], made.shares[0]])
    with Vault.open(settings, PASSPHRASE) as opened:  # the passphrase is kept by default
        text = _audit_text(opened)
        status = opened.key_status()
    assert status.seal.threshold == 2 and status.seal.shares == 3 and status.seal.passphrase is not None
    for share in made.shares:
        assert " ".join(share.split()[4:8]) not in text


def test_the_split_is_audited_with_its_numbers_and_the_unseal_with_how(settings, vault):
    vault.split_keys(3, 2, actor="tester")
    vault.close()
    with Vault.open(settings, PASSPHRASE) as opened:
        made = opened.split_keys(4, 3, actor="tester")
    with Vault.open(settings, shares=made.shares[1:], actor="custodians") as opened:
        entries = opened.audit_entries(limit=500)
    splits = [e.details for e in entries if e.action == "keys.split"]
    assert [(d["shares"], d["threshold"]) for d in splits] == [(3, 2), (4, 3)]
    assert [e.details for e in entries if e.action == "keys.unseal"] == [{"by": "shares"}]


def test_a_new_split_makes_the_shares_of_the_older_one_refused(settings, vault):
    first = vault.split_keys(3, 2, actor="tester")
    second = vault.split_keys(3, 2, actor="tester")
    vault.close()
    with pytest.raises(ShareOfAnotherSplit, match="share 1 belongs to another split"):
        Vault.open(settings, shares=first.shares[:2])
    with pytest.raises(ShareOfAnotherSplit, match="share 2 belongs to another split"):
        Vault.open(settings, shares=[second.shares[0], first.shares[1]])
    with Vault.open(settings, shares=second.shares[1:]):
        pass


def test_a_mistyped_word_is_refused_by_its_checksum_naming_the_share(settings, vault):
    made = vault.split_keys(3, 2, actor="tester")
    vault.close()
    words = made.shares[1].split()
    words[7] = "academic" if words[7] != "academic" else "acid"  # a real word, in the wrong place
    with pytest.raises(ShareInvalid, match="share 2 is not a valid share.*checksum") as caught:
        Vault.open(settings, shares=[made.shares[0], " ".join(words)])
    message = " ".join(str(caught.value).lower().split())
    assert not any(" ".join(words[i:i + 2]) in message for i in range(len(words) - 1))  # one word may be common
    with pytest.raises(ShareInvalid, match="line 4 of shares.txt is not a valid share"):
        Vault.open(settings, shares=[made.shares[0], "not a share at all"], labels=["line 1", "line 4 of shares.txt"])


def test_dropping_the_passphrase_leaves_only_the_shares(settings, vault):
    made = vault.split_keys(2, 2, keep_passphrase=False, actor="tester")
    vault.close()
    with pytest.raises(SealMissing, match="no longer opens with a passphrase"):
        Vault.open(settings, PASSPHRASE)
    with Vault.open(settings, shares=made.shares) as opened:
        assert opened.key_status().seal.passphrase is None
        opened.change_passphrase(NEW_PASSPHRASE, actor="tester")  # a passphrase may be set again
    with Vault.open(settings, NEW_PASSPHRASE):
        pass


def test_a_split_out_of_bounds_is_refused_before_anything_changes(vault):
    before = _rows(vault, "root_seal")
    for shares, threshold in ((3, 1), (3, 4), (1, 1), (17, 2)):
        with pytest.raises(Exception, match="threshold|shares") as caught:
            vault.split_keys(shares, threshold, actor="tester")
        assert type(caught.value).__name__ == "InvalidInput"
    assert _rows(vault, "root_seal") == before


def _make_release_1(vault: Vault, passphrase: str) -> None:
    """Rewrite the vault as release 1 stored it and `casevault upgrade`'s migrations leave it: each
    master key version sealed by the passphrase itself, the root_seal table empty."""
    master = vault._keys._master
    with vault.db.write() as session:
        for version in master.versions:
            row = session.get(MasterKeyVersion, version)
            row.sealed = seal_master_key(master.key(version), passphrase).to_json()
        session.execute(sa.delete(RootSealRow))


def test_a_release_1_vault_opens_and_is_converted_to_the_root_key_form(settings, vault, case):
    ingest_bytes(vault, case, CALL)
    before = {table: _rows(vault, table) for table in KEY_TABLES if table != "master_key"}
    _make_release_1(vault, PASSPHRASE)
    assert "kdf" in json.loads(_rows(vault, "master_key")[0][1])
    vault.close()

    with pytest.raises(WrongPassphrase):  # a wrong passphrase converts nothing
        Vault.open(settings, NEW_PASSPHRASE)
    engine = sa.create_engine(settings.resolved_database_url.replace("postgresql:", "postgresql+psycopg:"))
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.text("select count(*) from root_seal")).scalar() == 0
    finally:
        engine.dispose()

    with Vault.open(settings, PASSPHRASE) as opened:
        assert "Quillon" in opened.content(opened.documents()[0].id, actor="tester").text
        assert {table: _rows(opened, table) for table in before} == before
        record = json.loads(_rows(opened, "master_key")[0][1])
        assert record["form"] == "root" and "kdf" not in record
        assert [r[0] for r in _rows(opened, "root_seal")] == ["passphrase"]
    with Vault.open(settings, PASSPHRASE) as opened:  # and again, now in the root-key form
        opened.change_passphrase(NEW_PASSPHRASE, actor="tester")
    with Vault.open(settings, NEW_PASSPHRASE):
        pass


def test_the_master_key_is_never_stored_in_clear(vault):
    material = vault._keys._master.primary.material
    root = vault._keys.root.material
    for table in ("master_key", "root_seal"):
        dump = repr(_rows(vault, table))
        for secret in (material, root):
            assert secret.hex() not in dump and base64.b64encode(secret).decode() not in dump


def test_two_processes_converting_a_release_1_vault_at_once_agree_on_one_root_key(settings, vault, case):
    from concurrent.futures import ThreadPoolExecutor

    _make_release_1(vault, PASSPHRASE)
    vault.close()

    def open_and_read(_: int) -> bytes:
        with Vault.open(settings, PASSPHRASE) as opened:
            assert opened.case(case.name).id == case.id
            return opened._keys.root.material

    with ThreadPoolExecutor(max_workers=3) as pool:
        roots = set(pool.map(open_and_read, range(3)))
    assert len(roots) == 1  # the losers opened what the winner wrote
    with Vault.open(settings, PASSPHRASE) as opened:
        assert [r[0] for r in _rows(opened, "root_seal")] == ["passphrase"]
        assert opened._keys.root.material in roots
