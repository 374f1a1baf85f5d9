"""`casevault case`: create and list cases."""

from __future__ import annotations

import click

from web.cli._exit import guard
from web.cli._operator import actor, open_vault
from web.cli._output import print_json


@click.group()
def case() -> None:
    """Create and list cases."""


@case.command("create")
@click.argument("name")
@click.option("--archive-scope", is_flag=True,
              help="Share pseudonyms with the other archive-scope cases (the same person is the same "
                   "pseudonym in all of them). By default a case's pseudonyms are its own.")
@guard
def case_create(name: str, archive_scope: bool) -> None:
    """Create a case called NAME."""
    with open_vault() as vault:
        created = vault.create_case(name, actor=actor(), archive_scope=archive_scope)
    click.echo(f"{created.id}  {created.name}" + ("  (archive scope)" if created.archive_scope else ""))


@case.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@guard
def case_list(as_json: bool) -> None:
    """List the cases with their document counts."""
    with open_vault() as vault:
        cases = vault.cases()
    if as_json:
        print_json([{"id": c.id, "name": c.name, "documents": c.documents,
                     "scope": "archive" if c.archive_scope else "case",
                     "created_at": c.created_at.isoformat()} for c in cases])
        return
    for c in cases:
        click.echo(f"{c.id}  {c.documents:>5} documents  {'archive' if c.archive_scope else 'case':<7}  {c.name}")
