"""`casevault init` and `casevault keys`: key custody (the passphrase, a split into shares), the
master key rotated and retired, case keys rotated and rewrapped, and the key status."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from web.cli._exit import fail, guard
from web.cli._hints import about
from web.cli._operator import actor, case_named, open_vault, passphrase, settings
from web.cli._output import counted, print_json

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
    """Key custody (passphrase, shares), status, rotation, rewrap and retirement."""


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
    kdf = status.seal.passphrase
    if kdf is not None:
        click.echo(f"seal: passphrase (Argon2id, {kdf.memory_kib // 1024} MiB, {kdf.iterations} iterations, "
                   f"{kdf.lanes} lanes)")
    if status.seal.threshold is not None:
        click.echo(f"seal: shares, any {status.seal.threshold} of {status.seal.shares}")
    newest = max(m.version for m in status.master_versions)
    for m in status.master_versions:
        if m.retired_at is not None:
            click.echo(f"master key v{m.version}: retired {m.retired_at[:19]}")
            continue
        click.echo(f"master key v{m.version}: wraps {m.system_keys} system keys, {m.case_keys} case keys, "
                   f"{m.scope_keys} scope keys; created {m.created_at[:19]}{' (newest)' if m.version == newest else ''}")
    for purpose, versions in sorted(status.system_keys.items()):
        click.echo(f"system key {purpose}: versions {', '.join(map(str, versions))}")
    for version, count in sorted(status.case_key_versions.items()):
        docs = status.documents_by_case_key_version.get(version, 0)
        click.echo(f"case keys v{version}: {count} cases, {docs} documents")
    click.echo(f"blobs: {sum(status.blobs_by_key_version.values())} encrypted files")
    click.echo(f"audit signing key: {status.audit_key_fingerprint} (public key {status.audit_public_key})")


@keys.command("rotate")
@click.option("--case", "case_name", help="Only this case's key (every case key by default).")
@click.option("--master", is_flag=True, help="Rotate the master key instead, and rewrap every key under it.")
@click.option("--json", "as_json", is_flag=True, help="Print the key status as JSON.")
@guard
def keys_rotate(case_name: str | None, master: bool, as_json: bool) -> None:
    """Make a new version of every case key (new documents use it, older ones still read), or with
    --master a new master key version that every system, case and scope key is rewrapped under
    (in batches; run it again to finish one that was interrupted)."""
    if master and case_name:
        fail("--master rotates the master key of the whole vault; leave out --case")
    with open_vault() as vault, about("keys"):
        if master:
            with counted("rewrapping keys") as advance:
                version, resumed = vault.rotate_master(actor=actor(), progress=advance)
            click.echo(f"{'finished the rewrap under' if resumed else 'made'} master key v{version}; every key "
                       "is wrapped by it", err=True)
            status = vault.key_status()
        else:
            status = vault.rotate_keys(actor=actor(), case=case_named(vault, case_name) if case_name else None)
    _echo_key_status(status, as_json)


@keys.command("retire")
@click.argument("version", type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="Print the key status as JSON.")
@guard
def keys_retire(version: int, as_json: bool) -> None:
    """Retire master key version VERSION: its wrapped key is destroyed. Refused while any key is
    still wrapped by it (run `keys rotate --master` first) and for the newest version."""
    with open_vault() as vault:
        status = vault.retire_master(version, actor=actor())
    click.echo(f"master key v{version} retired; what still names it can no longer be opened", err=True)
    _echo_key_status(status, as_json)


@keys.command("passphrase")
@guard
def keys_passphrase() -> None:
    """Change the passphrase (the new one from CASEVAULT_NEW_PASSPHRASE, or asked twice on a
    terminal): the root key is sealed again under it, nothing else changes."""
    from keys import check_passphrase

    chosen = settings()
    new = chosen.new_passphrase
    if new is None:
        if not sys.stdin.isatty():
            fail("no new passphrase: set CASEVAULT_NEW_PASSPHRASE, or run the command in a terminal to be asked")
        with open_vault() as vault:  # the current secret first, then the new passphrase
            new = click.prompt("New passphrase", hide_input=True, confirmation_prompt=True, err=True)
            check_passphrase(new)
            vault.change_passphrase(new, actor=actor())
    else:
        with open_vault() as vault:
            vault.change_passphrase(new, actor=actor())
    click.echo("passphrase changed: the old one no longer opens the vault; keep the new one safe", err=True)


@keys.command("split")
@click.option("--shares", "count", type=int, required=True, help="How many shares to make (2 to 16).")
@click.option("--threshold", type=int, required=True, help="How many of them unseal the vault.")
@click.option("--drop-passphrase", is_flag=True, help="Afterwards only shares unseal; the passphrase no longer does.")
@click.option("--json", "as_json", is_flag=True, help="Print {\"threshold\", \"shares\": [...]} as JSON.")
@guard
def keys_split(count: int, threshold: int, drop_passphrase: bool, as_json: bool) -> None:
    """Split a new unseal secret into SLIP-39 shares, any THRESHOLD of which unseal the vault.
    Replaces an earlier split (its shares stop working). The shares are printed once, here, and
    stored nowhere: hand one to each custodian."""
    with open_vault() as vault:
        made = vault.split_keys(count, threshold, keep_passphrase=not drop_passphrase, actor=actor())
    if as_json:
        print_json({"threshold": threshold, "shares": made.shares})
        return
    for number, share in enumerate(made.shares, 1):
        click.echo(f"share {number} of {count}: {share}")
    kept = "the passphrase still unseals it too" if not drop_passphrase else "the passphrase no longer unseals it"
    click.echo(f"any {threshold} of these {count} shares unseal the vault; {kept}. They are shown only now: "
               "give each to its custodian", err=True)


@keys.command("rewrap")
@click.option("--case", "case_name", help="Only this case (every case by default).")
@click.option("--json", "as_json", is_flag=True, help="Print the key status as JSON.")
@guard
def keys_rewrap(case_name: str | None, as_json: bool) -> None:
    """Wrap every document key again under its case's newest key version (no file is re-read)."""
    with open_vault() as vault:
        status = vault.rewrap(actor=actor(), case=case_named(vault, case_name) if case_name else None)
    _echo_key_status(status, as_json)
