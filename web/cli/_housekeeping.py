"""`casevault housekeeping`: prune the index outbox and sweep blob files no row names."""

from __future__ import annotations

import click

from web.cli._exit import guard
from web.cli._operator import open_vault
from web.cli._output import print_json, progress


@click.command()
@click.option("--grace", type=float, help="Spare blob files published less than this many seconds ago "
              "(default: the longest an upload may wait for its row).")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@guard
def housekeeping(grace: float | None, as_json: bool) -> None:
    """Bring this node's indexes up to date and record how far they are, prune the index outbox
    rows every node has passed, and remove blob files that no row names (left by a crash)."""
    from search import Search

    with open_vault() as vault, progress("indexing") as advance, Search.open(vault, progress=advance) as search:
        position, pruned = search.housekeeping()
        swept = vault.sweep_orphan_blobs(older_than=grace)
    if as_json:
        print_json({"index_position": position, "outbox_rows_pruned": pruned, "orphan_blobs_removed": swept})
        return
    click.echo(f"indexes at outbox row {position}; {pruned} outbox rows pruned; {swept} orphan blob files removed")
