"""The PostgreSQL role the application runs as: everything it needs, and on the audit log only
reading and appending (SECURITY-TESTS 53).

The database owner runs ``grant_app_role`` (``casevault db grant-app-role ROLE``) and the app then
connects as that role. It may read and write the vault's tables, but it may not UPDATE, DELETE or
TRUNCATE ``audit_log``, nor change the schema: whoever steals the app's database password can
neither rewrite the history nor erase it (the hash chain would tell, and now PostgreSQL refuses).
Access state it could still write by raw SQL is refused on read (``vault._integrity``). SQLite has
no roles; there, the audit chain verifier (``casevault audit verify``) is the control.
"""

from __future__ import annotations

import re

from sqlalchemy import text

from vault._db import Database
from vault._models import AuditEntryRow, Base
from vault._settings import Settings
from vault.errors import InvalidInput

_ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")
TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"  # never TRUNCATE, REFERENCES or TRIGGER
AUDIT_PRIVILEGES = "SELECT, INSERT"
_REVISION = "alembic_version"


def grant_app_role(settings: Settings, role: str, *, password: str | None = None) -> list[str]:
    """Create (or bring up to date) ``role`` with the application's privileges on every table of
    the vault's schema (the database of ``settings``, reached as its owner); returns the tables
    granted. Run again after every upgrade (it is idempotent). ``password``: set as the role's
    login password, if given."""
    db = Database(settings.resolved_database_url)
    try:
        db.check_reachable()
        return _grant(db, role, password)
    finally:
        db.dispose()


def _grant(db: Database, role: str, password: str | None) -> list[str]:
    if db.backend != "postgresql":
        raise InvalidInput("SQLite has no database roles; there the audit chain verifier "
                           "(`casevault audit verify`) is what shows an edited audit log")
    if not _ROLE.fullmatch(role):
        raise InvalidInput("a role name is 1-63 lower-case letters, digits or underscores, not starting with a digit")
    audit = AuditEntryRow.__tablename__
    with db.engine.begin() as connection:
        schema = connection.scalar(text("select current_schema()"))
        owner = connection.scalar(text("select current_user"))
        if role == owner:
            raise InvalidInput("the application's role must not be the database owner, who may do anything; "
                               "choose another name")
        tables = sorted(t for t in Base.metadata.tables
                        if connection.scalar(text("select to_regclass(:t)"), {"t": f'"{schema}"."{t}"'}) is not None)
        exists = connection.scalar(text("select 1 from pg_roles where rolname = :r"), {"r": role})
        if not exists:
            connection.execute(text(f'create role "{role}" login'))
        if password is not None:
            connection.execute(text(f"alter role \"{role}\" password {_literal(connection, password)}"))
        connection.execute(text(f'grant usage on schema "{schema}" to "{role}"'))
        connection.execute(text(f'revoke create on schema "{schema}" from "{role}"'))
        for table in tables:
            connection.execute(text(f'revoke all on "{schema}"."{table}" from "{role}"'))
            privileges = AUDIT_PRIVILEGES if table == audit else TABLE_PRIVILEGES
            connection.execute(text(f'grant {privileges} on "{schema}"."{table}" to "{role}"'))
        if connection.scalar(text("select to_regclass(:t)"), {"t": f'"{schema}".{_REVISION}'}) is not None:
            # the schema's revision: read at every open, written only by `casevault upgrade` (the owner)
            connection.execute(text(f'revoke all on "{schema}".{_REVISION} from "{role}"'))
            connection.execute(text(f'grant select on "{schema}".{_REVISION} to "{role}"'))
        connection.execute(text(f'grant usage, select on all sequences in schema "{schema}" to "{role}"'))
    return tables


def _literal(connection, value: str) -> str:  # type: ignore[no-untyped-def]
    """A string literal PostgreSQL's own quoting made (ALTER ROLE takes no bound parameter)."""
    return str(connection.scalar(text("select quote_literal(:v)"), {"v": value}))
