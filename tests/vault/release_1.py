"""The vault that release 1 made (tests/vault/fixtures/release_1), copied for one test onto
SQLite or PostgreSQL, and a test-only format step that the upgrade tests register.

On PostgreSQL the same rows are loaded, table by table through SQLAlchemy Core, into a fresh
schema made by revision 0001 (then left without ``alembic_version``, as release 1 left its
databases): both backends upgrade the same old vault.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from vault import Settings
from vault import _schema as schema
from vault._db import Database
from vault._formats import FormatStep

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "release_1"
EXPECTED = json.loads((FIXTURE / "expected.json").read_text())
PASSPHRASE = EXPECTED["passphrase"]
BEHIND = "this vault was made by an earlier release; run `casevault upgrade`"


def release_1_vault(tmp_path: Path, database_url: str | None) -> Settings:
    data = tmp_path / "data"
    shutil.copytree(FIXTURE, data, ignore=shutil.ignore_patterns("*.json", "*.md"))
    if database_url is None:
        return Settings(data_dir=data)
    _load_into_postgres(data / "casevault.db", database_url)
    (data / "casevault.db").unlink()
    return Settings(data_dir=data, database_url=database_url)


def _load_into_postgres(sqlite_file: Path, url: str) -> None:
    source = sa.create_engine(f"sqlite:///{sqlite_file}")
    target = Database(url)
    try:
        with target.migrating() as connection:
            schema.upgrade(connection, schema.RELEASE_1)
            connection.execute(sa.text("drop table alembic_version"))
        tables, old = sa.MetaData(), sa.MetaData()
        tables.reflect(target.engine)
        old.reflect(source)  # its types parse what SQLite keeps as text and integers
        with source.connect() as reading, target.write_connection() as writing:
            for table in tables.sorted_tables:
                rows = [{k: _utc(v) for k, v in row._mapping.items()}
                        for row in reading.execute(old.tables[table.name].select())]
                if rows:
                    writing.execute(table.insert(), rows)
            writing.execute(sa.text(
                "select setval(pg_get_serial_sequence('index_outbox', 'id'), "
                "coalesce((select max(id) from index_outbox), 0) + 1, false)"))
    finally:
        source.dispose()
        target.dispose()


def _utc(value: object) -> object:
    """SQLite keeps UTC timestamps without their zone (``UTCDateTime`` converts before storing)."""
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value


# -- a format step that exists only for tests ---------------------------------------------------

PROBE_TABLE = "upgrade_probe"


def make_probe_rows(settings: Settings, count: int) -> None:
    """Rows for the probe step to convert: each has ``done`` false and ``runs`` 0."""
    db = Database(settings.resolved_database_url)
    try:
        with db.write_connection() as connection:
            connection.execute(sa.text(f"create table {PROBE_TABLE} (id integer primary key, "
                                       "done boolean not null, runs integer not null)"))
            connection.execute(sa.text(f"insert into {PROBE_TABLE} (id, done, runs) values (:id, false, 0)"),
                               [{"id": i} for i in range(count)])
    finally:
        db.dispose()


def probe_step(*, batch: int = 10, pause: float = 0.0, name: str = "test-probe") -> FormatStep:
    """A format step the way a real one is written: it converts what is left, a committed batch
    at a time, and counts in ``runs`` how often each row was converted (never more than once)."""

    def remaining(store) -> int:  # type: ignore[no-untyped-def]
        with store.db.engine.connect() as connection:
            return connection.execute(sa.text(f"select count(*) from {PROBE_TABLE} where not done")).scalar_one()

    def run(store, advance: Callable[[int], None]) -> None:  # type: ignore[no-untyped-def]
        while True:
            with store.db.write_connection() as connection:
                ids = connection.execute(sa.text(f"select id from {PROBE_TABLE} where not done order by id "
                                                 "limit :n"), {"n": batch}).scalars().all()
                if not ids:
                    return
                connection.execute(sa.text(f"update {PROBE_TABLE} set done = true, runs = runs + 1 "
                                           "where id = :id"), [{"id": i} for i in ids])
            advance(len(ids))
            time.sleep(pause)

    return FormatStep(name, run, remaining)


def probe_runs(settings: Settings) -> list[int]:
    db = Database(settings.resolved_database_url)
    try:
        with db.engine.connect() as connection:
            return list(connection.execute(sa.text(f"select runs from {PROBE_TABLE} order by id")).scalars())
    finally:
        db.dispose()


def fingerprint(settings: Settings) -> str:
    """Every table's name, columns and rows, and every blob file's name and size: what "nothing
    changed" compares."""
    digest = hashlib.sha256()
    db = Database(settings.resolved_database_url)
    try:
        inspector = sa.inspect(db.engine)
        with db.engine.connect() as connection:
            for table in sorted(inspector.get_table_names()):
                digest.update(repr((table, [c["name"] for c in inspector.get_columns(table)])).encode())
                for row in connection.execute(sa.text(f'select * from "{table}" order by 1')):
                    digest.update(repr(tuple(row)).encode())
    finally:
        db.dispose()
    for path in sorted(settings.blob_dir.rglob("*")):
        digest.update(repr((str(path.relative_to(settings.blob_dir)), path.is_file() and path.stat().st_size)).encode())
    return digest.hexdigest()
