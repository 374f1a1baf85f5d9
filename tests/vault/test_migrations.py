"""The migrations against the models, and the revision check of ``Vault.open``.

The first test is what keeps every revision honest: migrating an empty database from nothing to
head must make exactly what ``create_all`` makes for new vaults (tables, columns, types,
nullability, keys, unique constraints, indexes), on both backends.
"""

from __future__ import annotations

import ast

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.conftest import PASSPHRASE
from tests.vault.release_1 import fingerprint
from vault import Settings, Vault
from vault import _schema as schema
from vault._db import Database
from vault._models import Base
from vault.errors import SchemaAhead, SchemaBehind


def _database(settings: Settings) -> Database:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Database(settings.resolved_database_url)


def _differences(db: Database) -> list[object]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_migrations_from_nothing_make_what_the_models_make(settings):
    db = _database(settings)
    try:
        with db.write_connection() as connection:
            schema.upgrade(connection)
        assert _differences(db) == []
        with db.engine.connect() as connection:
            assert schema.current(connection) == schema.heads()
    finally:
        db.dispose()


def test_the_comparison_sees_a_missing_column(settings):
    """The test above can fail: a schema one column short of the models is a difference."""
    db = _database(settings)
    try:
        with db.write_connection() as connection:
            schema.upgrade(connection)
            connection.execute(sa.text("alter table document drop column mask_epoch"))
        assert any("mask_epoch" in repr(d) for d in _differences(db))
    finally:
        db.dispose()


def test_a_new_vault_is_stamped_at_head(settings):
    Vault.initialize(settings, PASSPHRASE).close()
    db = _database(settings)
    try:
        with db.engine.connect() as connection:
            assert schema.current(connection) == schema.heads()
    finally:
        db.dispose()


def _make_release_1(settings: Settings) -> Database:
    """A vault as release 1 left it: the same tables, and no ``alembic_version``."""
    with Vault.initialize(settings, PASSPHRASE) as vault:
        vault.create_case("Affaire H", actor="tester")
    db = _database(settings)
    with db.write_connection() as connection:
        connection.execute(sa.text("drop table alembic_version"))
    return db


def test_a_release_1_vault_is_refused_and_left_alone(settings):
    db = _make_release_1(settings)
    try:
        before = fingerprint(settings)
        with pytest.raises(SchemaBehind, match=r"^this vault was made by an earlier release; run `casevault upgrade`$"):
            Vault.open(settings, PASSPHRASE)
        assert fingerprint(settings) == before
    finally:
        db.dispose()


def test_a_vault_of_a_newer_release_is_refused_and_left_alone(settings):
    Vault.initialize(settings, PASSPHRASE).close()
    db = _database(settings)
    try:
        with db.write_connection() as connection:
            connection.execute(sa.text("update alembic_version set version_num = '9999_from_the_future'"))
        before = fingerprint(settings)
        with pytest.raises(SchemaAhead, match="newer release"):
            Vault.open(settings, PASSPHRASE)
        assert fingerprint(settings) == before
    finally:
        db.dispose()


def test_the_baseline_does_not_read_the_models():
    """0001 is written out: a later change of a model must not change what it makes."""
    tree = ast.parse((schema.MIGRATIONS / "versions" / "0001_release_1.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
                for alias in node.names} | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__", "annotations", "sqlalchemy", "alembic", "op"}
    called = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    assert not called & {"create_all", "metadata", "__table__"}
