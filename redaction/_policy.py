"""Who may do what: a deny-by-default permission table and pure decision functions.

Every decision returns ``Allowed`` or a falsy ``Denied(reason)``; nothing here raises for a
refusal, stores anything or reads a clock of its own (``now`` is passed in). The reason is for
the audit log and for the person refused when telling them is safe; what may not be seen is
answered by the caller exactly like what does not exist.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


class Role(enum.StrEnum):
    INVESTIGATOR = "investigator"
    REVIEWER = "reviewer"
    ADMIN = "admin"


class Permission(enum.StrEnum):
    # content of a case (membership required)
    DOCUMENT_READ = "document:read"  # released documents, with pseudonyms
    DOCUMENT_READ_IN_REVIEW = "document:read-in-review"
    DOCUMENT_UPLOAD = "document:upload"
    DOCUMENT_DOWNLOAD_ORIGINAL = "document:download-original"  # the unmasked original file
    DOCUMENT_REVIEW = "document:review"  # accept, reject and add spans
    DOCUMENT_RELEASE = "document:release"
    SEARCH = "search"
    IDENTITY_READ = "identity:read"  # labels and categories
    IDENTITY_REAL_NAME = "identity:real-name"  # see the real names of the case
    IDENTITY_MANAGE = "identity:manage"
    UNMASK_REQUEST = "identity:unmask-request"
    UNMASK_DECIDE = "identity:unmask-decide"
    MEMBERSHIP_CONFIRM = "membership:confirm"  # let a waiting member or credential reach the case
    AUDIT_READ_CASE = "audit:read-case"  # the case's audit entries in full, search queries included
    # the archive (no membership involved)
    CASE_MANAGE = "case:manage"
    USER_MANAGE = "user:manage"
    ACCESS_KEY_MANAGE = "access-key:manage"  # list and revoke anyone's keys (never issue them)
    ACCESS_KEY_OWN = "access-key:own"  # issue and revoke one's own keys
    KEY_STATUS = "key:status"
    KEY_ROTATE = "key:rotate"
    AUDIT_READ = "audit:read"
    AUDIT_VERIFY = "audit:verify"
    AUDIT_EXPORT = "audit:export"  # a signed copy of who did what (never details) to keep off the host
    BACKUP = "backup"  # write a backup on the server and see the list (never download one)


_I, _R, _A = Role.INVESTIGATOR, Role.REVIEWER, Role.ADMIN

# The one table. A permission missing here is allowed to nobody.
TABLE: dict[Permission, frozenset[Role]] = {
    Permission.DOCUMENT_READ: frozenset({_I, _R}),
    Permission.DOCUMENT_READ_IN_REVIEW: frozenset({_R}),
    Permission.DOCUMENT_UPLOAD: frozenset({_I, _R}),
    Permission.DOCUMENT_DOWNLOAD_ORIGINAL: frozenset({_R}),
    Permission.DOCUMENT_REVIEW: frozenset({_R}),
    Permission.DOCUMENT_RELEASE: frozenset({_R}),
    Permission.SEARCH: frozenset({_I, _R}),
    Permission.IDENTITY_READ: frozenset({_I, _R}),
    Permission.IDENTITY_REAL_NAME: frozenset({_R}),
    Permission.IDENTITY_MANAGE: frozenset({_R}),
    Permission.UNMASK_REQUEST: frozenset({_I}),
    Permission.UNMASK_DECIDE: frozenset({_R}),
    Permission.MEMBERSHIP_CONFIRM: frozenset({_R}),
    Permission.AUDIT_READ_CASE: frozenset({_R}),
    Permission.CASE_MANAGE: frozenset({_A}),
    Permission.USER_MANAGE: frozenset({_A}),
    Permission.ACCESS_KEY_MANAGE: frozenset({_A}),
    Permission.ACCESS_KEY_OWN: frozenset({_I, _R, _A}),
    Permission.KEY_STATUS: frozenset({_A}),
    Permission.KEY_ROTATE: frozenset({_A}),
    Permission.AUDIT_READ: frozenset({_A}),
    Permission.AUDIT_VERIFY: frozenset({_A}),
    Permission.AUDIT_EXPORT: frozenset({_A}),
    Permission.BACKUP: frozenset({_A}),
}

ARCHIVE_PERMISSIONS = frozenset({
    Permission.CASE_MANAGE, Permission.USER_MANAGE, Permission.ACCESS_KEY_MANAGE, Permission.ACCESS_KEY_OWN,
    Permission.KEY_STATUS,
    Permission.KEY_ROTATE, Permission.AUDIT_READ, Permission.AUDIT_VERIFY, Permission.AUDIT_EXPORT,
    Permission.BACKUP,
})


@dataclass(frozen=True, slots=True)
class Allowed:
    def __bool__(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class Denied:
    reason: str

    def __bool__(self) -> bool:
        return False


Decision = Allowed | Denied
ALLOWED = Allowed()


@dataclass(frozen=True, slots=True)
class Actor:
    """A user as the policy sees them: role, the cases they belong to, whether they are active."""

    user_id: str
    role: Role
    cases: frozenset[str] = frozenset()
    active: bool = True


@dataclass(frozen=True, slots=True)
class UnmaskGrant:
    """An approved unmask: one user may see one identity's real name in one case until expiry."""

    user_id: str
    case_id: str
    identity_id: str
    expires_at: datetime
    revoked_at: datetime | None = None

    def in_force(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


def all_of(*decisions: Decision) -> Decision:
    """Allowed only if every decision is; an empty list is a bug, not a pass (sigstore AllOf)."""
    if not decisions:
        raise ValueError("all_of() needs at least one decision")
    for decision in decisions:
        if not decision:
            return decision
    return ALLOWED


def permits(actor: Actor, permission: Permission | str, case_id: str | None = None) -> Decision:
    """Whether ``actor`` holds ``permission`` (in ``case_id`` for case permissions)."""
    carried = holds(actor, permission)
    if not carried:
        return carried
    permission = Permission(permission)
    if permission in ARCHIVE_PERMISSIONS:
        return ALLOWED
    if case_id is None:
        return Denied(f"{permission} needs a case")
    if case_id not in actor.cases:
        return Denied("not a member of the case")
    return ALLOWED


def holds(actor: Actor, permission: Permission | str) -> Decision:
    """Whether ``actor``'s role carries ``permission`` at all, whatever the case: what a person is
    offered (a review queue, a search form, the admin pages). Each case still asks ``permits``."""
    if not actor.active:
        return Denied("the account is disabled")
    try:
        permission = Permission(permission)
    except ValueError:
        return Denied(f"unknown permission {permission!r}")
    if actor.role not in TABLE.get(permission, frozenset()):
        return Denied(f"the {actor.role} role does not have {permission}")
    return ALLOWED


def may_see_case(actor: Actor, case_id: str) -> Decision:
    """Whether ``actor`` may know that a case exists: its members, and those who manage cases
    (admins, who see every case and none of its content). Anyone else is answered as if the case
    did not exist."""
    if case_id in actor.cases:
        return ALLOWED
    managing = permits(actor, Permission.CASE_MANAGE)
    return ALLOWED if managing else Denied("not a member of the case")


def may_see_document(actor: Actor, case_id: str, status: str) -> Decision:
    """Released documents to members who read; documents in review to the case's reviewers."""
    if status == "released":
        return permits(actor, Permission.DOCUMENT_READ, case_id)
    return permits(actor, Permission.DOCUMENT_READ_IN_REVIEW, case_id)


def may_release(actor: Actor, case_id: str, *, uploaded_by: str, undecided: int) -> Decision:
    """A reviewer of the case who did not upload the document, once every suggestion is decided."""
    decision = permits(actor, Permission.DOCUMENT_RELEASE, case_id)
    if not decision:
        return decision
    if actor.user_id == uploaded_by:
        return Denied("the uploader of a document cannot release it (four eyes)")
    if undecided:
        return Denied(f"{undecided} suggestion{'s' if undecided != 1 else ''} still undecided")
    return ALLOWED


def may_decide_unmask(actor: Actor, case_id: str, *, requested_by: str) -> Decision:
    """Another reviewer of the case: never the person who asked (four eyes)."""
    decision = permits(actor, Permission.UNMASK_DECIDE, case_id)
    if decision and actor.user_id == requested_by:
        return Denied("a request cannot be decided by the person who made it (four eyes)")
    return decision


def may_see_real_name(actor: Actor, case_id: str, identity_id: str, grants: Iterable[UnmaskGrant],
                      now: datetime) -> Decision:
    """Reviewers of the case see real names; an investigator only through a grant in force."""
    if permits(actor, Permission.IDENTITY_REAL_NAME, case_id):
        return ALLOWED
    membership = permits(actor, Permission.DOCUMENT_READ, case_id)
    if not membership:
        return membership
    for grant in grants:
        if (grant.user_id, grant.case_id, grant.identity_id) == (actor.user_id, case_id, identity_id) \
                and grant.in_force(now):
            return ALLOWED
    return Denied("no unmask grant in force for this identity")
