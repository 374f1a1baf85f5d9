"""The database: one engine per vault, SQLite by default, PostgreSQL for scale-out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from vault.errors import StorageFailed

_WRITE = "casevault_write"


def make_engine(url: str) -> Engine:
    """An engine for a sqlite:/// or postgresql:// URL.

    SQLite runs in WAL mode with synchronous=FULL (a committed row survives power loss) and
    foreign keys on. Its write transactions start with BEGIN IMMEDIATE, so two writers queue on
    the lock instead of one failing when it upgrades a read snapshot.
    """
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        write = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class WriteSession(Session):
    """The session of a write transaction (``Database.write``). Its own class so that listeners
    (the policy epoch, ``vault._policy``) watch writes and never reads."""


class Database:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)

    def check_reachable(self) -> None:
        """StorageFailed, saying where, if the database cannot be reached."""
        try:
            with self.engine.connect():
                pass
        except OperationalError:
            url = self.engine.url
            where = f"{url.host or 'localhost'}:{url.port or 5432}" if url.host or url.drivername.startswith("postgresql") \
                else str(url.database)
            raise StorageFailed(f"cannot reach the database at {where}; check that it runs and that "
                                "CASEVAULT_DATABASE_URL is right") from None

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits when the block ends and rolls back on any error."""
        with self.engine.connect() as connection:
            connection.execution_options(**{_WRITE: True})
            with WriteSession(bind=connection, expire_on_commit=False) as session, session.begin():
                yield session

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """Like ``write``, without an ORM session: for a few prepared Core statements."""
        with self.engine.connect() as connection:
            connection.execution_options(**{_WRITE: True})
            with connection.begin():
                yield connection

    @contextmanager
    def migrating(self) -> Iterator[Connection]:
        """One transaction for schema changes, committed when the block ends. Both backends roll
        DDL back, so a process killed inside leaves the schema as it was. On SQLite, foreign keys
        are off inside (batch mode copies and renames tables, which they would refuse; the pragma
        cannot change within a transaction) and checked before the commit."""
        sqlite = self.backend == "sqlite"
        with self.engine.connect() as connection:
            raw = connection.connection.dbapi_connection  # outside SQLAlchemy's transaction, on purpose
            if sqlite:
                raw.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
            try:
                connection.execution_options(**{_WRITE: True})
                with connection.begin():
                    yield connection
                    if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                        raise StorageFailed("a migration left rows whose foreign keys point nowhere; "
                                            "nothing was changed")
            finally:
                if sqlite:
                    raw.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]

    def dispose(self) -> None:
        self.engine.dispose()
