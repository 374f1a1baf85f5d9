"""`casevault review`: decide a document's suggestions, mask spans by hand, release it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from web.cli._exit import guard
from web.cli._hints import about
from web.cli._operator import acting_for, case_named, open_vault, user_named
from web.cli._output import print_json

if TYPE_CHECKING:
    from vault import Vault


@click.group()
def review() -> None:
    """Review documents: decide suggestions, then approve (release) them."""


@review.command("list")
@click.option("--as", "as_user", help="Only the documents this reviewer may review.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@guard
def review_list(as_user: str | None, as_json: bool) -> None:
    """Documents waiting for review, with their undecided suggestions."""
    from web._json import review_queue_json

    with open_vault() as vault:
        waiting = vault.in_review(user_named(vault, as_user) if as_user else None)
    if as_json:
        print_json(review_queue_json(waiting))
        return
    for d in waiting:
        click.echo(f"{d.id}  {d.kind.value:<12} {d.pending_suggestions:>4} undecided  {d.case_name}")


@review.command("show")
@click.argument("document_id")
@click.option("--as", "as_user", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@guard
def review_show(document_id: str, as_user: str, as_json: bool) -> None:
    """The spans masked for registered identities and the suggestions to decide."""
    from web._json import review_json

    with open_vault() as vault:
        view = vault.review_view(document_id, user_named(vault, as_user), actor=acting_for(as_user))
    body = review_json(view)
    if as_json:
        print_json(body)
        return
    for span in view.spans:
        click.echo(f"masked    {span['unit']}.{span['field']:<7} {span['text']!r} -> {span['identity']}")
    for r in body["suggestions"]:  # type: ignore[attr-defined]
        click.echo(f"{r['id']:<14} {r['state']:<9} {r['category']:<12} {r['text']!r}")


def _identity_id(vault: Vault, document_id: str, label: str) -> str:
    case_info = case_named(vault, vault.document(document_id).case_id)
    with about("identity"):
        return vault.identity(case_info, label).id


def _decide(document_id: str, ids: tuple[str, ...], as_user: str, accept: bool, identity_label: str | None) -> None:
    with open_vault() as vault:
        user = user_named(vault, as_user)
        identity_id = _identity_id(vault, document_id, identity_label) if identity_label else None
        with about("suggestion"):
            masked = vault.decide(document_id, user, list(ids), accept=accept, identity_id=identity_id,
                                  actor=acting_for(as_user))
    click.echo(f"{'accepted' if accept else 'rejected'} {len(ids)}; {masked.undecided} undecided")


@review.command("accept")
@click.argument("document_id")
@click.argument("suggestion_ids", nargs=-1, required=True)
@click.option("--as", "as_user", required=True)
@click.option("--identity", "identity_label", help="Link the accepted spans to this identity (its pseudonym).")
@guard
def review_accept(document_id: str, suggestion_ids: tuple[str, ...], as_user: str, identity_label: str | None) -> None:
    """Accept suggestions: they stay masked (as their category, or as the identity given)."""
    _decide(document_id, suggestion_ids, as_user, True, identity_label)


@review.command("reject")
@click.argument("document_id")
@click.argument("suggestion_ids", nargs=-1, required=True)
@click.option("--as", "as_user", required=True)
@guard
def review_reject(document_id: str, suggestion_ids: tuple[str, ...], as_user: str) -> None:
    """Reject suggestions: the text shows as written."""
    _decide(document_id, suggestion_ids, as_user, False, None)


@review.command("add")
@click.argument("document_id")
@click.option("--unit", type=int, required=True, help="The page number or turn index (see `review show`); any for the title.")
@click.option("--start", type=int, required=True, help="First character of the span in that unit.")
@click.option("--end", type=int, required=True, help="One past the last character.")
@click.option("--field", "field_name", type=click.Choice(["text", "speaker", "title"]), default="text", show_default=True)
@click.option("--category", default="other", show_default=True, help="Shown as [category], e.g. location.")
@click.option("--identity", "identity_label", help="Mask the span as this identity (its pseudonym) instead.")
@click.option("--as", "as_user", required=True)
@guard
def review_add(document_id: str, unit: int, start: int, end: int, field_name: str, category: str,
               identity_label: str | None, as_user: str) -> None:
    """Mask a span by hand, as a category such as [location] or as an identity."""
    with open_vault() as vault:
        identity_id = _identity_id(vault, document_id, identity_label) if identity_label else None
        with about("span"):
            masked = vault.add_span(document_id, user_named(vault, as_user), unit=unit, start=start, end=end,
                                    field_name=field_name, category=category, identity_id=identity_id,
                                    actor=acting_for(as_user))
    click.echo(f"span added; {masked.undecided} undecided")


@review.command("approve")
@click.argument("document_id")
@click.option("--as", "as_user", required=True)
@guard
def review_approve(document_id: str, as_user: str) -> None:
    """Release a document to the investigators of its case (not by its uploader; none undecided)."""
    with open_vault() as vault:
        released = vault.release(document_id, user_named(vault, as_user), actor=acting_for(as_user))
    click.echo(f"{released.id} released")
