"""`casevault upgrade`: bring a vault made by an earlier release to this one.

Every other command refuses a vault that is behind (``SchemaBehind``); this one migrates the
schema, unseals the keys and runs the pending format steps. A line per migration; a bar per
format step on a terminal, counts on stderr otherwise.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

from web.cli._exit import guard
from web.cli._operator import actor, settings, unseal_secret

_COUNT_EVERY = 5.0  # seconds between two count lines when stderr is not a terminal


class _Progress:
    """``vault.UpgradeProgress`` for the command line."""

    def migration(self, revision: str, summary: str) -> None:
        click.echo(f"migration {revision}" + (f": {summary}" if summary else ""))

    @contextmanager
    def step(self, name: str, total: int) -> Iterator[Callable[[int], None]]:
        if sys.stderr.isatty():
            with click.progressbar(length=total, label=f"format step {name}", file=sys.stderr,
                                   show_pos=True) as bar:
                yield bar.update
            return
        done, last = 0, time.monotonic()

        def advance(count: int) -> None:
            nonlocal done, last
            done += count
            if time.monotonic() - last >= _COUNT_EVERY:
                click.echo(f"format step {name}: {done} of {total}", err=True)
                last = time.monotonic()

        yield advance
        click.echo(f"format step {name}: {done} of {total}, finished", err=True)


@click.command()
@guard
def upgrade() -> None:
    """Bring a vault made by an earlier release to this one (back up the data directory first)."""
    from vault import Vault

    chosen = settings()
    secret = unseal_secret(chosen)
    report = Vault.upgrade(chosen, secret.get("passphrase"), _Progress(), shares=secret.get("shares"), actor=actor())
    if report.up_to_date:
        click.echo("the vault is up to date; nothing was changed")
        return
    click.echo(f"vault upgraded to {', '.join(report.to_revisions)}: {len(report.migrations)} migrations, "
               f"{len(report.steps)} format steps")
