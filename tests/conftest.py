"""Fixtures: a fresh vault in tmp_path, on SQLite and on PostgreSQL, and one-line factories.

The PostgreSQL tests never skip: if the server is not reachable they fail and say how to start
it. Each test gets its own schema, dropped afterwards.
"""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from vault import CaseInfo, DocumentInfo, Settings, Vault
from vault._models import DocumentRow

PASSPHRASE = "test passphrase for casevault"
POSTGRES_URL = os.environ.get("CASEVAULT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[sa.Engine]:
    engine = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
    except sa.exc.OperationalError:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_URL}; start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` "
            "or set CASEVAULT_TEST_POSTGRES_URL (the storage tests never skip)"
        )
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url(postgres_engine: sa.Engine) -> Iterator[str]:
    """A PostgreSQL URL whose search path is a fresh schema, dropped afterwards."""
    schema = f"cv_{secrets.token_hex(6)}"
    with postgres_engine.connect() as connection:
        connection.execute(sa.text(f"create schema {schema}"))
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with postgres_engine.connect() as connection:
        connection.execute(sa.text(f"drop schema {schema} cascade"))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None for the embedded default (SQLite in the data directory), else a PostgreSQL URL."""
    return None if request.param == "sqlite" else request.getfixturevalue("postgres_url")


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url)


@pytest.fixture
def vault(settings: Settings) -> Iterator[Vault]:
    with Vault.initialize(settings, PASSPHRASE) as opened:
        yield opened


@pytest.fixture
def case(vault: Vault) -> CaseInfo:
    return vault.create_case("Affaire H", actor="tester")


def ingest_bytes(vault: Vault, case: CaseInfo, data: bytes, filename: str | None = "doc.txt",
                 **kwargs: object) -> DocumentInfo:
    return vault.ingest(io.BytesIO(data), case=case, filename=filename, actor="tester", **kwargs)  # type: ignore[arg-type]


def set_days(engine: sa.Engine, days: dict[str, date]) -> None:
    """Move documents (by id) to the day they came in, at noon UTC. The search indexes read the
    day when they are rebuilt (``Search.reindex``, ``casevault reindex``), not before."""
    with engine.begin() as connection:
        for document_id, day in days.items():
            moment = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
            connection.execute(sa.update(DocumentRow).where(DocumentRow.id == document_id).values(created_at=moment))


def set_document_dates(engine: sa.Engine, days: dict[str, date | None]) -> None:
    """Give documents (by id) their own date, as a reviewer would. The search indexes read it
    when they are rebuilt (``Search.reindex``), not before; a reviewer's change goes through
    the outbox instead."""
    with engine.begin() as connection:
        for document_id, day in days.items():
            connection.execute(sa.update(DocumentRow).where(DocumentRow.id == document_id).values(document_date=day))


DEMO_DIR = Path(__file__).resolve().parents[1] / "vault" / "demo"
DEMO_CORPUS = DEMO_DIR / "corpus"
