"""`casevault unmask`: ask for a real name, and decide such requests (four eyes, time-limited)."""

from __future__ import annotations

from datetime import timedelta

import click

from web.cli._exit import fail, guard
from web.cli._hints import about
from web.cli._operator import acting_for, case_named, open_vault, user_named
from web.cli._output import print_json


@click.group()
def unmask() -> None:
    """Ask for a real name, and decide such requests (four eyes, time-limited, audited)."""


@unmask.command("request")
@click.option("--case", "case_name", required=True)
@click.option("--identity", "label", required=True, help="The pseudonym, e.g. 'Caller 2'.")
@click.option("--reason", required=True, help="Why this name is needed for this case (at least 20 characters).")
@click.option("--as", "as_user", required=True)
@guard
def unmask_request(case_name: str, label: str, reason: str, as_user: str) -> None:
    """An investigator asks to see one identity's real name."""
    with open_vault() as vault:
        user, case_info = user_named(vault, as_user), case_named(vault, case_name)
        with about("identity"):
            request = vault.request_unmask(user, case_info, label, reason, actor=acting_for(as_user))
    click.echo(f"{request.id}  pending")


def _decide_unmask(request_id: str, as_user: str, approve: bool, hours: float = 24) -> None:
    if not 0 < hours <= 30 * 24:  # also NaN and inf, which no duration holds
        fail("a grant lasts from a few minutes to 30 days (720 hours)")
    with open_vault() as vault:
        decided = vault.decide_unmask(request_id, user_named(vault, as_user), approve=approve,
                                      valid_for=timedelta(hours=hours), actor=acting_for(as_user))
    until = f" until {decided.expires_at:%Y-%m-%d %H:%M} UTC" if decided.expires_at else ""
    click.echo(f"{decided.id}  {decided.state.value}{until}")


@unmask.command("approve")
@click.argument("request_id")
@click.option("--as", "as_user", required=True)
@click.option("--hours", default=24.0, show_default=True, help="How long the grant lasts (at most 30 days).")
@guard
def unmask_approve(request_id: str, as_user: str, hours: float) -> None:
    """Another reviewer of the case grants the request for a limited time."""
    _decide_unmask(request_id, as_user, True, hours)


@unmask.command("deny")
@click.argument("request_id")
@click.option("--as", "as_user", required=True)
@guard
def unmask_deny(request_id: str, as_user: str) -> None:
    """A reviewer of the case refuses the request."""
    _decide_unmask(request_id, as_user, False)


@unmask.command("revoke")
@click.argument("request_id")
@click.option("--as", "as_user", required=True)
@guard
def unmask_revoke(request_id: str, as_user: str) -> None:
    """A reviewer of the case ends a grant before it expires."""
    with open_vault() as vault:
        vault.revoke_unmask(request_id, user_named(vault, as_user), actor=acting_for(as_user))
    click.echo(f"{request_id}  revoked")


@unmask.command("list")
@click.option("--case", "case_name", required=True)
@click.option("--as", "as_user", help="List as this user may see them.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@guard
def unmask_list(case_name: str, as_user: str | None, as_json: bool) -> None:
    """Unmask requests of a case: all for its reviewers, one's own for an investigator."""
    from web._json import unmask_json

    with open_vault() as vault:
        case_info = case_named(vault, case_name)
        requests = vault.unmask_requests(case_info, user_named(vault, as_user) if as_user else None)
        labels = {i.id: i.label for i in vault.identities(case_info)}
    rows = [unmask_json(r, labels) for r in requests]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        click.echo(f"{row['id']}  {row['identity']:<12} {row['state']:<9} {row['justification']}")
