"""The database as portable rows: one JSON-lines file per table, the same on SQLite and PostgreSQL.

One logical format for both backends, rather than SQLite's page image beside a PostgreSQL dump:
one restore path (tested once, on both), a backup of either backend restores into either, the
restored schema is made by the vault's own ``create_all`` (the models are the truth), and no
engine's free pages travel (an image carries deleted rows' old bytes). What it costs is reading
rows through SQLAlchemy instead of copying pages, small next to the blobs.

The snapshot is consistent on both: on SQLite the online backup API copies the live database into
a private file (page-consistent while the server writes) and the rows are read from that copy; on
PostgreSQL one ``SERIALIZABLE READ ONLY DEFERRABLE`` transaction reads every table, streamed in
batches. Each file starts with a line naming the table and its columns; each row is a JSON array,
bytes as base64, timestamps as ISO 8601.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Connection, DateTime, Engine, LargeBinary, Table, create_engine, func, select, text
from sqlalchemy.types import TypeDecorator

from vault._models import Base, BlobRow
from vault.errors import BackupTooNew, BackupUnreadable

BATCH = 1000


def tables() -> list[Table]:
    """Every table, parents before children (the order rows are restored in)."""
    return list(Base.metadata.sorted_tables)


@contextmanager
def snapshot(engine: Engine, private: Path) -> Iterator[Connection]:
    """A connection reading one consistent snapshot of the whole database."""
    if engine.dialect.name == "sqlite":
        copy = private / "snapshot.db"
        raw = engine.raw_connection()
        try:
            target = sqlite3.connect(copy)
            try:
                raw.driver_connection.backup(target)  # type: ignore[union-attr]
            finally:
                target.close()
        finally:
            raw.close()
        reader = create_engine(f"sqlite:///{copy}")
        try:
            with reader.connect() as connection:
                yield connection
        finally:
            reader.dispose()
            copy.unlink(missing_ok=True)
        return
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="SERIALIZABLE", postgresql_readonly=True,
                                                  postgresql_deferrable=True)
        with connection.begin():
            yield connection


def _encode(value: object) -> object:
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _is_binary(column_type: object) -> bool:
    return isinstance(column_type, LargeBinary)


def _is_time(column_type: object) -> bool:
    return isinstance(column_type, DateTime) or (isinstance(column_type, TypeDecorator)
                                                 and isinstance(column_type.impl, DateTime))


def dump(connection: Connection, directory: Path) -> tuple[list[tuple[str, Path]], dict[str, int], list[str]]:
    """Write every table's rows under ``directory``; the files (table, path), the row count of
    each table and every blob's storage name."""
    files, counts, blob_names = [], {}, []
    for table in tables():
        path = directory / f"{table.name}.jsonl"
        columns = [c.name for c in table.columns]
        count = 0
        with path.open("x", encoding="utf-8") as out:
            out.write(json.dumps({"table": table.name, "columns": columns}) + "\n")
            result = connection.execution_options(yield_per=BATCH).execute(select(table).order_by(*table.primary_key))
            for row in result:
                out.write(json.dumps([_encode(v) for v in row]) + "\n")
                count += 1
                if table.name == BlobRow.__tablename__:
                    blob_names.append(row.storage_name)
        files.append((table.name, path))
        counts[table.name] = count
    return files, counts, blob_names


class _Decoder:
    """Turns one table's JSON lines back into values for an insert."""

    def __init__(self, header: dict[str, object]) -> None:
        self.table = next((t for t in tables() if t.name == header.get("table")), None)
        if self.table is None:
            raise BackupTooNew(f"this backup holds a table this release does not know ({header.get('table')}); "
                               "restore it with the release that wrote it")
        self.columns = [str(c) for c in header["columns"]]  # type: ignore[union-attr]
        unknown = [c for c in self.columns if c not in self.table.columns]
        if unknown:
            raise BackupTooNew(f"this backup holds columns this release does not know ({', '.join(unknown)}); "
                               "restore it with the release that wrote it")
        types = [self.table.columns[c].type for c in self.columns]
        self._parse: list[Callable[[object], object]] = [
            (lambda v: None if v is None else base64.b64decode(v, validate=True)) if _is_binary(t) else
            (lambda v: None if v is None else datetime.fromisoformat(v)) if _is_time(t) else  # type: ignore[arg-type]
            (lambda v: v) for t in types]

    def row(self, line: bytes) -> dict[str, object]:
        values = json.loads(line)
        if not isinstance(values, list) or len(values) != len(self.columns):
            raise ValueError("row shape")
        return {c: parse(v) for c, parse, v in zip(self.columns, self._parse, values, strict=True)}


def load(connection: Connection, stream: BinaryIO) -> int:
    """Insert one table's rows from its JSON lines, in batches; returns the number of rows."""
    try:
        decoder = _Decoder(json.loads(stream.readline()))
        batch: list[dict[str, object]] = []
        count = 0
        for line in stream:
            batch.append(decoder.row(line))
            if len(batch) >= BATCH:
                connection.execute(decoder.table.insert(), batch)  # type: ignore[union-attr]
                count, batch = count + len(batch), []
        if batch:
            connection.execute(decoder.table.insert(), batch)  # type: ignore[union-attr]
            count += len(batch)
    except (ValueError, TypeError, KeyError, AttributeError):
        raise BackupUnreadable("the backup's database rows cannot be read; nothing was restored") from None
    return count


def fix_sequences(connection: Connection) -> None:
    """PostgreSQL: move each serial column's sequence past the ids restored into it."""
    if connection.dialect.name != "postgresql":
        return  # SQLite hands out the next rowid after the largest one
    for table in tables():
        for column in table.primary_key.columns:
            if column.autoincrement is True:
                sequence = connection.scalar(text("select pg_get_serial_sequence(:t, :c)"),
                                             {"t": table.name, "c": column.name})
                if sequence:
                    top = connection.scalar(select(func.max(column)))
                    connection.execute(text("select setval(:s, :v, :called)"),
                                       {"s": sequence, "v": top or 1, "called": top is not None})
