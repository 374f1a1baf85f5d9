"""Unmask requests and grants: justified, approved by another reviewer, limited in time, audited.

SECURITY-TESTS.md items 10-12 and 55 as far as the vault goes (the HTTP status codes come with the
web layer): who may ask, who may decide, what a grant shows and to whom, and for how long.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from tests.conftest import ingest_bytes
from tests.vault.conftest import CALL, release_all
from vault import UnmaskState
from vault._models import utcnow
from vault.errors import Conflict, Forbidden, InvalidInput, NotFound

REASON = "Caller 1 appears in the 2023 extortion file; we must check his company links."


@pytest.fixture
def released(vault, case, people):
    document = ingest_bytes(vault, case, CALL, "call.txt")
    release_all(vault, people, document.id)
    return document


def _speakers(vault, document, user, **kwargs):
    return [u.speaker for u in vault.view(document.id, user, actor="tester", **kwargs).units]


def test_an_approved_grant_shows_that_name_to_that_investigator_only(vault, case, people, released):
    request = vault.request_unmask(people["ivy"], case, "Caller 1", REASON, actor="tester")
    assert request.state is UnmaskState.PENDING and request.justification == REASON
    assert _speakers(vault, released, people["ivy"])[0] == "Caller 1"  # pending: nothing yet
    vault.decide_unmask(request.id, people["rex"], approve=True, actor="tester")
    view = vault.view(released.id, people["ivy"], actor="tester")
    assert view.units[0].speaker == "Quentin Malaure"
    assert view.units[0].text.startswith("H, ta mère")  # the other identity stays a pseudonym
    other = vault.add_user("ines", "investigator", cases=(case.id,), actor="tester")[0]
    assert _speakers(vault, released, other)[0] == "Caller 1"
    entry = [e for e in vault.audit_entries() if e.action == "document.view"][-2]
    assert entry.details["user"] == people["ivy"].id and len(entry.details["revealed"]) == 1


def test_a_grant_expires_and_can_be_revoked(vault, case, people, released):
    request = vault.request_unmask(people["ivy"], case, "Caller 1", REASON, actor="tester")
    vault.decide_unmask(request.id, people["rex"], approve=True, valid_for=timedelta(hours=1), actor="tester")
    assert _speakers(vault, released, people["ivy"], now=utcnow() + timedelta(minutes=59))[0] == "Quentin Malaure"
    assert _speakers(vault, released, people["ivy"], now=utcnow() + timedelta(hours=2))[0] == "Caller 1"
    vault.revoke_unmask(request.id, people["rita"], actor="tester")
    assert _speakers(vault, released, people["ivy"])[0] == "Caller 1"
    with pytest.raises(Conflict):
        vault.revoke_unmask(request.id, people["rita"], actor="tester")


def test_a_denied_request_shows_nothing(vault, case, people, released):
    request = vault.request_unmask(people["ivy"], case, "Caller 1", REASON, actor="tester")
    assert vault.decide_unmask(request.id, people["rex"], approve=False, actor="tester").state is UnmaskState.DENIED
    assert _speakers(vault, released, people["ivy"])[0] == "Caller 1"


@pytest.mark.parametrize("reason", ["", "   ", "because", "n/a", "TEST", "for the investigation", "short reason"])
def test_a_blank_short_or_template_justification_is_refused(vault, case, people, reason):
    with pytest.raises(InvalidInput, match="justification"):
        vault.request_unmask(people["ivy"], case, "Caller 1", reason, actor="tester")
    assert vault.unmask_requests(case) == []


def test_a_justification_cannot_inject_a_log_line(vault, case, people):
    with pytest.raises(InvalidInput, match="control"):
        vault.request_unmask(people["ivy"], case, "Caller 1", REASON + '\n{"action": "unmask.approve"}\x1b',
                             actor="tester")


@pytest.mark.parametrize("persona", ["rex", "ada", "otto"])
def test_only_investigators_of_the_case_may_ask(vault, case, people, persona):
    with pytest.raises(Forbidden):
        vault.request_unmask(people[persona], case, "Caller 1", REASON, actor="tester")


def test_an_unknown_pseudonym_is_not_found(vault, case, people):
    with pytest.raises(NotFound):
        vault.request_unmask(people["ivy"], case, "Caller 99", REASON, actor="tester")


@pytest.mark.parametrize("persona, error", [("ivy", Forbidden), ("ada", NotFound), ("otto", NotFound)])
def test_only_reviewers_of_the_case_may_decide(vault, case, people, persona, error):
    request = vault.request_unmask(people["ivy"], case, "Caller 1", REASON, actor="tester")
    with pytest.raises(error):
        vault.decide_unmask(request.id, people[persona], approve=True, actor="tester")
    assert vault.unmask_requests(case)[0].state is UnmaskState.PENDING


def test_grants_are_bounded_in_time(vault, case, people):
    request = vault.request_unmask(people["ivy"], case, "Caller 1", REASON, actor="tester")
    with pytest.raises(InvalidInput):
        vault.decide_unmask(request.id, people["rex"], approve=True, valid_for=timedelta(days=365), actor="tester")


def test_two_reviewers_deciding_at_once_get_one_success(vault, case, people):
    request = vault.request_unmask(people["ivy"], case, "Caller 1", REASON, actor="tester")
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def decide(who: str, approve: bool) -> None:
        barrier.wait()
        try:
            vault.decide_unmask(request.id, people[who], approve=approve, actor="tester")
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=decide, args=args) for args in (("rex", True), ("rita", False))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]


def test_investigators_list_only_their_own_requests(vault, case, people):
    vault.request_unmask(people["ivy"], case, "Caller 1", REASON, actor="tester")
    ines = vault.add_user("ines", "investigator", cases=(case.id,), actor="tester")[0]
    assert vault.unmask_requests(case, ines) == []
    assert len(vault.unmask_requests(case, people["rex"])) == 1
    with pytest.raises(NotFound):
        vault.unmask_requests(case, people["ada"])
