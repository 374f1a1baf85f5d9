"""The policy, as tables that read like the spec (DESIGN.md "Who uses it")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from redaction._policy import (
    TABLE,
    Actor,
    Allowed,
    Denied,
    Permission,
    Role,
    UnmaskGrant,
    all_of,
    holds,
    may_decide_unmask,
    may_release,
    may_see_case,
    may_see_document,
    may_see_real_name,
    permits,
)

CASE, OTHER_CASE, IDENTITY = "case-h", "case-other", "identity-h"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

INVESTIGATOR = Actor("ivy", Role.INVESTIGATOR, frozenset({CASE}))
REVIEWER = Actor("rex", Role.REVIEWER, frozenset({CASE}))
SECOND_REVIEWER = Actor("rita", Role.REVIEWER, frozenset({CASE}))
ADMIN = Actor("ada", Role.ADMIN, frozenset({CASE}))
OUTSIDER = Actor("otto", Role.INVESTIGATOR, frozenset({OTHER_CASE}))
OUTSIDE_REVIEWER = Actor("olga", Role.REVIEWER, frozenset({OTHER_CASE}))
DISABLED = Actor("dora", Role.REVIEWER, frozenset({CASE}), active=False)

P = Permission
ROWS = [
    # investigators: read and search released documents of their cases, ask for unmasking
    (INVESTIGATOR, P.DOCUMENT_READ, True),
    (INVESTIGATOR, P.SEARCH, True),
    (INVESTIGATOR, P.IDENTITY_READ, True),
    (INVESTIGATOR, P.UNMASK_REQUEST, True),
    (INVESTIGATOR, P.DOCUMENT_UPLOAD, True),
    (INVESTIGATOR, P.DOCUMENT_READ_IN_REVIEW, False),
    (INVESTIGATOR, P.DOCUMENT_DOWNLOAD_ORIGINAL, False),
    (INVESTIGATOR, P.DOCUMENT_REVIEW, False),
    (INVESTIGATOR, P.DOCUMENT_RELEASE, False),
    (INVESTIGATOR, P.IDENTITY_REAL_NAME, False),
    (INVESTIGATOR, P.IDENTITY_MANAGE, False),
    (INVESTIGATOR, P.UNMASK_DECIDE, False),
    (INVESTIGATOR, P.USER_MANAGE, False),
    (INVESTIGATOR, P.KEY_ROTATE, False),
    (INVESTIGATOR, P.AUDIT_READ, False),
    (INVESTIGATOR, P.CASE_MANAGE, False),
    (INVESTIGATOR, P.ACCESS_KEY_MANAGE, False),
    (INVESTIGATOR, P.KEY_STATUS, False),
    (INVESTIGATOR, P.AUDIT_VERIFY, False),
    (INVESTIGATOR, P.AUDIT_EXPORT, False),
    (INVESTIGATOR, P.BACKUP, False),
    (INVESTIGATOR, P.MEMBERSHIP_CONFIRM, False),
    (INVESTIGATOR, P.ACCESS_KEY_OWN, True),
    (INVESTIGATOR, P.AUDIT_READ_CASE, False),
    # reviewers: review, release, see real names of their cases, decide unmask requests
    (REVIEWER, P.DOCUMENT_READ, True),
    (REVIEWER, P.DOCUMENT_READ_IN_REVIEW, True),
    (REVIEWER, P.DOCUMENT_REVIEW, True),
    (REVIEWER, P.DOCUMENT_RELEASE, True),
    (REVIEWER, P.DOCUMENT_DOWNLOAD_ORIGINAL, True),
    (REVIEWER, P.IDENTITY_REAL_NAME, True),
    (REVIEWER, P.IDENTITY_MANAGE, True),
    (REVIEWER, P.UNMASK_DECIDE, True),
    (REVIEWER, P.UNMASK_REQUEST, False),
    (REVIEWER, P.USER_MANAGE, False),
    (REVIEWER, P.ACCESS_KEY_MANAGE, False),
    (REVIEWER, P.KEY_ROTATE, False),
    (REVIEWER, P.DOCUMENT_UPLOAD, True),
    (REVIEWER, P.SEARCH, True),
    (REVIEWER, P.IDENTITY_READ, True),
    (REVIEWER, P.CASE_MANAGE, False),
    (REVIEWER, P.KEY_STATUS, False),
    (REVIEWER, P.AUDIT_READ, False),
    (REVIEWER, P.AUDIT_VERIFY, False),
    (REVIEWER, P.AUDIT_EXPORT, False),
    (REVIEWER, P.BACKUP, False),
    (REVIEWER, P.MEMBERSHIP_CONFIRM, True),  # four eyes on what an admin grants
    (REVIEWER, P.ACCESS_KEY_OWN, True),
    (REVIEWER, P.AUDIT_READ_CASE, True),  # the queries run over their case
    # admins: manage access, never content or names, even as a member of the case
    (ADMIN, P.USER_MANAGE, True),
    (ADMIN, P.CASE_MANAGE, True),
    (ADMIN, P.ACCESS_KEY_MANAGE, True),
    (ADMIN, P.KEY_STATUS, True),
    (ADMIN, P.KEY_ROTATE, True),
    (ADMIN, P.AUDIT_READ, True),
    (ADMIN, P.AUDIT_VERIFY, True),
    (ADMIN, P.AUDIT_EXPORT, True),
    (ADMIN, P.BACKUP, True),
    (ADMIN, P.DOCUMENT_READ, False),
    (ADMIN, P.DOCUMENT_READ_IN_REVIEW, False),
    (ADMIN, P.SEARCH, False),
    (ADMIN, P.IDENTITY_REAL_NAME, False),
    (ADMIN, P.IDENTITY_READ, False),
    (ADMIN, P.UNMASK_REQUEST, False),
    (ADMIN, P.UNMASK_DECIDE, False),
    (ADMIN, P.DOCUMENT_DOWNLOAD_ORIGINAL, False),
    (ADMIN, P.DOCUMENT_UPLOAD, False),
    (ADMIN, P.DOCUMENT_REVIEW, False),
    (ADMIN, P.DOCUMENT_RELEASE, False),
    (ADMIN, P.IDENTITY_MANAGE, False),
    (ADMIN, P.MEMBERSHIP_CONFIRM, False),  # an admin never lets anyone into content alone
    (ADMIN, P.ACCESS_KEY_OWN, True),
    (ADMIN, P.AUDIT_READ_CASE, False),  # admins read digests, never queries
    # members of another case: nothing of this one
    (OUTSIDER, P.DOCUMENT_READ, False),
    (OUTSIDER, P.SEARCH, False),
    (OUTSIDER, P.UNMASK_REQUEST, False),
    (OUTSIDE_REVIEWER, P.DOCUMENT_READ_IN_REVIEW, False),
    (OUTSIDE_REVIEWER, P.IDENTITY_REAL_NAME, False),
    (OUTSIDE_REVIEWER, P.UNMASK_DECIDE, False),
    (OUTSIDE_REVIEWER, P.MEMBERSHIP_CONFIRM, False),
    (OUTSIDE_REVIEWER, P.AUDIT_READ_CASE, False),
    # a disabled account: nothing at all
    (DISABLED, P.DOCUMENT_READ, False),
    (DISABLED, P.IDENTITY_REAL_NAME, False),
]


@pytest.mark.parametrize("actor, permission, expected", ROWS,
                         ids=[f"{a.user_id}-{p}" for a, p, _ in ROWS])
def test_permission_table(actor, permission, expected):
    decision = permits(actor, permission, CASE)
    assert bool(decision) is expected, decision


def test_every_role_and_permission_has_a_row():
    covered = {(a.role, p) for a, p, _ in ROWS if a.active and CASE in a.cases}
    missing = [(r.value, p.value) for p in Permission for r in Role if (r, p) not in covered]
    assert not missing, f"(role, permission) pairs without a row: {missing}"


def test_the_table_and_the_rows_agree_on_who_may():
    for actor, permission, expected in ROWS:
        if actor.active and CASE in actor.cases:
            assert (actor.role in TABLE.get(permission, frozenset())) is expected, (actor.role, permission)


@pytest.mark.parametrize("permission", ["document:delete", "DOCUMENT:READ", "", "identity:unmask"])
def test_unknown_permissions_are_denied(permission):
    decision = permits(REVIEWER, permission, CASE)
    assert isinstance(decision, Denied) and "unknown permission" in decision.reason


def test_case_permission_without_a_case_is_denied():
    assert not permits(REVIEWER, P.DOCUMENT_READ)


def test_denied_is_falsy_and_allowed_truthy():
    assert Allowed() and not Denied("x")


def test_all_of_an_empty_list_raises():
    with pytest.raises(ValueError):
        all_of()
    assert not all_of(Allowed(), Denied("no"))
    assert all_of(Allowed(), Allowed())


# -- what a role carries anywhere, and who knows a case exists ------------------------------------

@pytest.mark.parametrize("actor, permission, expected", [
    # what a person is offered: a review queue, confirmations, search, the admin pages
    (REVIEWER, P.DOCUMENT_REVIEW, True),
    (OUTSIDE_REVIEWER, P.DOCUMENT_REVIEW, True),  # the role carries it, whatever the case
    (Actor("nina", Role.REVIEWER), P.MEMBERSHIP_CONFIRM, True),  # a member of no case yet
    (INVESTIGATOR, P.DOCUMENT_REVIEW, False),
    (ADMIN, P.DOCUMENT_REVIEW, False),
    (INVESTIGATOR, P.SEARCH, True),
    (OUTSIDER, P.SEARCH, True),
    (ADMIN, P.SEARCH, False),  # admins have no case content to search
    (ADMIN, P.IDENTITY_READ, False),
    (ADMIN, P.USER_MANAGE, True),
    (REVIEWER, P.USER_MANAGE, False),
    (DISABLED, P.DOCUMENT_REVIEW, False),
    (REVIEWER, "document:delete", False),  # unknown
])
def test_what_a_role_carries(actor, permission, expected):
    assert bool(holds(actor, permission)) is expected


@pytest.mark.parametrize("actor, expected", [
    (INVESTIGATOR, True),
    (REVIEWER, True),
    (Actor("ada2", Role.ADMIN), True),  # admins manage every case, member or not
    (OUTSIDER, False),
    (OUTSIDE_REVIEWER, False),
])
def test_who_knows_a_case_exists(actor, expected):
    assert bool(may_see_case(actor, CASE)) is expected


# -- documents by status --------------------------------------------------------------------------

@pytest.mark.parametrize("actor, status, expected", [
    (INVESTIGATOR, "released", True),
    (INVESTIGATOR, "in_review", False),
    (REVIEWER, "in_review", True),
    (REVIEWER, "released", True),
    (ADMIN, "released", False),
    (OUTSIDER, "released", False),
    (OUTSIDE_REVIEWER, "in_review", False),
])
def test_who_sees_a_document(actor, status, expected):
    assert bool(may_see_document(actor, CASE, status)) is expected


# -- four eyes -----------------------------------------------------------------------------------

@pytest.mark.parametrize("actor, uploaded_by, undecided, expected, reason", [
    (REVIEWER, "ivy", 0, True, None),
    (REVIEWER, "rex", 0, False, "four eyes"),
    (REVIEWER, "ivy", 3, False, "3 suggestions still undecided"),
    (REVIEWER, "ivy", 1, False, "1 suggestion still undecided"),
    (INVESTIGATOR, "rex", 0, False, "does not have"),
    (OUTSIDE_REVIEWER, "ivy", 0, False, "not a member"),
    (ADMIN, "ivy", 0, False, "does not have"),
])
def test_release(actor, uploaded_by, undecided, expected, reason):
    decision = may_release(actor, CASE, uploaded_by=uploaded_by, undecided=undecided)
    assert bool(decision) is expected
    if reason:
        assert reason in decision.reason


@pytest.mark.parametrize("actor, requested_by, expected", [
    (REVIEWER, "ivy", True),
    (SECOND_REVIEWER, "ivy", True),
    (REVIEWER, "rex", False),  # their own request
    (INVESTIGATOR, "ivy", False),
    (ADMIN, "ivy", False),
    (OUTSIDE_REVIEWER, "ivy", False),
])
def test_deciding_an_unmask_request(actor, requested_by, expected):
    assert bool(may_decide_unmask(actor, CASE, requested_by=requested_by)) is expected


# -- real names ----------------------------------------------------------------------------------

def grant(**changes) -> UnmaskGrant:
    values = dict(user_id="ivy", case_id=CASE, identity_id=IDENTITY, expires_at=NOW + timedelta(hours=1))
    values.update(changes)
    return UnmaskGrant(**values)


@pytest.mark.parametrize("actor, grants, expected", [
    (REVIEWER, [], True),  # reviewers of the case see real names
    (INVESTIGATOR, [], False),
    (INVESTIGATOR, [grant()], True),
    (INVESTIGATOR, [grant(expires_at=NOW)], False),  # expired at this instant
    (INVESTIGATOR, [grant(expires_at=NOW - timedelta(seconds=1))], False),
    (INVESTIGATOR, [grant(revoked_at=NOW - timedelta(minutes=5))], False),
    (INVESTIGATOR, [grant(user_id="otto")], False),  # someone else's grant
    (INVESTIGATOR, [grant(identity_id="identity-other")], False),  # another identity
    (INVESTIGATOR, [grant(case_id=OTHER_CASE)], False),  # another case
    (OUTSIDER, [grant(user_id="otto")], False),  # a grant does not make a member
    (ADMIN, [grant(user_id="ada")], False),  # admins never see names
    (OUTSIDE_REVIEWER, [], False),
    (Actor("ivy", Role.INVESTIGATOR, frozenset({CASE}), active=False), [grant()], False),
], ids=["reviewer", "investigator", "granted", "expired-now", "expired", "revoked", "other-user",
        "other-identity", "other-case", "outsider", "admin", "outside-reviewer", "disabled"])
def test_who_sees_a_real_name(actor, grants, expected):
    assert bool(may_see_real_name(actor, CASE, IDENTITY, grants, NOW)) is expected
