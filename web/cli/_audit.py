"""`casevault audit`: the audit log's hash chain, checked."""

from __future__ import annotations

import click

from web.cli._exit import fail, guard
from web.cli._operator import open_vault


@click.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
@guard
def audit_verify() -> None:
    """Check the audit log's hash chain; report the first broken position."""
    with open_vault() as vault:
        report = vault.verify_audit()
    if report.intact:
        click.echo(f"audit log intact: {report.entries} entries, head {report.head.hex()[:16]}")
        return
    fail(f"audit log broken at position {report.first_broken}: {report.reason}")
