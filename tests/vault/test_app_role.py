"""The application's PostgreSQL role (SECURITY-TESTS 53): the vault works as that role, and that
role cannot UPDATE, DELETE or TRUNCATE the audit log. SQLite has no roles: the command says so
(the audit chain verifier is the control there)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from search import Search
from tests.conftest import PASSPHRASE, ingest_bytes
from tests.vault.conftest import CALL, release_all
from vault import Settings, Vault, grant_app_role
from vault.errors import InvalidInput

REASON = "Caller 1 appears in the 2023 extortion file; we must check his company links."


@pytest.fixture
def app_role(postgres_engine: sa.Engine, postgres_url: str) -> Iterator[str]:
    """A role name of its own, dropped (with its privileges) afterwards."""
    role = f"cv_app_{secrets.token_hex(5)}"
    yield role
    with postgres_engine.connect() as connection:
        if connection.scalar(sa.text("select 1 from pg_roles where rolname = :r"), {"r": role}):
            connection.execute(sa.text(f'drop owned by "{role}"'))
            connection.execute(sa.text(f'drop role "{role}"'))


def _as(url: str, role: str) -> str:
    user, rest = url.split("://", 1)[1].split("@", 1)
    return url.replace(f"://{user}@", f"://{role}@", 1)


def test_the_vault_runs_as_the_app_role_which_may_only_append_to_the_audit_log(tmp_path, postgres_url, app_role):
    owner = Settings(data_dir=tmp_path / "data", database_url=postgres_url)
    Vault.initialize(owner, PASSPHRASE).close()
    tables = grant_app_role(owner, app_role)
    assert "audit_log" in tables and "user_account" in tables
    assert grant_app_role(owner, app_role) == tables  # again: idempotent
    as_app = Settings(data_dir=tmp_path / "data", database_url=_as(postgres_url, app_role))

    with Vault.open(as_app, PASSPHRASE) as vault:  # ingest, review, release, search, unmask: all work
        case = vault.create_case("Affaire H", actor="tester")
        people = {name: vault.add_user(name, role, cases=(case.id,), actor="tester")[0]
                  for name, role in (("ivy", "investigator"), ("rex", "reviewer"), ("rita", "reviewer"))}
        vault.add_identity(case, name="Quentin Malaure", aliases=["Malaure", "QM"], label="Caller 1", actor="tester")
        document = ingest_bytes(vault, case, CALL, "call.txt")
        release_all(vault, people, document.id)
        with Search.open(vault, tmp_path / "index") as search:
            assert search.search(people["ivy"], "maison", actor="ivy").total == 1
        request = vault.request_unmask(people["ivy"], case, "Caller 1", REASON, actor="tester")
        vault.decide_unmask(request.id, people["rex"], approve=True, actor="tester")
        assert vault.view(document.id, people["ivy"], actor="tester").units[0].speaker == "Quentin Malaure"
        assert vault.verify_audit().intact

    engine = sa.create_engine(_as(postgres_url, app_role))
    try:
        for statement in ("update audit_log set actor = 'nobody'", "delete from audit_log",
                          "truncate audit_log", "update audit_log set details_ct = null where seq = 1",
                          "alter table audit_log drop column details_ct", "update alembic_version set version_num = 'x'",
                          "create table mine (x int)"):
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied|must be owner"), engine.begin() as c:
                c.execute(sa.text(statement))
        with engine.connect() as connection:
            assert connection.scalar(sa.text("select count(*) from audit_log")) > 5
    finally:
        engine.dispose()


def test_the_owner_is_not_the_app_role(tmp_path, postgres_url):
    owner = Settings(data_dir=tmp_path / "data", database_url=postgres_url)
    Vault.initialize(owner, PASSPHRASE).close()
    with pytest.raises(InvalidInput, match="owner"):
        grant_app_role(owner, "postgres")
    with pytest.raises(InvalidInput, match="role name"):
        grant_app_role(owner, 'x"; drop table audit_log; --')


def test_sqlite_has_no_roles_and_says_what_the_control_is(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    Vault.initialize(settings, PASSPHRASE).close()
    with pytest.raises(InvalidInput, match="audit verify"):
        grant_app_role(settings, "casevault_app")
