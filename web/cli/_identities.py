"""`casevault identity`: the protected identities of a case, their aliases and pseudonyms."""

from __future__ import annotations

import click

from web.cli._exit import guard
from web.cli._hints import about
from web.cli._operator import acting_for, actor, case_named, open_vault, user_named
from web.cli._output import print_json

CATEGORIES = ("person", "organisation", "phone", "email", "id_number", "place", "other")


@click.group()
def identity() -> None:
    """Protected identities: real names, aliases and pseudonyms."""


@identity.command("add")
@click.option("--case", "case_name", required=True)
@click.option("--name", required=True, help="The real name.")
@click.option("--alias", "aliases", multiple=True, help="Another way the identity is written (repeatable).")
@click.option("--pseudonym", help='The label shown instead ("H"); assigned ("Person 3") when omitted.')
@click.option("--category", default="person", show_default=True, type=click.Choice(CATEGORIES))
@guard
def identity_add(case_name: str, name: str, aliases: tuple[str, ...], pseudonym: str | None, category: str) -> None:
    """Register an identity; every document of its pseudonym scope is masked again."""
    with open_vault() as vault:
        added = vault.add_identity(case_named(vault, case_name), name=name, aliases=list(aliases), label=pseudonym,
                                   category=category, actor=actor())
    click.echo(f"{added.id}  {added.label}  ({added.category.value}, {len(added.aliases)} aliases)")


@identity.command("edit")
@click.argument("pseudonym")
@click.option("--case", "case_name", required=True)
@click.option("--name", help="A new real name (the old one stays an alias unless removed).")
@click.option("--alias", "add_aliases", multiple=True, help="An alias to add (repeatable).")
@click.option("--remove-alias", "remove_aliases", multiple=True, help="An alias to remove (repeatable).")
@click.option("--pseudonym", "new_label", help="A new label for the identity.")
@guard
def identity_edit(pseudonym: str, case_name: str, name: str | None, add_aliases: tuple[str, ...],
                  remove_aliases: tuple[str, ...], new_label: str | None) -> None:
    """Change the identity shown as PSEUDONYM; every document of its scope is masked again."""
    with open_vault() as vault:
        case_info = case_named(vault, case_name)
        with about("identity", "identity edit"):
            edited = vault.edit_identity(case_info, pseudonym, name=name, add_aliases=list(add_aliases),
                                         remove_aliases=list(remove_aliases), label=new_label, actor=actor())
    click.echo(f"{edited.id}  {edited.label}  ({edited.category.value}, {len(edited.aliases)} aliases)")


@identity.command("list")
@click.option("--case", "case_name", required=True)
@click.option("--as", "as_user", help="List as this user may see it.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@guard
def identity_list(case_name: str, as_user: str | None, as_json: bool) -> None:
    """List the identities of a case: labels for investigators, real names for reviewers."""
    with open_vault() as vault:
        case_info = case_named(vault, case_name)
        rows = vault.identity_listing(case_info, user_named(vault, as_user) if as_user else None,
                                      actor=acting_for(as_user) if as_user else actor())
    if as_json:
        print_json(rows)
        return
    for row in rows:
        names = f"  {row['name']}  aliases: {', '.join(row['aliases'])}" if "name" in row else ""
        click.echo(f"{row['id']}  {row['pseudonym']:<14} {row['category']:<12}{names}")
