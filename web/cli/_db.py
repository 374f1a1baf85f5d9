"""`casevault db`: what the database owner does for the vault (no passphrase needed)."""

from __future__ import annotations

import os

import click

from web.cli._exit import guard
from web.cli._operator import settings


@click.group()
def db() -> None:
    """The database the vault lives in (run as its owner)."""


@db.command("grant-app-role")
@click.argument("role")
@guard
def grant_app_role(role: str) -> None:
    """Create or update PostgreSQL role ROLE for the app: read and write every table, but only
    read and append to the audit log. Run with the owner's CASEVAULT_DATABASE_URL, again after
    each upgrade; then run the app with ROLE's URL. CASEVAULT_APP_ROLE_PASSWORD, if set, becomes
    ROLE's login password (never on the command line, where `ps` would show it)."""
    from vault import grant_app_role as grant

    tables = grant(settings(), role, password=os.environ.get("CASEVAULT_APP_ROLE_PASSWORD") or None)
    click.echo(f"role {role}: may read and write {len(tables) - 1} tables, and only read and append to audit_log; "
               f"run the app with a CASEVAULT_DATABASE_URL that signs in as {role}")
