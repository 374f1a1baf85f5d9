"""`casevault init` and `casevault keys`: the master key sealed, case keys rotated and rewrapped."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from web.cli._exit import guard
from web.cli._hints import about
from web.cli._operator import actor, case_named, open_vault, passphrase, settings
from web.cli._output import print_json

if TYPE_CHECKING:
    from vault import KeyStatus


@click.command()
@guard
def init() -> None:
    """Create a new vault in CASEVAULT_DATA (or CASEVAULT_DATABASE_URL)."""
    from keys import check_passphrase
    from vault import Vault

    chosen = settings()
    secret = passphrase(chosen, confirm=True)
    check_passphrase(secret)
    with Vault.initialize(chosen, secret, actor=actor()):
        pass
    click.echo(f"vault created in {chosen.data_dir}; keep the passphrase safe: it cannot be recovered")


@click.group()
def keys() -> None:
    """Key status, rotation and rewrap."""


@keys.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@guard
def keys_status(as_json: bool) -> None:
    """Show key versions and what they protect. Never shows key material."""
    with open_vault() as vault:
        status = vault.key_status()
    _echo_key_status(status, as_json)


def _echo_key_status(status: KeyStatus, as_json: bool) -> None:
    from web._json import key_status_json

    body = key_status_json(status)
    if as_json:
        print_json(body)
        return
    for m in body["master_key"]:  # type: ignore[attr-defined]
        click.echo(f"master key v{m['version']}: sealed with Argon2id ({m['memory_kib'] // 1024} MiB, "
                   f"{m['iterations']} iterations, {m['lanes']} lanes), created {m['created_at'][:19]}")
    for purpose, versions in sorted(status.system_keys.items()):
        click.echo(f"system key {purpose}: versions {', '.join(map(str, versions))}")
    for version, count in sorted(status.case_key_versions.items()):
        docs = status.documents_by_case_key_version.get(version, 0)
        click.echo(f"case keys v{version}: {count} cases, {docs} documents")
    click.echo(f"blobs: {sum(status.blobs_by_key_version.values())} encrypted files")
    click.echo(f"audit signing key: {status.audit_key_fingerprint} (public key {status.audit_public_key})")


@keys.command("rotate")
@click.option("--case", "case_name", help="Only this case's key (every case key by default).")
@click.option("--json", "as_json", is_flag=True, help="Print the key status as JSON.")
@guard
def keys_rotate(case_name: str | None, as_json: bool) -> None:
    """Make a new version of every case key; new documents use it, older ones still read."""
    with open_vault() as vault, about("keys"):
        status = vault.rotate_keys(actor=actor(), case=case_named(vault, case_name) if case_name else None)
    _echo_key_status(status, as_json)


@keys.command("rewrap")
@click.option("--case", "case_name", help="Only this case (every case by default).")
@click.option("--json", "as_json", is_flag=True, help="Print the key status as JSON.")
@guard
def keys_rewrap(case_name: str | None, as_json: bool) -> None:
    """Wrap every document key again under its case's newest key version (no file is re-read)."""
    with open_vault() as vault:
        status = vault.rewrap(actor=actor(), case=case_named(vault, case_name) if case_name else None)
    _echo_key_status(status, as_json)
