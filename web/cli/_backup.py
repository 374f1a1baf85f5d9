"""`casevault backup FILE` and `casevault restore FILE`: one archive of the vault, and a vault
rebuilt from one in an empty CASEVAULT_DATA (and database)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from web.cli._exit import guard
from web.cli._operator import actor, open_vault, restore_secret, settings
from web.cli._output import progress


class _Bar:
    """Progress in bytes: a bar on a terminal, a line of counts otherwise."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.total = 0
        self.done = 0
        self._bar: click.progressbar | None = None  # type: ignore[type-arg]

    def begin(self, total_bytes: int) -> None:
        self.total = total_bytes
        if sys.stderr.isatty():
            self._bar = click.progressbar(length=total_bytes, label=self.label, file=sys.stderr, show_percent=True)
            self._bar.__enter__()

    def advance(self, nbytes: int) -> None:
        self.done += nbytes
        if self._bar is not None:
            self._bar.update(nbytes)

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, kind: type | None, *_: object) -> None:
        self.end(completed=kind is None)

    def end(self, *, completed: bool) -> None:
        """Close the bar; without one, print the count once the work completed (a refusal stays
        one line)."""
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
        elif completed and self.total:
            click.echo(f"{self.label}: {self.done:,} of {self.total:,} bytes", err=True)

    # what a backup reports besides bytes
    def snapshot_taken(self, rows: dict[str, int]) -> None:
        pass

    def blobs_replaced(self, count: int) -> None:
        click.echo(f"note: {count} blob files were replaced while the backup ran (a re-masking); "
                   "taking the database snapshot again", err=True)


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@guard
def backup(file: Path) -> None:
    """Write one archive of the vault to FILE while it runs (ciphertext and sealed keys only)."""
    with open_vault() as vault, _Bar("backing up") as bar:
        report = vault.backup(file, actor=actor(), progress=bar)
    click.echo(f"backup written to {report.path}: {report.documents} documents, {report.blobs} blob files, "
               f"{report.bytes:,} bytes; the passphrase is still needed to read it")


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@guard
def restore(file: Path) -> None:
    """Rebuild the vault in FILE into an empty CASEVAULT_DATA (and database); run again to finish
    a restore that was interrupted."""
    from vault import Vault

    from search import Search

    chosen = settings()
    secret = restore_secret(chosen)
    with _Bar("restoring") as bar:
        report = Vault.restore(chosen, file, **secret, actor=actor(), progress=bar)
    with Vault.open(chosen, **secret) as vault, progress("indexing") as advance:
        Search.open(vault, progress=advance).close()  # the indexes are not in the archive: built now
    click.echo(f"vault restored in {chosen.data_dir}" + (" (an interrupted restore finished)" if report.resumed else "")
               + f": {report.documents} documents, {report.blobs} blob files, written by casevault "
               f"{report.release} on {report.backend}; search indexes rebuilt")
