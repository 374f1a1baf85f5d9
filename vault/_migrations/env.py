"""Alembic's environment. ``vault._schema`` hands in the connection (already in a transaction,
which it commits) through ``config.attributes["connection"]``; nothing here reads a file or the
environment. SQLite alters tables in batch mode (copy and rename), as it cannot alter columns."""

from alembic import context

from vault._models import Base

connection = context.config.attributes["connection"]
on_version_apply = context.config.attributes.get("on_version_apply")
context.configure(
    connection=connection,
    on_version_apply=on_version_apply or (),
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
