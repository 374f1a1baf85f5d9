"""The re-identification map: protected identities, their aliases and pseudonym labels.

Real names and aliases are encrypted under the case's re-identification key, a key of its own
purpose kept apart from the document keys. Labels ("H", "Caller 2") are encrypted under the case
key and kept unique in the case by a keyed digest. The matcher built from the aliases lives only
in memory.
"""

from __future__ import annotations

import enum
import json
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from keys import Context, SecretKey, keyed_digest
from redaction import Alias, AliasMatcher
from vault._keystore import KeyStore
from vault._models import IdentityRow, new_id
from vault.errors import Conflict, InvalidInput

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
    case_id: str
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


class IdentityMap:
    """The identities of the cases, read and written through one key store."""

    def __init__(self, keys: KeyStore) -> None:
        self._keys = keys
        self._matchers: dict[str, AliasMatcher] = {}

    def _reid(self, session: Session, case_id: str) -> SecretKey:
        return self._keys.scope_key(session, case_id, "reidentification")

    def _label_digest(self, case_id: str, label: str) -> bytes:
        return keyed_digest(self._keys.system["case-name"], f"identity-label/{case_id}", label.casefold().encode())

    def add(self, session: Session, case_id: str, *, name: str, aliases: list[str], label: str | None,
            category: IdentityCategory, actor: str) -> Identity:
        name = _clean(name, "name")
        cleaned = list(dict.fromkeys([name, *(_clean(a, "alias") for a in aliases)]))
        if len(cleaned) > MAX_ALIASES:
            raise InvalidInput(f"an identity has at most {MAX_ALIASES} aliases")
        existing = self.identities(session, case_id)
        label = _clean(label, "pseudonym") if label else self._next_label(existing, category)
        if any(i.label.casefold() == label.casefold() for i in existing):
            raise Conflict(f"the pseudonym {label!r} is taken in this case")
        # Validate the aliases before anything is stored (an alias of punctuation alone is refused).
        AliasMatcher([Alias("new", a) for a in cleaned])
        identity_id = new_id()
        reid, case_key = self._reid(session, case_id), self._keys.case_keyring(session, case_id)
        row = IdentityRow(
            id=identity_id, case_id=case_id, category=category.value, created_by=actor,
            label_digest=self._label_digest(case_id, label),
            label_ct=case_key.encrypt(label.encode(), Context("identity-label", case_id, identity_id)),
            name_ct=reid.encrypt(name.encode(), Context("identity-name", case_id, identity_id)),
            aliases_ct=reid.encrypt(json.dumps(cleaned).encode(), Context("identity-aliases", case_id, identity_id)),
        )
        session.add(row)
        session.flush()
        self._matchers.pop(case_id, None)
        return Identity(row.id, case_id, category, label, name, tuple(cleaned), row.created_at)

    @staticmethod
    def _next_label(existing: list[Identity], category: IdentityCategory) -> str:
        taken = {i.label.casefold() for i in existing}
        number = 1
        while f"{category.label_stem} {number}".casefold() in taken:
            number += 1
        return f"{category.label_stem} {number}"

    def identities(self, session: Session, case_id: str) -> list[Identity]:
        rows = session.scalars(select(IdentityRow).where(IdentityRow.case_id == case_id).order_by(IdentityRow.created_at))
        reid, case_key = self._reid(session, case_id), self._keys.case_keyring(session, case_id)
        out = []
        for row in rows:
            out.append(Identity(
                row.id, case_id, IdentityCategory(row.category),
                case_key.decrypt(row.label_ct, Context("identity-label", case_id, row.id)).decode(),
                reid.decrypt(row.name_ct, Context("identity-name", case_id, row.id)).decode(),
                tuple(json.loads(reid.decrypt(row.aliases_ct, Context("identity-aliases", case_id, row.id)))),
                row.created_at,
            ))
        return out

    def matcher(self, session: Session, case_id: str) -> AliasMatcher:
        if case_id not in self._matchers:
            self._matchers[case_id] = AliasMatcher(
                Alias(i.id, alias) for i in self.identities(session, case_id) for alias in i.aliases)
        return self._matchers[case_id]

    def token_key(self, session: Session, case_id: str) -> bytes:
        return self._keys.scope_key(session, case_id, "pseudonym").material

    def forget(self) -> None:
        self._matchers.clear()
