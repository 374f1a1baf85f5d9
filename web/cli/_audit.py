"""`casevault audit`: the audit log's hash chain checked, and its signed off-host copy."""

from __future__ import annotations

import os
from pathlib import Path

import click

from web.cli._exit import fail, guard
from web.cli._operator import actor, open_vault


@click.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
@click.option("--file", "export_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Check this export instead of the vault (no vault or passphrase needed).")
@click.option("--public-key", help="The audit public key (hex) or its fingerprint, as printed at export: "
                                   "the only key the file is trusted under.")
@click.option("--previous", type=click.Path(dir_okay=False, path_type=Path),
              help="An earlier export of the same vault that must be a prefix of FILE (nothing removed or changed).")
@guard
def audit_verify(export_file: Path | None, public_key: str | None, previous: Path | None) -> None:
    """Check the audit log's hash chain (or an export's, with --file); report the first broken position."""
    if export_file is None:
        if public_key or previous:
            fail("--public-key and --previous check an export: give it with --file")
        with open_vault() as vault:
            report = vault.verify_audit()
        if report.intact:
            click.echo(f"audit log intact: {report.entries} entries, head {report.head.hex()[:16]}")
            return
        fail(f"audit log broken at position {report.first_broken}: {report.reason}")
    from vault import check_export

    checked = check_export(export_file, public_key=public_key, previous=previous)
    if not checked.intact:
        fail(f"audit export broken at position {checked.first_broken}: {checked.reason}")
    trust = ("signed by the key given" if checked.key_given else
             f"signed by {checked.fingerprint}, the key the file names: compare it with the fingerprint "
             "printed at export, or pass --public-key")
    prefix = f"; {previous.name} is a prefix of it" if previous else ""
    click.echo(f"audit export intact: {checked.entries} entries of vault {checked.vault_id}, "
               f"head {checked.head[:16]}, {trust}{prefix}")


@audit.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@guard
def audit_export(file: Path) -> None:
    """Write a signed copy of the audit log (who, what, which object, when; never details) to FILE,
    for keeping off this host. `casevault audit verify --file FILE` checks it without the vault."""
    if file.exists():
        fail(f"{file.name} exists already; choose a new file name (an export never overwrites one)")
    temporary = file.with_name(f".{file.name}.partial")
    written = 0
    try:
        with open_vault() as vault:
            key = vault.key_status()
            with temporary.open("x", encoding="utf-8") as out:
                for written, text in enumerate(vault.export_audit(actor=actor())):
                    out.write(text)
                out.flush()
                os.fsync(out.fileno())
        os.replace(temporary, file)
    finally:
        temporary.unlink(missing_ok=True)
    click.echo(f"exported {max(written - 1, 0)} audit entries to {file}")
    click.echo(f"signed by {key.audit_key_fingerprint} (public key {key.audit_public_key}): keep this "
               "fingerprint apart from the file and pass it to `casevault audit verify --file --public-key`")
