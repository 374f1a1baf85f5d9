"""`casevault serve` and `casevault demo`: the web app and the JSON API, on a vault unsealed first.

The only commands that import the web stack (uvicorn, FastAPI, Jinja2), and only once they run.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import os
import secrets
import shlex
import socket
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from web.cli import _demo
from web.cli._exit import fail, guard
from web.cli._operator import actor, open_vault_unsealed, settings

if TYPE_CHECKING:
    from vault import Settings, Vault


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@guard
def serve(host: str, port: int) -> None:
    """Serve the web app and the JSON API. With CASEVAULT_PASSPHRASE or CASEVAULT_UNSEAL_SHARES it
    unseals the vault first (a wrong one stops here); with neither it starts sealed, and custodians
    give their shares at /unseal (or POST /api/v1/seal/shares)."""
    chosen = settings()
    if not chosen.passphrase and chosen.unseal_shares is None:
        from vault import Vault

        seal = Vault.seal_of(chosen)  # the vault must exist, and say how it unseals
        how = f"any {seal.threshold} of {seal.shares} shares" if seal.threshold else "no split: it cannot unseal"
        click.echo(f"vault sealed ({how}); serving on http://{host}:{port}, custodians give their shares at "
                   f"http://{host}:{port}/unseal", err=True)
        _serve(chosen, None, host, port)
        return
    vault = open_vault_unsealed(chosen)
    if chosen.passphrase:
        vault.record(actor=actor(), action="keys.unseal", details={"by": "passphrase"})
    click.echo(f"vault unsealed; serving on http://{host}:{port}", err=True)
    _serve(chosen, vault, host, port)


@click.command()
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=None,
              help="Where the demo vault lives (default: a new temporary directory).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--serve/--no-serve", default=True, show_default=True, help="Serve the web app and API.")
@guard
def demo(directory: Path | None, host: str, port: int, serve: bool) -> None:
    """A demo vault with the shipped corpus (fictional names), a user per role, served locally."""
    if serve:
        _check_port_free(host, port)  # before anything is built: a taken port leaves no half-made demo behind
    from vault import Settings, Vault

    # The demo always runs on the embedded default (SQLite and files in --dir).
    environ = {k: v for k, v in os.environ.items() if k not in ("CASEVAULT_DATA", "CASEVAULT_DATABASE_URL")}
    directory = directory or Path(tempfile.mkdtemp(prefix="casevault-demo-"))
    # the demo signs in without a second factor, and on plain-http loopback its cookies cannot be Secure
    chosen = dataclasses.replace(Settings.from_env(environ), data_dir=directory, second_factor=False,
                                 secure_cookies=not _loopback(host))
    secret = chosen.passphrase or f"demo-{secrets.token_urlsafe(12)}"
    keys: dict[str, tuple[str, str]] = {}
    if (directory / "casevault.db").exists():
        if not chosen.passphrase:
            fail(f"a demo vault exists in {directory}; set CASEVAULT_PASSPHRASE to the passphrase printed "
                 "when it was made, or choose another --dir")
        vault = Vault.open(chosen, secret)
    else:
        vault = Vault.initialize(chosen, secret, actor=actor())
        keys = _demo.set_up(vault)
    click.echo(f"\ndemo vault in {directory}, case {_demo.DEMO_CASE!r}")
    if not chosen.passphrase:
        click.echo(f"passphrase (shown once): {secret}")
    if keys:
        click.echo("users (passwords and access keys shown once; no second factor in the demo):")
    for (name, role) in _demo.DEMO_USERS:
        if name in keys:
            password, key = keys[name]
            click.echo(f"  {role:<13} {name:<5} password {password}  access key {key}")
    click.echo("to use the casevault command on this vault (a new shell, or after Ctrl-C):\n"
               f"  export CASEVAULT_DATA={shlex.quote(str(directory))} CASEVAULT_PASSPHRASE="
               + (shlex.quote(secret) if not chosen.passphrase else "\"$CASEVAULT_PASSPHRASE\"  # the one set now")
               + "\n  unset CASEVAULT_DATABASE_URL  # the demo vault is on SQLite in that directory\n"
               "  casevault review list --as rex")
    if not serve:
        vault.close()
        return
    click.echo(f"open http://{host}:{port}/ and sign in as ivy (investigator), rex or rita (reviewers) or "
               f"ada (admin)\nthe API is under http://{host}:{port}/api/v1 (Ctrl-C stops); try:\n"
               f"  curl -s -H 'Authorization: Bearer <ivy's key>' -H 'Content-Type: application/json' "
               f"-d '{{\"q\": \"extradition\"}}' http://{host}:{port}/api/v1/search")
    _serve(dataclasses.replace(chosen, passphrase=secret), vault, host, port)


def _check_port_free(host: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        fail(f"cannot serve on {host}: no such address; choose another --host")
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no hindrance
        try:
            probe.bind(address)
        except OSError:
            fail(f"port {port} on {host} is taken (another server is running?); choose another with --port, "
                 "or stop the other server")


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _serve(settings: Settings, vault: Vault | None, host: str, port: int) -> None:
    import uvicorn

    if not settings.secure_cookies and not _loopback(host):
        if vault is not None:
            vault.close()
        fail("CASEVAULT_SECURE_COOKIES=false is only for plain http on a loopback address; serve "
             "behind TLS with secure cookies, or bind --host 127.0.0.1")

    from web._app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # paths can hold case names (stored encrypted): the app logs route templates instead.
    # uvicorn's own proxy headers are off: it would believe any X-Forwarded-For from a loopback
    # peer; the app trusts only CASEVAULT_TRUSTED_PROXIES (web._sessions.client_address)
    uvicorn.run(create_app(settings, vault=vault), host=host, port=port, log_level="info", access_log=False,
                proxy_headers=False)
