"""The re-identification map: protected identities, their aliases and pseudonym labels.

Real names and aliases are encrypted under the scope's re-identification key, a key of its own
purpose kept apart from the document keys. Labels ("H", "Caller 2") are encrypted under the
scope's label key and kept unique in the scope by a keyed digest. The matcher built from the
aliases lives only in memory.
"""

from __future__ import annotations

import enum
import json
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from keys import Context, keyed_digest
from redaction import Alias, AliasMatcher
from vault._keystore import KeyStore
from vault._models import CaseRow, IdentityRow, PseudonymScopeRow, new_id, utcnow
from vault.errors import Conflict, InvalidInput, NotFound

MAX_NAME = 300
MAX_ALIASES = 100


class IdentityCategory(enum.StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"
    PHONE = "phone"
    EMAIL = "email"
    ID_NUMBER = "id_number"
    PLACE = "place"
    OTHER = "other"

    @property
    def label_stem(self) -> str:
        return {"id_number": "Document", "email": "Email"}.get(self.value, self.value.capitalize())


@dataclass(frozen=True, slots=True)
class Identity:
    """An identity with its real name: only for code that the policy has already cleared."""

    id: str
    scope: str  # the case id, or ARCHIVE_SCOPE
    category: IdentityCategory
    label: str
    name: str
    aliases: tuple[str, ...]
    created_at: datetime


def _clean(text: str, what: str) -> str:
    text = " ".join(unicodedata.normalize("NFC", text).split())
    if not text:
        raise InvalidInput(f"the {what} is empty")
    if len(text) > MAX_NAME:
        raise InvalidInput(f"the {what} is longer than {MAX_NAME} characters")
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise InvalidInput(f"the {what} contains control characters")
    return text


def parse_category(value: str) -> IdentityCategory:
    try:
        return IdentityCategory(value)
    except ValueError:
        known = ", ".join(c.value for c in IdentityCategory)
        raise InvalidInput(f"unknown category {value!r}; use one of {known}") from None


ARCHIVE_SCOPE = "archive"


class IdentityMap:
    """The identities of every pseudonym scope, read and written through one key store.

    A scope is a case's own id (the default: the same person is unlinkable across cases) or
    ``ARCHIVE_SCOPE``, shared by every case that opted in. Each scope has its own keys and an
    epoch that moves with every change to its identities; matchers are cached per (scope, epoch),
    so a change made by another process is seen at the next read.
    """

    def __init__(self, keys: KeyStore) -> None:
        self._keys = keys
        self._matchers: dict[tuple[str, int], AliasMatcher] = {}

    def create_scope(self, session: Session, scope: str) -> None:
        session.add(PseudonymScopeRow(id=scope, epoch=0))
        session.flush()
        self._keys.new_scope_keys(session, scope)

    @staticmethod
    def scope_of(session: Session, case_id: str) -> str:
        scope = session.scalar(select(CaseRow.scope).where(CaseRow.id == case_id))
        if scope is None:
            raise NotFound("no such case; `casevault case list` shows the cases")
        return scope

    @staticmethod
    def epoch(session: Session, scope: str) -> int:
        return session.scalar(select(PseudonymScopeRow.epoch).where(PseudonymScopeRow.id == scope)) or 0

    def _bump(self, session: Session, scope: str) -> int:
        session.execute(update(PseudonymScopeRow).where(PseudonymScopeRow.id == scope)
                        .values(epoch=PseudonymScopeRow.epoch + 1))
        return self.epoch(session, scope)

    def _label_digest(self, scope: str, label: str) -> bytes:
        return keyed_digest(self._keys.system["case-name"], f"identity-label/{scope}", label.casefold().encode())

    def add(self, session: Session, case_id: str, *, name: str, aliases: list[str], label: str | None,
            category: IdentityCategory, actor: str) -> Identity:
        """Register an identity in the scope of ``case_id``; the scope's epoch moves."""
        scope = self.scope_of(session, case_id)
        existing = self._identities(session, scope)
        cleaned = _names(name, aliases)
        label = _clean(label, "pseudonym") if label else self._next_label(existing, category)
        _check_label_free(existing, label, None)
        identity_id = new_id()
        row = IdentityRow(id=identity_id, scope=scope, category=category.value, created_by=actor)
        self._write(session, row, label, cleaned)
        session.add(row)
        session.flush()
        self._bump(session, scope)
        return Identity(row.id, scope, category, label, cleaned[0], tuple(cleaned), row.created_at)

    def edit(self, session: Session, case_id: str, pseudonym: str, *, name: str | None = None,
             add_aliases: list[str] = (), remove_aliases: list[str] = (),  # type: ignore[assignment]
             label: str | None = None) -> tuple[Identity, Identity]:
        """Change the real name, aliases or label of the identity shown as ``pseudonym``; returns
        (before, after). The scope's epoch moves, so every document of the scope is masked again."""
        scope = self.scope_of(session, case_id)
        existing = self._identities(session, scope)
        before = _by_label(existing, pseudonym)
        identity_id = before.id
        removed = {_clean(a, "alias").casefold() for a in remove_aliases}
        new_name = _clean(name, "name") if name else before.name
        if new_name.casefold() in removed:
            raise InvalidInput("the real name cannot be removed; give a new real name instead")
        unknown = removed - {a.casefold() for a in before.aliases}
        if unknown:
            raise InvalidInput(f"{len(unknown)} of the aliases to remove are not aliases of this identity")
        # the old real name stays an alias unless it is removed: documents may still say it
        kept = [a for a in before.aliases if a.casefold() not in removed]
        cleaned = _names(new_name, [*kept, *add_aliases])
        new_label = _clean(label, "pseudonym") if label else before.label
        _check_label_free(existing, new_label, identity_id)
        row = session.get(IdentityRow, identity_id)
        assert row is not None
        self._write(session, row, new_label, cleaned)
        row.updated_at = utcnow()
        session.flush()
        self._bump(session, scope)
        return before, Identity(row.id, scope, before.category, new_label, cleaned[0], tuple(cleaned), row.created_at)

    def _write(self, session: Session, row: IdentityRow, label: str, names: list[str]) -> None:
        reid = self._keys.scope_key(session, row.scope, "reidentification")
        labels = self._keys.scope_key(session, row.scope, "label")
        row.label_digest = self._label_digest(row.scope, label)
        row.label_ct = labels.encrypt(label.encode(), Context("identity-label", row.scope, row.id))
        row.name_ct = reid.encrypt(names[0].encode(), Context("identity-name", row.scope, row.id))
        row.aliases_ct = reid.encrypt(json.dumps(names).encode(), Context("identity-aliases", row.scope, row.id))

    @staticmethod
    def _next_label(existing: list[Identity], category: IdentityCategory) -> str:
        taken = {i.label.casefold() for i in existing}
        number = 1
        while f"{category.label_stem} {number}".casefold() in taken:
            number += 1
        return f"{category.label_stem} {number}"

    def by_label(self, session: Session, case_id: str, label: str) -> Identity:
        """The identity a case's documents show as ``label`` (case-insensitive); NotFound if none."""
        return _by_label(self.identities(session, case_id), label)

    def identities(self, session: Session, case_id: str) -> list[Identity]:
        """Every identity a case's documents are masked with: those of its scope."""
        return self._identities(session, self.scope_of(session, case_id))

    def _identities(self, session: Session, scope: str) -> list[Identity]:
        rows = session.scalars(select(IdentityRow).where(IdentityRow.scope == scope).order_by(IdentityRow.created_at))
        reid = self._keys.scope_key(session, scope, "reidentification")
        labels = self._keys.scope_key(session, scope, "label")
        out = []
        for row in rows:
            out.append(Identity(
                row.id, scope, IdentityCategory(row.category),
                labels.decrypt(row.label_ct, Context("identity-label", scope, row.id)).decode(),
                reid.decrypt(row.name_ct, Context("identity-name", scope, row.id)).decode(),
                tuple(json.loads(reid.decrypt(row.aliases_ct, Context("identity-aliases", scope, row.id)))),
                row.created_at,
            ))
        return out

    def matcher(self, session: Session, case_id: str) -> tuple[AliasMatcher, int]:
        """The matcher of a case's scope and the epoch it reflects."""
        scope = self.scope_of(session, case_id)
        epoch = self.epoch(session, scope)
        if (scope, epoch) not in self._matchers:
            for stale in [k for k in self._matchers if k[0] == scope]:
                del self._matchers[stale]
            self._matchers[(scope, epoch)] = AliasMatcher(
                Alias(i.id, alias) for i in self._identities(session, scope) for alias in i.aliases)
        return self._matchers[(scope, epoch)], epoch

    def token_key(self, session: Session, case_id: str) -> bytes:
        return self._keys.scope_key(session, self.scope_of(session, case_id), "pseudonym").material

    def forget(self) -> None:
        self._matchers.clear()


def _names(name: str, aliases: list[str]) -> list[str]:
    """The real name first, then the aliases: cleaned, without repeats, and checked by the
    matcher before anything is stored (an alias of punctuation alone is refused)."""
    cleaned = list(dict.fromkeys([_clean(name, "name"), *(_clean(a, "alias") for a in aliases)]))
    if len(cleaned) > MAX_ALIASES:
        raise InvalidInput(f"an identity has at most {MAX_ALIASES} aliases")
    AliasMatcher([Alias("new", a) for a in cleaned])
    return cleaned


def _by_label(identities: list[Identity], label: str) -> Identity:
    found = next((i for i in identities if i.label.casefold() == label.casefold()), None)
    if found is None:
        raise NotFound("no identity with that pseudonym in this case; `casevault identity list` shows them")
    return found


def _check_label_free(existing: list[Identity], label: str, identity_id: str | None) -> None:
    if any(i.label.casefold() == label.casefold() and i.id != identity_id for i in existing):
        raise Conflict(f"the pseudonym {label!r} is taken in this pseudonym scope")
