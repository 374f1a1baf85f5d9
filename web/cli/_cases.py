"""`casevault case`: create, list and destroy cases."""

from __future__ import annotations

import click

from web.cli._exit import fail, guard
from web.cli._operator import actor, case_named, open_vault
from web.cli._output import print_json


@click.group()
def case() -> None:
    """Create, list and destroy cases."""


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


@case.command("destroy")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Destroy it: its keys go, and with them everything of it. Cannot be undone.")
@guard
def case_destroy(name: str, yes: bool) -> None:
    """Crypto-shred the case NAME: its keys, documents, identities (unless shared by the archive
    scope), memberships and search index. The audit log keeps a `case.destroy` entry."""
    with open_vault() as vault:
        target = case_named(vault, name)
        if not yes:
            held = vault.case_contents(target)
            identities = (f"{held.identities} identities" if held.own_scope
                          else "no identities (the archive scope's stay)")
            fail(f"this destroys case {target.id} for good: {held.documents} documents ({held.blobs} files), "
                 f"{identities}, {held.memberships} memberships, {held.pending_memberships} waiting, "
                 f"{held.unmask_requests} unmask requests, {held.case_keys} key versions; "
                 "add --yes to destroy it (backups made before still hold its keys: see README)")
        gone = vault.destroy_case(target, actor=actor())
    click.echo(f"destroyed case {target.id}: {gone.documents} documents, {gone.blobs} files, "
               f"{gone.identities} identities, {gone.case_keys} key versions; the audit log keeps `case.destroy`")
