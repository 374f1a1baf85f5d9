"""The demo corpus in a vault: the script `casevault demo` runs before it serves.

One case of fictional court records and call transcripts (shipped in vault/demo), its identities
registered, and one user per role. Every document but the last is uploaded and reviewed by rex as a
reviewer would (the suggestions the manifest's "demo_review" names rejected, a speaker label that is
a pseudonym or an alias linked to its identity, the rest accepted) and released by rita (four eyes).
The last is uploaded by ivy, an investigator, and left in the review queue: rex and rita may both
release it.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from web.cli._operator import actor

if TYPE_CHECKING:
    from vault import UserInfo, Vault

DEMO_CASE = "Affaire H"
DEMO_USERS = (("ivy", "investigator"), ("rex", "reviewer"), ("rita", "reviewer"), ("ada", "admin"))


def demo_corpus() -> Path:
    return Path(str(resources.files("vault") / "demo" / "corpus"))


def manifest() -> dict[str, Any]:
    return json.loads((demo_corpus().parent / "manifest.json").read_text())  # type: ignore[no-any-return]


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
    corpus = manifest()
    identities = {}  # every spelling of an identity (pseudonym, name, aliases) -> its id
    for entry in corpus["identities"]:
        identity = vault.add_identity(case_info, name=entry["name"], aliases=entry["aliases"],
                                      label=entry["pseudonym"], category=entry["category"], actor=people["rex"].id)
        identities |= {spelling: identity.id for spelling in (entry["pseudonym"], entry["name"], *entry["aliases"])}
    rejected = {entry["text"] for entry in corpus["demo_review"]["reject"]}
    entries = corpus["documents"]
    for i, entry in enumerate(entries):
        queued = i == len(entries) - 1  # left in the review queue, uploaded by someone both reviewers may check
        uploader = people["ivy"] if queued else people["rex"]
        with (demo_corpus() / entry["file"]).open("rb") as source:
            document = vault.ingest(source, case=case_info, filename=entry["file"], actor=uploader.id)
        click.echo(f"{document.id}  {document.kind.value:<12}  {entry['file']}")
        if not queued:
            _review(vault, document.id, people["rex"], rejected, identities)
            vault.release(document.id, people["rita"], actor="rita (demo)")
    return keys


def _review(vault: Vault, document_id: str, reviewer: UserInfo, rejected: set[str],
            identities: dict[str, str]) -> None:
    """Decide every pending suggestion as the manifest's demo review says."""
    masked = vault.masked(document_id)
    pending = [r for r in [*(r for u in masked.units for r in u.suggestions), *masked.title_suggestions]
               if r["state"] == "pending"]
    linked: dict[str, list[str]] = {}
    for record in pending:
        if record.get("field") == "speaker" and record["text"] in identities:
            linked.setdefault(identities[str(record["text"])], []).append(str(record["id"]))
    for identity_id, ids in linked.items():
        vault.decide(document_id, reviewer, ids, accept=True, identity_id=identity_id, actor="rex (demo)")
    done = {i for ids in linked.values() for i in ids}
    for accept in (False, True):
        ids = [str(r["id"]) for r in pending if str(r["id"]) not in done and (r["text"] not in rejected) == accept]
        if ids:
            vault.decide(document_id, reviewer, ids, accept=accept, actor="rex (demo)")
    _not_identity(vault, document_id, reviewer)


def _not_identity(vault: Vault, document_id: str, reviewer: UserInfo) -> None:
    """Mark the alias mentions that stand for someone else (the clerk "Hadrien Mercadier" is not H)
    as the manifest's demo review says: left as written there, masked everywhere else."""
    review = vault.review_view(document_id, reviewer, actor="rex (demo)")
    texts = {(position, field_name): text for position, field_name, text in review.units}
    for rule in manifest()["demo_review"]["not_identity"]:
        for span in review.spans:
            text = texts.get((int(span["unit"]), str(span["field"])), "")  # type: ignore[call-overload]
            if span["text"] == rule["mention"] and text[int(span["start"]):].startswith(rule["where"]):  # type: ignore[call-overload]
                vault.corrections.not_this_identity(
                    document_id, reviewer, unit=int(span["unit"]), start=int(span["start"]),  # type: ignore[call-overload]
                    end=int(span["end"]), identity_id=str(span["identity_id"]), field_name=str(span["field"]),  # type: ignore[call-overload]
                    actor="rex (demo)")
