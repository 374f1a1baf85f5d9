"""`casevault init` and `casevault keys`: key custody (the passphrase, a split into shares), the
master key rotated and retired, case keys rotated and rewrapped, and the key status."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from web.cli._exit import fail, guard
from web.cli._hints import about
from web.cli._operator import actor, case_named, open_vault, passphrase, settings
from web.cli._output import counted, print_json, progress

if TYPE_CHECKING:
    from vault import CaseKeyUse, KeyStatus, Reencrypted, Vault


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
    """Key custody (passphrase, shares), status, rotation, rewrap, re-encryption and retirement."""


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
    for use in status.case_key_uses:
        click.echo(f"case keys v{use.version}: {_case_key_line(use)}")
    click.echo(f"blobs: {sum(status.blobs_by_key_version.values())} encrypted files")
    click.echo(f"audit signing key: {status.audit_key_fingerprint} (public key {status.audit_public_key})")


def _case_key_line(use: CaseKeyUse) -> str:
    if use.retired:
        return f"retired in {use.retired_cases} cases (destroyed; nothing under it can be read)"
    held = f"{use.cases} cases" + (f" (retired in {use.retired_cases} more)" if use.retired_cases else "")
    parts = [f"{count} {what}" for count, what in (
        (use.documents, "document keys"), (use.blobs, "files"), (use.justifications, "justifications"),
        (use.case_names, "case names"), (use.index_keys, "index keys")) if count]
    return f"{held}, protects " + (", ".join(parts) if parts else "nothing (it can be retired)")


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


@keys.command("reencrypt")
@click.option("--case", "case_name", help="Only this case (every case by default).")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@guard
def keys_reencrypt(case_name: str | None, as_json: bool) -> None:
    """Give every document not yet under its case's newest key version a new key and encrypt its
    files again (streamed). Run again after an interruption: finished documents are not redone."""
    with open_vault() as vault:
        case = case_named(vault, case_name) if case_name else None
        pending = sum(len(ids) for ids in vault.pending_reencryption(case).values())
        with progress("re-encrypting", pending, counts=True) as advance:
            report = vault.reencrypt(actor=actor(), case=case, progress=advance)
        _echo_reencrypted(vault, report, as_json)


def _echo_reencrypted(vault: Vault, report: Reencrypted, as_json: bool) -> None:
    names = {c.id: c.name for c in vault.cases()}
    cases = [{"case": names.get(case_id, case_id), "documents": count, "blobs": report.blobs[case_id]}
             for case_id, count in report.documents.items()]
    left = sum(len(ids) for ids in vault.pending_reencryption().values())
    if as_json:
        print_json({"documents": report.total_documents, "blobs": report.total_blobs, "cases": cases, "left": left})
        return
    for line in cases:
        click.echo(f"{line['case']}: {line['documents']} documents, {line['blobs']} files re-encrypted")
    click.echo(f"{report.total_documents} documents re-encrypted ({report.total_blobs} files); "
               + (f"{left} left (busy, or under a key rotated since): run it again" if left else "none left"))


@keys.command("retire")
@click.argument("version", type=click.IntRange(min=1))
@click.option("--case-key", "case_key", is_flag=True, help="Retire a case key version (and older ones), not a master key version.")
@click.option("--case", "case_name", help="With --case-key: only this case's key (every case key by default).")
@click.option("--json", "as_json", is_flag=True, help="Print the key status as JSON.")
@guard
def keys_retire(version: int, case_key: bool, case_name: str | None, as_json: bool) -> None:
    """Destroy an old key version once nothing depends on it; refused, saying what still does.

    Without --case-key, master key version VERSION: its wrapped key is destroyed (run
    `keys rotate --master` first; the newest version is never retired). With --case-key, case key
    version VERSION and older (run `keys rewrap` and `keys reencrypt` first)."""
    if case_name and not case_key:
        fail("--case names the case whose case key is retired: add --case-key")
    with open_vault() as vault, about("keys"):
        if case_key:
            case = case_named(vault, case_name) if case_name else None
            retired = vault.retire_case_key_version(version, actor=actor(), case=case)
            status = vault.key_status()
            message = f"case key version {version} (and older) retired in {len(retired)} cases"
        else:
            status = vault.retire_master(version, actor=actor())
            message = f"master key v{version} retired; what still names it can no longer be opened"
    click.echo(message, err=True)
    _echo_key_status(status, as_json)
