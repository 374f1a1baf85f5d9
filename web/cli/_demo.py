"""The demo corpus in a vault: the script `casevault demo` runs before it serves.

One case of fictional court records and call transcripts (shipped in vault/demo), its identities
registered, every document but the last reviewed by rex (suggestions accepted) and released by
rita, and one user per role.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import click

from web.cli._operator import actor

if TYPE_CHECKING:
    from vault import Vault

DEMO_CASE = "Affaire H"
DEMO_USERS = (("ivy", "investigator"), ("rex", "reviewer"), ("rita", "reviewer"), ("ada", "admin"))


def demo_corpus() -> Path:
    return Path(str(resources.files("vault") / "demo" / "corpus"))


def set_up(vault: Vault) -> dict[str, tuple[str, str]]:
    """Fill a new vault with the demo; returns each user's password and access key."""
    case_info = vault.create_case(DEMO_CASE, actor=actor())
    keys = {}
    people = {}
    for name, role in DEMO_USERS:
        people[name], key = vault.add_user(name, role, cases=(case_info.name,) if role != "admin" else (),
                                           actor=actor())
        password, _ = vault.reset_sign_in(name, actor=actor(), second_factor=False)
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
