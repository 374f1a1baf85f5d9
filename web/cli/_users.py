"""`casevault user`: users, their enrolment codes and the memberships waiting for confirmation."""

from __future__ import annotations

import click

from web.cli._exit import fail, guard
from web.cli._hints import about
from web.cli._operator import actor, case_named, open_vault
from web.cli._output import print_json


@click.group()
def user() -> None:
    """Users, their roles and case memberships."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["investigator", "reviewer", "admin"]))
@click.option("--case", "cases", multiple=True, help="A case the user belongs to (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@guard
def user_add(name: str, role: str, cases: tuple[str, ...], as_json: bool) -> None:
    """Add a user; prints their one-time enrolment code (good for 72 hours, stored only as a
    digest): they redeem it at /enrol to choose their password and second factor and get their
    access key. Memberships made here (by the operator) hold at once."""
    with open_vault() as vault, about("case"):
        info, code = vault.add_user(name, role, cases=cases, actor=actor(), enrolment=True)
    if as_json:
        print_json({"name": info.name, "role": info.role.value, "enrolment_code": code})
        return
    click.echo(f"user {info.name} ({info.role.value}) added; their enrolment code, shown once "
               f"(redeem at /enrol within 72 hours):\n  {code}")


@user.command("reset")
@click.argument("name")
@guard
def user_reset(name: str) -> None:
    """Revoke a user's password, second factor, access keys and sessions; prints a new
    enrolment code, once. Their memberships stay confirmed (the operator holds the code)."""
    with open_vault() as vault, about("user"):
        code = vault.reset_credentials(name, actor=actor())
    click.echo(f"{name}'s credentials are revoked; their new enrolment code, shown once:\n  {code}")


@user.command("confirm")
@click.argument("name")
@click.option("--case", "case_name", required=True, help="The case of the waiting membership.")
@click.option("--refuse", is_flag=True, help="Refuse it instead: the membership is removed.")
@guard
def user_confirm(name: str, case_name: str, refuse: bool) -> None:
    """Confirm a membership an admin made (or left waiting): the only way for a case that has no
    reviewer yet. `casevault user waiting` lists them."""
    with open_vault() as vault:
        case_id = case_named(vault, case_name).id
        waiting = [c for c in vault.confirmations() if c.user_name == name and c.case_id == case_id]
        if not waiting:
            fail(f"no membership of {name} in that case waits for a confirmation; `casevault user waiting` lists them")
        vault.confirm(waiting[0].id, approve=not refuse, actor=actor())
    click.echo(f"{name}'s membership {'refused and removed' if refuse else 'confirmed'}")


def _membership(name: str, case_name: str, *, member: bool, as_json: bool) -> None:
    with open_vault() as vault:
        target = case_named(vault, case_name)
        with about("user"):
            before = vault.user(name)
            if not member and target.id not in before.cases | before.pending:
                fail(f"{name} is not a member of that case; `casevault user list` shows the memberships")
            after = vault.set_membership(name, target, member=member, actor=actor())
    if as_json:
        print_json({"user": after.name, "case": target.name, "case_id": target.id, "member": target.id in after.cases})
        return
    click.echo(f"{after.name} {'joined' if member else 'left'} case {target.name}")


def _membership_command(verb: str, member: bool, doc: str) -> None:
    """``casevault user join`` or ``leave``: the same arguments, one way or the other."""

    def command(name: str, case_name: str, as_json: bool) -> None:
        _membership(name, case_name, member=member, as_json=as_json)

    command.__doc__ = doc
    command = guard(command)
    for option in (click.option("--json", "as_json", is_flag=True, help="Print JSON."),
                   click.option("--case", "case_name", required=True, help="The case (name or id)."),
                   click.argument("name")):
        command = option(command)
    user.command(verb)(command)


_membership_command("join", True, """Make user NAME a member of a case. The operator's membership holds at
    once (a membership waiting for a reviewer's confirmation is confirmed by it); it applies at their next request.""")
_membership_command("leave", False, """Remove user NAME from a case (a confirmed or a waiting membership); their
    next request no longer reaches it.""")


@user.command("waiting")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@guard
def user_waiting(as_json: bool) -> None:
    """List the memberships waiting for a reviewer's (or the operator's) confirmation."""
    with open_vault() as vault:
        names = {c.id: c.name for c in vault.cases()}
        rows = [{"user": c.user_name, "role": c.role.value, "case": names.get(c.case_id, c.case_id),
                 "reason": c.reason, "requested_by": c.requested_by, "awaiting_enrolment": c.awaiting_enrolment}
                for c in vault.confirmations()]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        click.echo(f"{row['user']:<24} {row['role']:<13} {row['case']}  ({row['reason']} by {row['requested_by']}"
                   f"{'; not enrolled yet' if row['awaiting_enrolment'] else ''})")


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@guard
def user_list(as_json: bool) -> None:
    """List users with their roles and number of cases."""
    with open_vault() as vault:
        people = vault.users()
    if as_json:
        print_json([{"name": u.name, "role": u.role.value, "active": u.active, "cases": sorted(u.cases)}
                    for u in people])
        return
    for u in people:
        click.echo(f"{u.name:<24} {u.role.value:<13} {len(u.cases)} cases{'' if u.active else '  (disabled)'}")
