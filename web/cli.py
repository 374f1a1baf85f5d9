"""The `casevault` command line: set-up, cases, ingest, reading, keys and the audit log.

Every command reads Settings once from the environment, opens the vault with the passphrase
(CASEVAULT_PASSPHRASE, or a prompt on a terminal) and closes it. Errors print one line that
says what to do, and exit non-zero; nothing prints a stack trace or a name.
"""

from __future__ import annotations

import dataclasses
import getpass
import ipaddress
import json
import logging
import os
import secrets
import tempfile
from datetime import timedelta
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import click

from keys import KeyringError, check_passphrase
from redaction import RedactionError
from search import Search, Sort
from vault import DocumentInfo, Extracted, KeyStatus, Kind, Settings, Vault
from web._json import key_status_json, review_json, review_queue_json, unmask_json, view_json
from vault.errors import DuplicateDocument, VaultError
from web.errors import EXIT_FAILED, EXIT_INTERNAL, answer_of



def _fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _actor() -> str:
    return f"operator:{getpass.getuser()}"


def _settings() -> Settings:
    return Settings.from_env(os.environ)


def _passphrase(settings: Settings, *, confirm: bool = False) -> str:
    if settings.passphrase:
        return settings.passphrase
    if not sys.stdin.isatty():
        _fail("no passphrase: set CASEVAULT_PASSPHRASE, or run the command in a terminal to be asked")
    return click.prompt("Vault passphrase", hide_input=True, confirmation_prompt=confirm, err=True)


@contextmanager
def _open_vault() -> Iterator[Vault]:
    settings = _settings()
    with Vault.open(settings, _passphrase(settings)) as vault:
        yield vault


def _guard(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn errors into one line on stderr and a non-zero exit: a domain error (web.errors has its
    rule) is exit 1 with its message, anything else exit 70 with its type only."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except KeyboardInterrupt:
            _fail("interrupted; nothing half-written was kept")
        except BrokenPipeError:  # `casevault show ... | head`: the reader left, which is fine
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_FAILED)
        except (click.exceptions.Exit, click.ClickException):
            raise
        except Exception as error:  # noqa: BLE001 - the last line of defence: no trace, no data
            answer = answer_of(error)
            if answer is None:
                _fail(f"unexpected {type(error).__name__}; nothing half-written was kept", EXIT_INTERNAL)
            _fail(answer.text)

    wrapper.__name__ = command.__name__
    wrapper.__doc__ = command.__doc__
    return wrapper


def _print_json(value: object) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


@click.group()
def main() -> None:
    """casevault: an encrypted archive of court records and call transcripts."""


@main.command()
@_guard
def init() -> None:
    """Create a new vault in CASEVAULT_DATA (or CASEVAULT_DATABASE_URL)."""
    settings = _settings()
    passphrase = _passphrase(settings, confirm=True)
    check_passphrase(passphrase)
    with Vault.initialize(settings, passphrase, actor=_actor()):
        pass
    click.echo(f"vault created in {settings.data_dir}; keep the passphrase safe: it cannot be recovered")


# -- cases ---------------------------------------------------------------------------------------

@main.group()
def case() -> None:
    """Create and list cases."""


@case.command("create")
@click.argument("name")
@click.option("--archive-scope", is_flag=True,
              help="Share pseudonyms with the other archive-scope cases (the same person is the same "
                   "pseudonym in all of them). By default a case's pseudonyms are its own.")
@_guard
def case_create(name: str, archive_scope: bool) -> None:
    """Create a case called NAME."""
    with _open_vault() as vault:
        created = vault.create_case(name, actor=_actor(), archive_scope=archive_scope)
    click.echo(f"{created.id}  {created.name}" + ("  (archive scope)" if created.archive_scope else ""))


@case.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_guard
def case_list(as_json: bool) -> None:
    """List the cases with their document counts."""
    with _open_vault() as vault:
        cases = vault.cases()
    if as_json:
        _print_json([{"id": c.id, "name": c.name, "documents": c.documents,
                      "scope": "archive" if c.archive_scope else "case",
                      "created_at": c.created_at.isoformat()} for c in cases])
        return
    for c in cases:
        click.echo(f"{c.id}  {c.documents:>5} documents  {'archive' if c.archive_scope else 'case':<7}  {c.name}")


# -- ingest --------------------------------------------------------------------------------------

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


def _ingest_one(vault: Vault, path: Path, case_info: Any, kind: Kind | None) -> dict[str, object]:
    shown = os.fsencode(path).decode("utf-8", "backslashreplace")  # a name that is not UTF-8
    result: dict[str, object] = {"id": None, "path": shown, "kind": None, "status": "failed"}
    try:
        if not path.is_file():
            raise FileNotFoundError
        with path.open("rb") as source:
            document = vault.ingest(source, case=case_info, filename=path.name, actor=_actor(), kind=kind)
    except DuplicateDocument as error:
        existing = vault.document(error.existing_id)
        result.update(id=existing.id, kind=existing.kind.value, status="duplicate")
    except (VaultError, KeyringError, RedactionError) as error:
        result.update(error=getattr(error, "code", "ERROR"), message=str(error))
    except FileNotFoundError:
        result.update(error="NOT_FOUND", message="no such file")
    except PermissionError:
        result.update(error="UNREADABLE", message="the file cannot be read (permissions)")
    except Exception as error:  # noqa: BLE001 - one file's failure must not end the batch
        result.update(error="INTERNAL", message=f"unexpected {type(error).__name__}; nothing of this file was kept")
    else:
        result.update(id=document.id, kind=document.kind.value, status=document.status.value)
    return result


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--case", "case_name", required=True, help="The case the files belong to.")
@click.option("--kind", type=click.Choice([k.value for k in Kind]), help="Declare the kind instead of detecting it.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of results.")
@_guard
def ingest(paths: tuple[str, ...], case_name: str, kind: str | None, as_json: bool) -> None:
    """Ingest files (directories recursively) into a case; each enters review."""
    files = _files(paths)
    results = []
    with _open_vault() as vault:
        case_info = vault.case(case_name)
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
        _print_json(results)
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


# -- reading -------------------------------------------------------------------------------------

def _clock(ms: int | None) -> str:
    if ms is None:
        return "--:--:--"
    seconds = ms // 1000
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _document_json(info: DocumentInfo, content: Extracted) -> dict[str, object]:
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
    view = vault.view(document_id, vault.user(name), actor=_acting_for(name))
    if as_json:
        _print_json(view_json(view))
        return
    click.echo(f"{view.title}\n  id {view.id}  case {view.case_name}  {view.kind.value}  {view.status.value}\n")
    for u in view.units:
        if view.kind is Kind.TRANSCRIPT:
            click.echo(f"[{_clock(u.start_ms)}] {u.speaker or '?'}: {u.text}")
        else:
            click.echo(f"--- page {u.position} ---\n{u.text}")


def _acting_for(name: str) -> str:
    return f"{_actor()} as {name}"


@main.command()
@click.argument("document_id")
@click.option("--as", "as_user", help="Show the document as this user may see it (the policy view).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_guard
def show(document_id: str, as_user: str | None, as_json: bool) -> None:
    """Show a document: metadata, then its pages or its turns with speakers and times.

    Without --as this is the operator's view, in clear; with --as USER it is what USER may see.
    """
    with _open_vault() as vault:
        if as_user:
            _show_as(vault, document_id, as_user, as_json)
            return
        info = vault.document(document_id)
        content = vault.content(document_id, actor=_actor())
    if as_json:
        _print_json(_document_json(info, content))
        return
    click.echo(f"{info.title}\n  id {info.id}  case {info.case_name}  {info.kind.value} ({info.format.value})"
               f"  {info.status.value}\n  file {info.filename!r}  {info.size_bytes} bytes"
               f"  encoding {info.text_encoding or '-'}  added {info.created_at:%Y-%m-%d %H:%M} by {info.uploaded_by}\n")
    if info.kind is Kind.TRANSCRIPT:
        for t in content.turns:
            click.echo(f"[{_clock(t.start_ms)}] {t.speaker or '?'}: {t.text}")
    else:
        for p in content.pages:
            click.echo(f"--- page {p.number} ---\n{p.text}")


# -- search ----------------------------------------------------------------------------------------

@main.command("search")
@click.argument("query")
@click.option("--as", "as_user", required=True, help="Search as this user (the policy decides what they find).")
@click.option("--case", "case_name", help="Only this case.")
@click.option("--page", default=1, show_default=True, type=int)
@click.option("--sort", type=click.Choice([s.value for s in Sort]), default=Sort.RELEVANCE.value, show_default=True,
              help="Most relevant first, or by the day each document came in (newest or oldest first).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_guard
def search_command(query: str, as_user: str, case_name: str | None, page: int, sort: str, as_json: bool) -> None:
    """Search what USER may see: words, "phrases", AND/OR/NOT, speaker:, kind:, date:, word*, word~."""
    with _open_vault() as vault, _progress("indexing") as progress, Search.open(vault, progress=progress) as search:
        results = search.search(vault.user(as_user), query, actor=_acting_for(as_user), page=page, sort=sort,
                                case=vault.case(case_name) if case_name else None)
    if as_json:
        _print_json(results.to_json())
        return
    click.echo(f"{results.total} results" + (f", page {results.page}" if results.total > 10 else ""))
    for hit in results.hits:
        where = hit.location.get("page") and f"page {hit.location['page']}" or (
            f"turn {hit.location.get('turn')} [{_clock(hit.location.get('start_ms'))}] {hit.location.get('speaker') or '?'}")
        click.echo(f"\n{hit.document_id}  {hit.case}  {hit.kind}  {hit.location['date']}  {where}  score {hit.score:.2f}")
        for snippet in hit.snippets:
            click.echo(f"  {snippet.text}")
    for name, counts in results.facets.items():
        if counts:
            click.echo(f"\n{name}: " + ", ".join(f"{k} ({v})" for k, v in list(counts.items())[:10]))


@main.command()
@click.option("--case", "case_name", help="Only this case.")
@_guard
def reindex(case_name: str | None) -> None:
    """Rebuild the search indexes from the vault (they are a cache the vault can always rebuild)."""
    with _open_vault() as vault, _progress("reindexing") as progress:
        search = Search(vault, vault.settings.index_dir)
        with search:
            count = search.reindex(vault.case(case_name) if case_name else None, progress)
    click.echo(f"{count} documents indexed")


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on a terminal (counts of documents); silent otherwise."""
    with click.progressbar(length=0, label=label, file=sys.stderr, show_pos=True,
                           hidden=not sys.stderr.isatty()) as bar:
        yield bar.update


# -- keys and audit ------------------------------------------------------------------------------

@main.group()
def keys() -> None:
    """Key status, rotation and rewrap."""


@keys.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_guard
def keys_status(as_json: bool) -> None:
    """Show key versions and what they protect. Never shows key material."""
    with _open_vault() as vault:
        status = vault.key_status()
    _echo_key_status(status, as_json)


def _echo_key_status(status: KeyStatus, as_json: bool) -> None:
    body = key_status_json(status)
    if as_json:
        _print_json(body)
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


@keys.command("rotate")
@click.option("--case", "case_name", help="Only this case's key (every case key by default).")
@click.option("--json", "as_json", is_flag=True, help="Print the key status as JSON.")
@_guard
def keys_rotate(case_name: str | None, as_json: bool) -> None:
    """Make a new version of every case key; new documents use it, older ones still read."""
    with _open_vault() as vault:
        status = vault.rotate_keys(actor=_actor(), case=vault.case(case_name) if case_name else None)
    _echo_key_status(status, as_json)


@keys.command("rewrap")
@click.option("--case", "case_name", help="Only this case (every case by default).")
@click.option("--json", "as_json", is_flag=True, help="Print the key status as JSON.")
@_guard
def keys_rewrap(case_name: str | None, as_json: bool) -> None:
    """Wrap every document key again under its case's newest key version (no file is re-read)."""
    with _open_vault() as vault:
        status = vault.rewrap(actor=_actor(), case=vault.case(case_name) if case_name else None)
    _echo_key_status(status, as_json)


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
@_guard
def audit_verify() -> None:
    """Check the audit log's hash chain; report the first broken position."""
    with _open_vault() as vault:
        report = vault.verify_audit()
    if report.intact:
        click.echo(f"audit log intact: {report.entries} entries, head {report.head.hex()[:16]}")
        return
    _fail(f"audit log broken at position {report.first_broken}: {report.reason}")


# -- demo ----------------------------------------------------------------------------------------

DEMO_CASE = "Affaire H"


def demo_corpus() -> Path:
    return Path(str(resources.files("vault") / "demo" / "corpus"))


DEMO_USERS = (("ivy", "investigator"), ("rex", "reviewer"), ("rita", "reviewer"), ("ada", "admin"))


def _demo_setup(vault: Vault) -> dict[str, tuple[str, str]]:
    """The demo corpus in one case: its identities registered, every document but the last
    reviewed by rex (suggestions accepted) and released by rita, one user per role. Returns each
    user's password and access key."""
    case_info = vault.create_case(DEMO_CASE, actor=_actor())
    keys = {}
    people = {}
    for name, role in DEMO_USERS:
        people[name], key = vault.add_user(name, role, cases=(case_info.name,) if role != "admin" else (),
                                           actor=_actor())
        password, _ = vault.reset_sign_in(name, actor=_actor(), second_factor=False)
        keys[name] = (password, key)
    manifest = json.loads((demo_corpus().parent / "manifest.json").read_text())
    for entry in manifest["identities"]:
        vault.add_identity(case_info, name=entry["name"], aliases=entry["aliases"], label=entry["pseudonym"],
                           category=entry["category"], actor=people["rex"].id)
    entries = manifest["documents"]
    for i, entry in enumerate(entries):
        with (demo_corpus() / entry["file"]).open("rb") as source:
            document = vault.ingest(source, case=case_info, filename=entry["file"], actor=people["rex"].id)
        click.echo(f"{document.id}  {document.kind.value:<12}  {entry['file']}")
        if i == len(entries) - 1:
            continue  # one left in the review queue
        masked = vault.masked(document.id)
        pending = [str(r["id"]) for r in [*(r for u in masked.units for r in u.suggestions), *masked.title_suggestions]
                   if r["state"] == "pending"]
        if pending:
            vault.decide(document.id, people["rex"], pending, accept=True, actor="rex (demo)")
        vault.release(document.id, people["rita"], actor="rita (demo)")
    return keys


@main.command()
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=None,
              help="Where the demo vault lives (default: a new temporary directory).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--serve/--no-serve", default=True, show_default=True, help="Serve the web app and API.")
@_guard
def demo(directory: Path | None, host: str, port: int, serve: bool) -> None:
    """A demo vault with the shipped corpus (fictional names), a user per role, served locally."""
    # The demo always runs on the embedded default (SQLite and files in --dir).
    environ = {k: v for k, v in os.environ.items() if k not in ("CASEVAULT_DATA", "CASEVAULT_DATABASE_URL")}
    directory = directory or Path(tempfile.mkdtemp(prefix="casevault-demo-"))
    # the demo signs in without a second factor, and on plain-http loopback its cookies cannot be Secure
    settings = dataclasses.replace(Settings.from_env(environ), data_dir=directory, second_factor=False,
                                   secure_cookies=not _loopback(host))
    passphrase = settings.passphrase or f"demo-{secrets.token_urlsafe(12)}"
    keys: dict[str, tuple[str, str]] = {}
    if (directory / "casevault.db").exists():
        if not settings.passphrase:
            _fail(f"a demo vault exists in {directory}; set CASEVAULT_PASSPHRASE to the passphrase printed "
                  "when it was made, or choose another --dir")
        vault = Vault.open(settings, passphrase)
    else:
        vault = Vault.initialize(settings, passphrase, actor=_actor())
        keys = _demo_setup(vault)
    click.echo(f"\ndemo vault in {directory}, case {DEMO_CASE!r}")
    if not settings.passphrase:
        click.echo(f"passphrase (shown once): {passphrase}")
    if keys:
        click.echo("users (passwords and access keys shown once; no second factor in the demo):")
    for (name, role) in DEMO_USERS:
        if name in keys:
            password, key = keys[name]
            click.echo(f"  {role:<13} {name:<5} password {password}  access key {key}")
    if not serve:
        vault.close()
        return
    click.echo(f"open http://{host}:{port}/ and sign in as ivy (investigator), rex or rita (reviewers) or "
               f"ada (admin)\nthe API is under http://{host}:{port}/api/v1 (Ctrl-C stops); try:\n"
               f"  curl -s -H 'Authorization: Bearer <ivy's key>' -H 'Content-Type: application/json' "
               f"-d '{{\"q\": \"extradition\"}}' http://{host}:{port}/api/v1/search")
    _serve(dataclasses.replace(settings, passphrase=passphrase), vault, host, port)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _serve(settings: Settings, vault: Vault, host: str, port: int) -> None:
    import uvicorn

    if not settings.secure_cookies and not _loopback(host):
        vault.close()
        _fail("CASEVAULT_SECURE_COOKIES=false is only for plain http on a loopback address; serve "
              "behind TLS with secure cookies, or bind --host 127.0.0.1")

    from web._app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # paths can hold case names (stored encrypted): the app logs route templates instead.
    # uvicorn's own proxy headers are off: it would believe any X-Forwarded-For from a loopback
    # peer; the app trusts only CASEVAULT_TRUSTED_PROXIES (web._sessions.client_address)
    uvicorn.run(create_app(settings, vault=vault), host=host, port=port, log_level="info", access_log=False,
                proxy_headers=False)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@_guard
def serve(host: str, port: int) -> None:
    """Serve the web app and the JSON API. Unseals the vault first: a wrong passphrase stops here."""
    settings = _settings()
    passphrase = _passphrase(settings)
    vault = Vault.open(settings, passphrase)
    click.echo(f"vault unsealed; serving on http://{host}:{port}", err=True)
    _serve(dataclasses.replace(settings, passphrase=passphrase), vault, host, port)


# -- users ---------------------------------------------------------------------------------------

@main.group()
def user() -> None:
    """Users, their roles and case memberships."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["investigator", "reviewer", "admin"]))
@click.option("--case", "cases", multiple=True, help="A case the user belongs to (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_guard
def user_add(name: str, role: str, cases: tuple[str, ...], as_json: bool) -> None:
    """Add a user; prints their one-time enrolment code (good for 72 hours, stored only as a
    digest): they redeem it at /enrol to choose their password and second factor and get their
    access key. Memberships made here (by the operator) hold at once."""
    with _open_vault() as vault:
        info, code = vault.add_user(name, role, cases=cases, actor=_actor(), enrolment=True)
    if as_json:
        _print_json({"name": info.name, "role": info.role.value, "enrolment_code": code})
        return
    click.echo(f"user {info.name} ({info.role.value}) added; their enrolment code, shown once "
               f"(redeem at /enrol within 72 hours):\n  {code}")


@user.command("reset")
@click.argument("name")
@_guard
def user_reset(name: str) -> None:
    """Revoke a user's password, second factor, access keys and sessions; prints a new
    enrolment code, once. Their memberships stay confirmed (the operator holds the code)."""
    with _open_vault() as vault:
        code = vault.reset_credentials(name, actor=_actor())
    click.echo(f"{name}'s credentials are revoked; their new enrolment code, shown once:\n  {code}")


@user.command("confirm")
@click.argument("name")
@click.option("--case", "case_name", required=True, help="The case of the waiting membership.")
@click.option("--refuse", is_flag=True, help="Refuse it instead: the membership is removed.")
@_guard
def user_confirm(name: str, case_name: str, refuse: bool) -> None:
    """Confirm a membership an admin made (or left waiting): the only way for a case that has no
    reviewer yet. `casevault user waiting` lists them."""
    with _open_vault() as vault:
        case_id = vault.case(case_name).id
        waiting = [c for c in vault.confirmations() if c.user_name == name and c.case_id == case_id]
        if not waiting:
            _fail(f"no membership of {name} in that case waits for a confirmation; `casevault user waiting` lists them")
        vault.confirm(waiting[0].id, approve=not refuse, actor=_actor())
    click.echo(f"{name}'s membership {'refused and removed' if refuse else 'confirmed'}")


@user.command("waiting")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_guard
def user_waiting(as_json: bool) -> None:
    """List the memberships waiting for a reviewer's (or the operator's) confirmation."""
    with _open_vault() as vault:
        names = {c.id: c.name for c in vault.cases()}
        rows = [{"user": c.user_name, "role": c.role.value, "case": names.get(c.case_id, c.case_id),
                 "reason": c.reason, "requested_by": c.requested_by, "awaiting_enrolment": c.awaiting_enrolment}
                for c in vault.confirmations()]
    if as_json:
        _print_json(rows)
        return
    for row in rows:
        click.echo(f"{row['user']:<24} {row['role']:<13} {row['case']}  ({row['reason']} by {row['requested_by']}"
                   f"{'; not enrolled yet' if row['awaiting_enrolment'] else ''})")


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_guard
def user_list(as_json: bool) -> None:
    """List users with their roles and number of cases."""
    with _open_vault() as vault:
        people = vault.users()
    if as_json:
        _print_json([{"name": u.name, "role": u.role.value, "active": u.active, "cases": sorted(u.cases)}
                     for u in people])
        return
    for u in people:
        click.echo(f"{u.name:<24} {u.role.value:<13} {len(u.cases)} cases{'' if u.active else '  (disabled)'}")


# -- identities and review -----------------------------------------------------------------------

@main.group()
def identity() -> None:
    """Protected identities: real names, aliases and pseudonyms."""


@identity.command("add")
@click.option("--case", "case_name", required=True)
@click.option("--name", required=True, help="The real name.")
@click.option("--alias", "aliases", multiple=True, help="Another way the identity is written (repeatable).")
@click.option("--pseudonym", help='The label shown instead ("H"); assigned ("Person 3") when omitted.')
@click.option("--category", default="person", show_default=True,
              type=click.Choice(["person", "organisation", "phone", "email", "id_number", "place", "other"]))
@_guard
def identity_add(case_name: str, name: str, aliases: tuple[str, ...], pseudonym: str | None, category: str) -> None:
    """Register an identity; every document of its pseudonym scope is masked again."""
    with _open_vault() as vault:
        added = vault.add_identity(vault.case(case_name), name=name, aliases=list(aliases), label=pseudonym,
                                   category=category, actor=_actor())
    click.echo(f"{added.id}  {added.label}  ({added.category.value}, {len(added.aliases)} aliases)")


@identity.command("edit")
@click.argument("pseudonym")
@click.option("--case", "case_name", required=True)
@click.option("--name", help="A new real name (the old one stays an alias unless removed).")
@click.option("--alias", "add_aliases", multiple=True, help="An alias to add (repeatable).")
@click.option("--remove-alias", "remove_aliases", multiple=True, help="An alias to remove (repeatable).")
@click.option("--pseudonym", "new_label", help="A new label for the identity.")
@_guard
def identity_edit(pseudonym: str, case_name: str, name: str | None, add_aliases: tuple[str, ...],
                  remove_aliases: tuple[str, ...], new_label: str | None) -> None:
    """Change the identity shown as PSEUDONYM; every document of its scope is masked again."""
    with _open_vault() as vault:
        edited = vault.edit_identity(vault.case(case_name), pseudonym, name=name, add_aliases=list(add_aliases),
                                     remove_aliases=list(remove_aliases), label=new_label, actor=_actor())
    click.echo(f"{edited.id}  {edited.label}  ({edited.category.value}, {len(edited.aliases)} aliases)")


@identity.command("list")
@click.option("--case", "case_name", required=True)
@click.option("--as", "as_user", help="List as this user may see it.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_guard
def identity_list(case_name: str, as_user: str | None, as_json: bool) -> None:
    """List the identities of a case: labels for investigators, real names for reviewers."""
    with _open_vault() as vault:
        case_info = vault.case(case_name)
        rows = vault.identity_listing(case_info, vault.user(as_user) if as_user else None,
                                      actor=_acting_for(as_user) if as_user else _actor())
    if as_json:
        _print_json(rows)
        return
    for row in rows:
        names = f"  {row['name']}  aliases: {', '.join(row['aliases'])}" if "name" in row else ""
        click.echo(f"{row['id']}  {row['pseudonym']:<14} {row['category']:<12}{names}")


@main.group()
def review() -> None:
    """Review documents: decide suggestions, then approve (release) them."""


@review.command("list")
@click.option("--as", "as_user", help="Only the documents this reviewer may review.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_guard
def review_list(as_user: str | None, as_json: bool) -> None:
    """Documents waiting for review, with their undecided suggestions."""
    with _open_vault() as vault:
        waiting = vault.in_review(vault.user(as_user) if as_user else None)
    if as_json:
        _print_json(review_queue_json(waiting))
        return
    for d in waiting:
        click.echo(f"{d.id}  {d.kind.value:<12} {d.pending_suggestions:>4} undecided  {d.case_name}")


@review.command("show")
@click.argument("document_id")
@click.option("--as", "as_user", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_guard
def review_show(document_id: str, as_user: str, as_json: bool) -> None:
    """The spans masked for registered identities and the suggestions to decide."""
    with _open_vault() as vault:
        view = vault.review_view(document_id, vault.user(as_user), actor=_acting_for(as_user))
    body = review_json(view)
    if as_json:
        _print_json(body)
        return
    for span in view.spans:
        click.echo(f"masked    {span['unit']}.{span['field']:<7} {span['text']!r} -> {span['identity']}")
    for r in body["suggestions"]:  # type: ignore[attr-defined]
        click.echo(f"{r['id']:<14} {r['state']:<9} {r['category']:<12} {r['text']!r}")


def _identity_id(vault: Vault, document_id: str, label: str) -> str:
    return vault.identity(vault.case(vault.document(document_id).case_id), label).id


def _decide(document_id: str, ids: tuple[str, ...], as_user: str, accept: bool, identity_label: str | None) -> None:
    with _open_vault() as vault:
        user = vault.user(as_user)
        identity_id = _identity_id(vault, document_id, identity_label) if identity_label else None
        masked = vault.decide(document_id, user, list(ids), accept=accept, identity_id=identity_id,
                              actor=_acting_for(as_user))
    click.echo(f"{'accepted' if accept else 'rejected'} {len(ids)}; {masked.undecided} undecided")


@review.command("accept")
@click.argument("document_id")
@click.argument("suggestion_ids", nargs=-1, required=True)
@click.option("--as", "as_user", required=True)
@click.option("--identity", "identity_label", help="Link the accepted spans to this identity (its pseudonym).")
@_guard
def review_accept(document_id: str, suggestion_ids: tuple[str, ...], as_user: str, identity_label: str | None) -> None:
    """Accept suggestions: they stay masked (as their category, or as the identity given)."""
    _decide(document_id, suggestion_ids, as_user, True, identity_label)


@review.command("reject")
@click.argument("document_id")
@click.argument("suggestion_ids", nargs=-1, required=True)
@click.option("--as", "as_user", required=True)
@_guard
def review_reject(document_id: str, suggestion_ids: tuple[str, ...], as_user: str) -> None:
    """Reject suggestions: the text shows as written."""
    _decide(document_id, suggestion_ids, as_user, False, None)


@review.command("add")
@click.argument("document_id")
@click.option("--unit", type=int, required=True, help="The page number or turn index (see `review show`); any for the title.")
@click.option("--start", type=int, required=True, help="First character of the span in that unit.")
@click.option("--end", type=int, required=True, help="One past the last character.")
@click.option("--field", "field_name", type=click.Choice(["text", "speaker", "title"]), default="text", show_default=True)
@click.option("--category", default="other", show_default=True, help="Shown as [category], e.g. location.")
@click.option("--identity", "identity_label", help="Mask the span as this identity (its pseudonym) instead.")
@click.option("--as", "as_user", required=True)
@_guard
def review_add(document_id: str, unit: int, start: int, end: int, field_name: str, category: str,
               identity_label: str | None, as_user: str) -> None:
    """Mask a span by hand, as a category such as [location] or as an identity."""
    with _open_vault() as vault:
        identity_id = _identity_id(vault, document_id, identity_label) if identity_label else None
        masked = vault.add_span(document_id, vault.user(as_user), unit=unit, start=start, end=end,
                                field_name=field_name, category=category, identity_id=identity_id,
                                actor=_acting_for(as_user))
    click.echo(f"span added; {masked.undecided} undecided")


@review.command("approve")
@click.argument("document_id")
@click.option("--as", "as_user", required=True)
@_guard
def review_approve(document_id: str, as_user: str) -> None:
    """Release a document to the investigators of its case (not by its uploader; none undecided)."""
    with _open_vault() as vault:
        released = vault.release(document_id, vault.user(as_user), actor=_acting_for(as_user))
    click.echo(f"{released.id} released")


# -- unmasking -----------------------------------------------------------------------------------

@main.group()
def unmask() -> None:
    """Ask for a real name, and decide such requests (four eyes, time-limited, audited)."""


@unmask.command("request")
@click.option("--case", "case_name", required=True)
@click.option("--identity", "label", required=True, help="The pseudonym, e.g. 'Caller 2'.")
@click.option("--reason", required=True, help="Why this name is needed for this case (at least 20 characters).")
@click.option("--as", "as_user", required=True)
@_guard
def unmask_request(case_name: str, label: str, reason: str, as_user: str) -> None:
    """An investigator asks to see one identity's real name."""
    with _open_vault() as vault:
        request = vault.request_unmask(vault.user(as_user), vault.case(case_name), label, reason,
                                       actor=_acting_for(as_user))
    click.echo(f"{request.id}  pending")


def _decide_unmask(request_id: str, as_user: str, approve: bool, hours: float = 24) -> None:
    if not 0 < hours <= 30 * 24:  # also NaN and inf, which no duration holds
        _fail("a grant lasts from a few minutes to 30 days (720 hours)")
    with _open_vault() as vault:
        decided = vault.decide_unmask(request_id, vault.user(as_user), approve=approve,
                                      valid_for=timedelta(hours=hours), actor=_acting_for(as_user))
    until = f" until {decided.expires_at:%Y-%m-%d %H:%M} UTC" if decided.expires_at else ""
    click.echo(f"{decided.id}  {decided.state.value}{until}")


@unmask.command("approve")
@click.argument("request_id")
@click.option("--as", "as_user", required=True)
@click.option("--hours", default=24.0, show_default=True, help="How long the grant lasts (at most 30 days).")
@_guard
def unmask_approve(request_id: str, as_user: str, hours: float) -> None:
    """Another reviewer of the case grants the request for a limited time."""
    _decide_unmask(request_id, as_user, True, hours)


@unmask.command("deny")
@click.argument("request_id")
@click.option("--as", "as_user", required=True)
@_guard
def unmask_deny(request_id: str, as_user: str) -> None:
    """A reviewer of the case refuses the request."""
    _decide_unmask(request_id, as_user, False)


@unmask.command("revoke")
@click.argument("request_id")
@click.option("--as", "as_user", required=True)
@_guard
def unmask_revoke(request_id: str, as_user: str) -> None:
    """A reviewer of the case ends a grant before it expires."""
    with _open_vault() as vault:
        vault.revoke_unmask(request_id, vault.user(as_user), actor=_acting_for(as_user))
    click.echo(f"{request_id}  revoked")


@unmask.command("list")
@click.option("--case", "case_name", required=True)
@click.option("--as", "as_user", help="List as this user may see them.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_guard
def unmask_list(case_name: str, as_user: str | None, as_json: bool) -> None:
    """Unmask requests of a case: all for its reviewers, one's own for an investigator."""
    with _open_vault() as vault:
        case_info = vault.case(case_name)
        requests = vault.unmask_requests(case_info, vault.user(as_user) if as_user else None)
        labels = {i.id: i.label for i in vault.identities(case_info)}
    rows = [unmask_json(r, labels) for r in requests]
    if as_json:
        _print_json(rows)
        return
    for row in rows:
        click.echo(f"{row['id']}  {row['identity']:<12} {row['state']:<9} {row['justification']}")
