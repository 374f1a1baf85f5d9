"""`casevault init` and `casevault keys`: the master key sealed, case keys rotated and rewrapped."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from web.cli._exit import guard
from web.cli._hints import about
from web.cli._operator import actor, case_named, open_vault, passphrase, settings
from web.cli._output import print_json, progress

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
    """Key status, rotation, rewrap, re-encryption and retirement."""


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
    for use in status.case_key_uses:
        click.echo(f"case keys v{use.version}: {_case_key_line(use)}")
    click.echo(f"blobs: {sum(status.blobs_by_key_version.values())} encrypted files")


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
@click.argument("version", type=int)
@click.option("--case-key", "case_key", is_flag=True, help="Retire a case key version (and older ones).")
@click.option("--case", "case_name", help="Only this case's key (every case key by default).")
@click.option("--json", "as_json", is_flag=True, help="Print the key status as JSON.")
@guard
def keys_retire(version: int, case_key: bool, case_name: str | None, as_json: bool) -> None:
    """Destroy an old key version once nothing depends on it; refused, saying what still does."""
    if not case_key:
        raise click.UsageError("say which key: --case-key retires case key versions")
    with open_vault() as vault, about("keys"):
        case = case_named(vault, case_name) if case_name else None
        retired = vault.retire_case_key_version(version, actor=actor(), case=case)
        status = vault.key_status()
    if not as_json:
        click.echo(f"case key version {version} (and older) retired in {len(retired)} cases")
    _echo_key_status(status, as_json)
