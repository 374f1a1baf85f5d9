"""Initialising and unsealing a vault; what a wrong passphrase does (nothing)."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from keys import WeakPassphrase, WrongPassphrase
from tests.conftest import PASSPHRASE
from vault import Settings, Vault
from vault.errors import AlreadyInitialized, NotInitialized


def _fingerprint(vault_settings: Settings) -> str:
    engine = sa.create_engine(vault_settings.resolved_database_url.replace("postgresql:", "postgresql+psycopg:", 1))
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for table in ("master_key", "system_key", "case", "case_key", "document", "blob", "audit_log", "audit_head"):
            for row in connection.execute(sa.text(f'select * from "{table}" order by 1')):
                digest.update(repr(tuple(row)).encode())
    engine.dispose()
    return digest.hexdigest()


def test_open_with_the_right_passphrase(settings):
    with Vault.initialize(settings, PASSPHRASE) as vault:
        vault.create_case("Affaire H", actor="tester")
    with Vault.open(settings, PASSPHRASE) as vault:
        assert [c.name for c in vault.cases()] == ["Affaire H"]


def test_wrong_passphrase_is_refused_and_changes_nothing(settings):
    Vault.initialize(settings, PASSPHRASE).close()
    before = _fingerprint(settings)
    with pytest.raises(WrongPassphrase):
        Vault.open(settings, PASSPHRASE + "!")
    assert _fingerprint(settings) == before


def test_second_init_is_refused(settings):
    Vault.initialize(settings, PASSPHRASE).close()
    with pytest.raises(AlreadyInitialized):
        Vault.initialize(settings, "another passphrase entirely")


def test_open_before_init_says_what_to_do(settings):
    with pytest.raises(NotInitialized, match="casevault init"):
        Vault.open(settings, PASSPHRASE)


def test_weak_passphrase_refused_at_init(settings):
    with pytest.raises(WeakPassphrase):
        Vault.initialize(settings, "changeme")


def test_key_status_reports_versions_without_material(vault, case):
    status = vault.key_status()
    shown = repr(status)
    for key in [*vault._keys.system.values(), vault._keys.case_keyring(None, case.id).primary]:  # type: ignore[arg-type]
        assert key.material.hex() not in shown and repr(key.material) not in shown
    assert [m.version for m in status.master_versions] == [1]
    assert status.seal.passphrase.memory_kib >= 64 * 1024 and status.seal.threshold is None
    assert set(status.system_keys) == {"case-name", "content-digest", "audit-chain", "audit-details", "credentials",
                                       "audit-signing", "state"}
    assert status.case_key_versions == {1: 1}
