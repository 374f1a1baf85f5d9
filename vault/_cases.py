"""Cases and the protected identities registered in them.

A case has its own key and, unless it opts into the archive-wide scope, its own pseudonym scope.
Registering or changing an identity re-masks every document of its scope.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from keys import Context, IntegrityFailed, SecretKey, keyed_digest, wrap_key
from redaction import Permission, UnmaskGrant, may_see_document, may_see_real_name, permits
from vault import _unmask as unmask
from vault._identities import ARCHIVE_SCOPE, Identity, parse_category
from vault._models import CaseRow, DocumentRow, new_id
from vault._store import Store, index_key_context, scope_kind, valid_id
from vault._users import UserInfo
from vault._views import CaseInfo
from vault.errors import Conflict, InvalidInput, NotFound

MAX_CASE_NAME = 200


def normalise_case_name(name: str) -> str:
    """The form a case name is looked up by: NFC, case-folded, single spaces."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def _check_case_name(name: str) -> str:
    name = " ".join(unicodedata.normalize("NFC", name).split())
    if not name:
        raise InvalidInput("a case needs a name")
    if len(name) > MAX_CASE_NAME:
        raise InvalidInput(f"a case name is at most {MAX_CASE_NAME} characters")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        raise InvalidInput("a case name cannot contain control or invisible formatting characters")
    return name


class Cases:
    """Making, finding and listing cases; registering and editing their identities."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _case_digest(self, name: str) -> bytes:
        return keyed_digest(self.store.keys.system["case-name"], "case-name", normalise_case_name(name).encode())

    def create_case(self, name: str, *, actor: str, archive_scope: bool = False) -> CaseInfo:
        """A new case with its own key. Its identities get pseudonyms of its own, unlinkable to
        any other case, unless ``archive_scope``: then it shares the archive-wide identities."""
        name = _check_case_name(name)
        digest = self._case_digest(name)
        try:
            with self.store.write() as work:
                session = work.session
                if session.scalar(select(CaseRow.id).where(CaseRow.name_digest == digest)):
                    raise Conflict("a case with that name exists already")
                case_id = new_id()
                keyring, key_row = self.store.keys.new_case_key(session, case_id)
                if not archive_scope:
                    self.store.identity_map.create_scope(session, case_id)
                row = CaseRow(id=case_id, name_digest=digest, scope=ARCHIVE_SCOPE if archive_scope else case_id,
                              name_ct=keyring.encrypt(name.encode(), Context("case-name", case_id=case_id)),
                              index_key_ct=wrap_key(keyring, SecretKey.generate(), index_key_context(case_id)))
                session.add(row)
                session.flush()
                session.add(key_row)
                session.flush()
                work.audit(actor=actor, action="case.create", target=case_id,
                           details={"scope": "archive" if archive_scope else "case"})
        except IntegrityError:
            raise Conflict("a case with that name exists already") from None
        return CaseInfo(case_id, name, row.created_at, archive_scope=archive_scope)

    def cases(self, user: UserInfo | None = None) -> list[CaseInfo]:
        """Every case with its document count: all documents for the operator (no ``user``), only
        those ``user`` may see otherwise, so a count never shows a document in review to someone
        who may not read it (nor rises with each upload)."""
        with self.store.read() as work:
            counts: dict[str, int] = {}
            for case_id, status, count in work.session.execute(
                    select(DocumentRow.case_id, DocumentRow.status, func.count())
                    .group_by(DocumentRow.case_id, DocumentRow.status)):
                if user is None or may_see_document(user.actor, case_id, status):
                    counts[case_id] = counts.get(case_id, 0) + count
            rows = work.session.scalars(select(CaseRow).order_by(CaseRow.created_at)).all()
            return sorted((work.case_info(r, counts.get(r.id, 0)) for r in rows), key=lambda c: c.name.casefold())

    def case(self, name_or_id: str) -> CaseInfo:
        """A case by its id or by its name (looked up by keyed digest, never by scanning)."""
        with self.store.read() as work:
            row = work.session.get(CaseRow, name_or_id) if valid_id(name_or_id) else None
            if row is None:
                row = work.session.scalar(select(CaseRow).where(CaseRow.name_digest == self._case_digest(name_or_id)))
            if row is None:
                raise NotFound("no such case; `casevault case list` shows the cases")
            info = work.case_info(row)
        # The digest column is not authenticated; the encrypted name is. A swapped digest must
        # not send documents to another case.
        if info.id != name_or_id and normalise_case_name(info.name) != normalise_case_name(name_or_id):
            raise IntegrityFailed()
        return info

    # -- identities ------------------------------------------------------------------------------

    def add_identity(self, case: CaseInfo, *, name: str, aliases: list[str] = (), label: str | None = None,  # type: ignore[assignment]
                     category: str = "person", actor: str) -> Identity:
        """Register a protected identity, then re-mask every document of its pseudonym scope
        (its case, or every archive-scope case)."""
        with self.store.write() as work:
            identity = self.store.identity_map.add(work.session, case.id, name=name, aliases=list(aliases),
                                                   label=label, category=parse_category(category), actor=actor)
            work.audit(actor=actor, action="identity.add", target=identity.id,
                       details={"case": case.id, "scope": scope_kind(identity.scope),
                                "category": identity.category.value})
        self.store.remask_stale(actor=actor)
        return identity

    def edit_identity(self, case: CaseInfo, pseudonym: str, *, name: str | None = None,
                      add_aliases: list[str] = (), remove_aliases: list[str] = (),  # type: ignore[assignment]
                      label: str | None = None, actor: str) -> Identity:
        """Change an identity's real name, aliases or pseudonym, then re-mask its scope. A new
        real name keeps the old one as an alias (documents may still say it) unless it is removed."""
        if name is None and label is None and not add_aliases and not remove_aliases:
            raise InvalidInput("nothing to change: give a new real name or pseudonym, or aliases to add or remove")
        with self.store.write() as work:
            before, after = self.store.identity_map.edit(work.session, case.id, pseudonym, name=name, label=label,
                                                         add_aliases=list(add_aliases),
                                                         remove_aliases=list(remove_aliases))
            changed = [what for what, differs in (("name", before.name != after.name),
                                                  ("aliases", before.aliases != after.aliases),
                                                  ("pseudonym", before.label != after.label)) if differs]
            work.audit(actor=actor, action="identity.edit", target=after.id,
                       details={"case": case.id, "scope": scope_kind(after.scope), "changed": changed})
        self.store.remask_stale(actor=actor)
        return after

    def identity(self, case: CaseInfo, label: str) -> Identity:
        """The identity shown as ``label`` in a case (case-insensitive); NotFound if none."""
        with self.store.read() as work:
            return self.store.identity_map.by_label(work.session, case.id, label)

    def identities(self, case: CaseInfo) -> list[Identity]:
        """Every identity of a case with its real name: for the operator or a cleared caller."""
        with self.store.read() as work:
            return self.store.identity_map.identities(work.session, case.id)

    def identity_listing(self, case: CaseInfo, user: UserInfo | None, *, actor: str) -> list[dict[str, object]]:
        """The identities of a case as ``user`` may list them (everything for the operator):
        labels and categories; real names and aliases only for whoever may see them."""
        if user is not None and not permits(user.actor, Permission.IDENTITY_READ, case.id):
            raise NotFound("no such case; `casevault case list` shows the cases")
        grants: list[UnmaskGrant] = []
        with self.store.read() as work:
            if user is not None:
                grants = unmask.grants(work.session, user.id, case.id)
            identities = self.store.identity_map.identities(work.session, case.id)
        rows: list[dict[str, object]] = []
        revealed = []
        now = self.store.now()
        for identity in identities:
            row: dict[str, object] = {"id": identity.id, "pseudonym": identity.label, "category": identity.category.value}
            if user is None or may_see_real_name(user.actor, case.id, identity.id, grants, now):
                row |= {"name": identity.name, "aliases": list(identity.aliases)}
                revealed.append(identity.id)
            rows.append(row)
        self.store.record(actor=actor, action="identity.list", target=case.id,
                          details={"user": user.id if user else None, "revealed": revealed})
        return rows
