"""How a command reaches the vault: as the operator, with the passphrase or shares, by the names
given.

Every command reads Settings once from the environment, unseals the vault and closes it. It
unseals with CASEVAULT_PASSPHRASE, else with the shares in the file CASEVAULT_UNSEAL_SHARES (one
a line), else on a terminal it asks: for the shares one after another when the vault was split
and has no passphrase any more, for the passphrase otherwise. The vault is imported here, when a
command first needs it, never when the command line starts.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from web.cli._exit import fail
from web.cli._hints import about

if TYPE_CHECKING:
    from vault import CaseInfo, Settings, UserInfo, Vault


def actor() -> str:
    return f"operator:{getpass.getuser()}"


def acting_for(name: str) -> str:
    return f"{actor()} as {name}"


def settings() -> Settings:
    from vault import Settings

    return Settings.from_env(os.environ)


def passphrase(settings: Settings, *, confirm: bool = False) -> str:
    if settings.passphrase:
        return settings.passphrase
    if not sys.stdin.isatty():
        fail("no passphrase: set CASEVAULT_PASSPHRASE, or run the command in a terminal to be asked")
    return click.prompt("Vault passphrase", hide_input=True, confirmation_prompt=confirm, err=True)


def unseal_secret(settings: Settings) -> dict[str, Any]:
    """How to unseal, as arguments of ``Vault.open``: the passphrase, or shares with the labels
    their errors name (a line of the file, or the order typed). Never echoes a share."""
    if settings.passphrase:
        return {"passphrase": settings.passphrase}
    if settings.unseal_shares is not None:
        return _shares_from_file(settings.unseal_shares)
    if not sys.stdin.isatty():
        fail("no passphrase or shares: set CASEVAULT_PASSPHRASE or CASEVAULT_UNSEAL_SHARES (a file of shares, "
             "one a line), or run the command in a terminal to be asked")
    from vault import Vault

    seal = Vault.seal_of(settings)
    if seal.passphrase is None and seal.threshold is not None:
        return _shares_typed(seal.threshold, seal.split_id or 0)
    return {"passphrase": passphrase(settings)}


def restore_secret(settings: Settings) -> dict[str, Any]:
    """How to open a backup's keys (there is no vault to ask how it unseals yet): the passphrase,
    else the shares in CASEVAULT_UNSEAL_SHARES, else the passphrase asked on a terminal."""
    if not settings.passphrase and settings.unseal_shares is not None:
        return _shares_from_file(settings.unseal_shares)
    return {"passphrase": passphrase(settings)}


def _shares_from_file(path: Path) -> dict[str, Any]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        fail(f"CASEVAULT_UNSEAL_SHARES names {path}, which cannot be read as a text file of shares")
    given = [(n, line.strip()) for n, line in enumerate(lines, 1) if line.strip()]
    return {"shares": [share for _, share in given], "labels": [f"line {n} of {path}" for n, _ in given]}


def _shares_typed(threshold: int, split_id: int) -> dict[str, Any]:
    """Ask for shares one after another until ``threshold`` different ones are given; a share that
    is mistyped or of another split is refused at once and asked again."""
    from keys import ShareInvalid, read_share

    shares: dict[int, str] = {}
    click.echo(f"this vault unseals with {threshold} shares of its split; type them one at a time", err=True)
    while len(shares) < threshold:
        label = f"share {len(shares) + 1} of {threshold}"
        typed = click.prompt(label.capitalize(), hide_input=True, err=True)
        try:
            info = read_share(typed, "that share")
        except ShareInvalid as error:
            click.echo(f"{error}", err=True)
            continue
        if info.identifier != split_id:
            click.echo("that share belongs to another split; give a share of the newest split", err=True)
        elif info.index in shares:
            click.echo("that share was given already; give another one", err=True)
        else:
            shares[info.index] = typed
    return {"shares": list(shares.values()), "labels": [f"share {n}" for n in range(1, len(shares) + 1)]}


def open_vault_unsealed(chosen: Settings) -> Vault:
    from vault import Vault

    return Vault.open(chosen, **unseal_secret(chosen), actor=actor())


@contextmanager
def open_vault() -> Iterator[Vault]:
    chosen = settings()
    with open_vault_unsealed(chosen) as vault:
        head = vault.feed.latest_index_change()
        yield vault
        if vault.feed.latest_index_change() > head:
            index_now(vault)


def index_now(vault: Vault) -> None:
    """Bring the search indexes up to what this command wrote (an ingest, a decision, a release,
    a re-masking), so the next search neither misses it nor has to apply it first. The write is
    already committed: if a server holds the index, say so and leave it to the server's follower."""
    from search import Search, SearchError

    try:
        Search.open(vault).close()
    except SearchError as error:
        click.echo(f"note: the search index was not brought up to date now ({error}); "
                   "the server or the next search will do it", err=True)


def case_named(vault: Vault, name: str) -> CaseInfo:
    with about("case"):
        return vault.case(name)


def user_named(vault: Vault, name: str) -> UserInfo:
    with about("user"):
        return vault.user(name)
