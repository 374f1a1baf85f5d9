"""The `casevault` command line: set-up, cases, ingest, reading, review, unmasking, users, keys,
the audit log, backups, the server, the demo and upgrades.

Each group of commands lives in its own module and imports the domain only when one of its
commands runs: `casevault --help` loads click and nothing of the vault, Whoosh or the web stack,
and only `serve` and `demo` load FastAPI. Errors print one line that says what to do, and exit
non-zero (web.errors has the codes); nothing prints a stack trace or a name.
"""

from __future__ import annotations

import click

from web.cli._audit import audit
from web.cli._backup import backup, restore
from web.cli._cases import case
from web.cli._db import db
from web.cli._documents import ingest, show
from web.cli._housekeeping import housekeeping
from web.cli._identities import identity
from web.cli._keys import init, keys
from web.cli._review import review
from web.cli._search import reindex, search_command
from web.cli._serve import demo, serve
from web.cli._unmask import unmask
from web.cli._upgrade import upgrade
from web.cli._users import user

__all__ = ["main"]


@click.group()
def main() -> None:
    """casevault: an encrypted archive of court records and call transcripts."""


for _command in (init, case, ingest, show, search_command, reindex, keys, audit, demo, serve, user, identity,
                 review, unmask, upgrade, housekeeping, db, backup, restore):
    main.add_command(_command)
