"""`casevault ingest` and `casevault show`: files into a case, and a document back out."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from web.cli._exit import guard
from web.cli._operator import acting_for, actor, case_named, open_vault, user_named
from web.cli._output import clock, print_json
from web.errors import EXIT_FAILED, answer_of

if TYPE_CHECKING:
    from vault import CaseInfo, DocumentInfo, Extracted, Kind, Vault

KINDS = ("court_record", "transcript")  # vault.Kind's values, without importing the vault for --help


def _files(paths: tuple[str, ...]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, names in os.walk(path):  # symlinked directories are not followed
                dirs.sort()
                found.extend(Path(root) / n for n in sorted(names) if not n.startswith("."))
        else:
            found.append(path)
    return found


def _ingest_one(vault: Vault, path: Path, case_info: CaseInfo, kind: Kind | None) -> dict[str, object]:
    from vault.errors import DuplicateDocument

    shown = os.fsencode(path).decode("utf-8", "backslashreplace")  # a name that is not UTF-8
    result: dict[str, object] = {"id": None, "path": shown, "kind": None, "status": "failed"}
    try:
        if not path.is_file():
            raise FileNotFoundError
        with path.open("rb") as source:
            document = vault.ingest(source, case=case_info, filename=path.name, actor=actor(), kind=kind)
    except DuplicateDocument as error:
        existing = vault.document(error.existing_id)
        result.update(id=existing.id, kind=existing.kind.value, status="duplicate")
    except FileNotFoundError:
        result.update(error="NOT_FOUND", message="no such file")
    except PermissionError:
        result.update(error="UNREADABLE", message="the file cannot be read (permissions)")
    except Exception as error:  # noqa: BLE001 - one file's failure must not end the batch
        answer = answer_of(error)
        if answer is None:
            result.update(error="INTERNAL",
                          message=f"unexpected {type(error).__name__}; nothing of this file was kept")
        else:
            result.update(error=answer.code, message=answer.message)
    else:
        result.update(id=document.id, kind=document.kind.value, status=document.status.value)
    return result


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--case", "case_name", required=True, help="The case the files belong to.")
@click.option("--kind", type=click.Choice(KINDS), help="Declare the kind instead of detecting it.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of results.")
@guard
def ingest(paths: tuple[str, ...], case_name: str, kind: str | None, as_json: bool) -> None:
    """Ingest files (directories recursively) into a case; each enters review."""
    from vault import Kind

    files = _files(paths)
    results = []
    with open_vault() as vault:
        case_info = case_named(vault, case_name)
        show_bar = sys.stderr.isatty() and not as_json
        with click.progressbar(files, label="ingesting", file=sys.stderr, show_pos=True,
                               hidden=not show_bar) as bar:
            for path in bar:
                result = _ingest_one(vault, path, case_info, Kind(kind) if kind else None)
                results.append(result)
                if not as_json:
                    _echo_result(result, above_bar=show_bar)
    failed = sum(1 for r in results if r["status"] == "failed")
    if as_json:
        print_json(results)
    else:
        click.echo(f"{len(results) - failed} stored or already present, {failed} failed", err=True)
    if failed:
        sys.exit(EXIT_FAILED)


def _echo_result(result: dict[str, object], *, above_bar: bool) -> None:
    if result["status"] == "failed":
        line = f"FAILED      {result['path']}: {result['message']}"
    else:
        line = f"{result['id']}  {result['kind']:<12}  {result['status']:<9}  {result['path']}"
    click.echo(("\r\x1b[K" if above_bar else "") + line)


def _document_json(info: DocumentInfo, content: Extracted) -> dict[str, object]:
    from vault import Kind

    body: dict[str, object] = {
        "id": info.id, "case": info.case_name, "case_id": info.case_id, "kind": info.kind.value,
        "format": info.format.value, "status": info.status.value, "title": info.title,
        "filename": info.filename, "size_bytes": info.size_bytes, "encoding": info.text_encoding,
        "uploaded_by": info.uploaded_by, "created_at": info.created_at.isoformat(), "text": content.text,
    }
    if info.kind is Kind.TRANSCRIPT:
        body["turns"] = [{"speaker": t.speaker, "start": None if t.start_ms is None else t.start_ms / 1000,
                          "end": None if t.end_ms is None else t.end_ms / 1000, "text": t.text}
                         for t in content.turns]
    else:
        body["pages"] = [{"number": p.number, "text": p.text} for p in content.pages]
    return body


def _show_as(vault: Vault, document_id: str, name: str, as_json: bool) -> None:
    from vault import Kind
    from web._json import view_json

    view = vault.view(document_id, user_named(vault, name), actor=acting_for(name))
    if as_json:
        print_json(view_json(view))
        return
    click.echo(f"{view.title}\n  id {view.id}  case {view.case_name}  {view.kind.value}  {view.status.value}\n")
    for u in view.units:
        if view.kind is Kind.TRANSCRIPT:
            click.echo(f"[{clock(u.start_ms)}] {u.speaker or '?'}: {u.text}")
        else:
            click.echo(f"--- page {u.position} ---\n{u.text}")


@click.command()
@click.argument("document_id")
@click.option("--as", "as_user", help="Show the document as this user may see it (the policy view).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@guard
def show(document_id: str, as_user: str | None, as_json: bool) -> None:
    """Show a document: metadata, then its pages or its turns with speakers and times.

    Without --as this is the operator's view, in clear; with --as USER it is what USER may see.
    """
    from vault import Kind

    with open_vault() as vault:
        if as_user:
            _show_as(vault, document_id, as_user, as_json)
            return
        info = vault.document(document_id)
        content = vault.content(document_id, actor=actor())
    if as_json:
        print_json(_document_json(info, content))
        return
    click.echo(f"{info.title}\n  id {info.id}  case {info.case_name}  {info.kind.value} ({info.format.value})"
               f"  {info.status.value}\n  file {info.filename!r}  {info.size_bytes} bytes"
               f"  encoding {info.text_encoding or '-'}  added {info.created_at:%Y-%m-%d %H:%M} by {info.uploaded_by}\n")
    if info.kind is Kind.TRANSCRIPT:
        for t in content.turns:
            click.echo(f"[{clock(t.start_ms)}] {t.speaker or '?'}: {t.text}")
    else:
        for p in content.pages:
            click.echo(f"--- page {p.number} ---\n{p.text}")
