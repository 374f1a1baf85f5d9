"""How a command reaches the vault: as the operator, with the passphrase, by the names given.

Every command reads Settings once from the environment, opens the vault with the passphrase
(CASEVAULT_PASSPHRASE, or a prompt on a terminal) and closes it. The vault is imported here,
when a command first needs it, never when the command line starts.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

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


@contextmanager
def open_vault() -> Iterator[Vault]:
    from vault import Vault

    chosen = settings()
    with Vault.open(chosen, passphrase(chosen)) as vault:
        head = vault.latest_index_change()
        yield vault
        if vault.latest_index_change() > head:
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
