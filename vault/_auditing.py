"""Reading the audit log: in full for the operator, who did what for an admin (never a query,
a justification or a name), a case's entries for its reviewers."""

from __future__ import annotations

import dataclasses

from keys import keyed_digest
from redaction import Permission, permits
from vault._audit import AuditEntry, AuditFilter, AuditListing, AuditReport
from vault._store import Store
from vault._users import OPERATOR, Operator, UserInfo, admin_acting
from vault._views import CaseInfo
from vault.errors import Forbidden

# audit details an admin may read: ids, roles, counts, versions and fixed words, never free text
# (a query, a justification, a name typed at sign-in). A new detail stays hidden until listed.
ADMIN_DETAILS = frozenset({
    "user", "case", "cases", "role", "was", "pending", "confirmation", "prefix", "scope", "format", "category",
    "changed", "identity", "revealed", "hours", "documents", "justifications", "case_key_version", "case_keys",
    "master_version", "second_factor", "reason", "blobs", "identities", "memberships", "unmask_requests",
})


def _cases_named(details: dict[str, object] | None) -> set[str]:
    """The case ids an audit entry's details name (``case``, or ``cases`` for a search)."""
    if not details:
        return set()
    named = details.get("cases") if isinstance(details.get("cases"), list) else []
    return {str(c) for c in [details.get("case"), *named] if c}  # type: ignore[misc]


class AuditReading:
    """Who reads how much of the audit log."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def verify_audit(self) -> AuditReport:
        with self.store.read() as work:
            return self.store.audit.verify(work.session)

    def audit_entries(self, *, after: int = 0, limit: int = 100,
                      reader: UserInfo | Operator = OPERATOR) -> list[AuditEntry]:
        """Entries after position ``after``. The operator reads every detail; an admin
        (``reader``) reads who did what, when, to which object, and of a search only a keyed
        digest of its query (repeated queries correlate): never a query, a justification, a
        name or text, whatever a detail may hold (only the details in ``ADMIN_DETAILS`` pass)."""
        with self.store.read() as work:
            entries = self.store.audit.entries(work.session, after=after, limit=limit)
        if isinstance(reader, Operator):
            return entries
        admin_acting(reader)
        return [dataclasses.replace(e, details=self._details_for_admins(e.details)) for e in entries]

    def audit_listing(self, where: AuditFilter, *, before: int | None = None, limit: int = 100,
                      reader: UserInfo | Operator = OPERATOR) -> AuditListing:
        """The entries ``where`` holds, newest first, before position ``before``, with the chain's
        head; an admin reads them as in ``audit_entries`` (who did what, never free text)."""
        with self.store.read() as work:
            entries = self.store.audit.newest_first(work.session, where, before=before, limit=limit)
            actions = self.store.audit.actions(work.session)
            position, mac = self.store.audit.head(work.session)
        if not isinstance(reader, Operator):
            admin_acting(reader)
            entries = [dataclasses.replace(e, details=self._details_for_admins(e.details)) for e in entries]
        return AuditListing(entries, actions, position, mac)

    def case_audit(self, case: CaseInfo, reader: UserInfo, *, after: int = 0, limit: int = 100) -> list[AuditEntry]:
        """The entries that name ``case`` (searches over it, identity and membership changes),
        after position ``after``, for a confirmed reviewer of the case: in full, queries
        included, when the reader reviews every case the entry names; as admins read it
        otherwise (a search over another case too keeps that case's query to its reviewers)."""
        decision = permits(reader.actor, Permission.AUDIT_READ_CASE, case.id)
        if not decision:
            raise Forbidden(f"not allowed: {decision.reason}")
        found: list[AuditEntry] = []
        with self.store.read() as work:
            while len(found) < limit and (batch := self.store.audit.entries(work.session, after=after, limit=500)):
                for entry in batch:
                    named = _cases_named(entry.details)
                    if case.id in named:
                        whole = all(permits(reader.actor, Permission.AUDIT_READ_CASE, c) for c in named)
                        found.append(entry if whole else
                                     dataclasses.replace(entry, details=self._details_for_admins(entry.details)))
                after = batch[-1].seq
        return found[:limit]

    def _details_for_admins(self, details: dict[str, object] | None) -> dict[str, object] | None:
        if details is None:
            return None
        shown = {k: v for k, v in details.items() if k in ADMIN_DETAILS}
        if isinstance(details.get("query"), str):
            digest = keyed_digest(self.store.keys.system["audit-details"], "audit-query", details["query"].encode())
            shown["query_digest"] = digest.hex()[:32]
        return shown
