"""The revision of a vault's schema: stamping a new vault, refusing one that is behind or ahead
of this release, and running the migrations (``vault/_migrations``) that bring it to head.

Alembic is driven from code: the script location is this package's ``_migrations`` directory and
the connection is handed to its ``env.py`` in ``config.attributes``, so no alembic.ini is read.
``_migrations`` is a directory of package data, not a package: importing its ``env.py`` outside
Alembic would fail, so nothing that walks the packages may find it. ``0001_release_1`` is the
schema of release 0.1.0, written out so that later model changes never change what it makes.
A new vault gets its tables from the models (``create_all``) and is stamped at head; a test
keeps the migrations making the same schema as the models.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from vault import _formats as formats
from vault.errors import SchemaAhead, SchemaBehind

MIGRATIONS = Path(__file__).with_name("_migrations")
RELEASE_1 = "0001_release_1"  # the schema of vaults made before migrations existed
BEHIND = "this vault was made by an earlier release; run `casevault upgrade`"
AHEAD = "this vault was made by a newer release of casevault; use that release"


def config(connection: Connection) -> Config:
    """An Alembic configuration for this connection, without any file."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def scripts() -> ScriptDirectory:
    """The revisions this release knows (read once per process)."""
    return ScriptDirectory(str(MIGRATIONS))


def heads() -> frozenset[str]:
    return frozenset(scripts().get_heads())


def current(connection: Connection) -> frozenset[str]:
    """The revisions the database is stamped at; empty for a vault of release 1, which has no
    ``alembic_version`` table."""
    return frozenset(MigrationContext.configure(connection).get_current_heads())


def stamp_head(connection: Connection) -> None:
    """Record that the schema is the current one (a new vault, made from the models)."""
    stamp(connection, "heads")  # "heads": a branch not yet chained after the others still works


def stamp(connection: Connection, revision: str) -> None:
    """Record that the schema is the one ``revision`` makes, changing nothing else."""
    MigrationContext.configure(connection).stamp(scripts(), revision)


def check(connection: Connection) -> None:
    """SchemaBehind unless the database is at this release's head and every format step of this
    release has finished on it; SchemaAhead if a newer release migrated it. Reads only."""
    at = current(connection)
    if at != heads() and ahead(at):
        raise SchemaAhead(AHEAD)
    if at != heads() or formats.pending(connection):
        raise SchemaBehind(BEHIND)


def ahead(revisions: frozenset[str]) -> bool:
    """Whether any of these revisions is unknown to this release (a newer one made it)."""
    return bool(revisions - {script.revision for script in scripts().walk_revisions()})


def upgrade(connection: Connection, target: str = "heads", *,
            on_version_apply: Callable[..., None] | None = None) -> None:
    """Run the migrations from the database's revision to ``target``, on a connection the caller
    holds in a transaction (``Database.migrating``: both backends roll DDL back, so a killed
    upgrade changed nothing). ``on_version_apply`` is Alembic's hook, called after each one."""
    cfg = config(connection)
    cfg.attributes["on_version_apply"] = on_version_apply
    command.upgrade(cfg, target)
