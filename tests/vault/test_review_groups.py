"""Bulk review through the vault: the undecided suggestions of one text and category decided at
once, in one new masked version and one audit entry that counts them and names no one; generic
roles are not suggested; a registered identity named like a role or a place is still masked."""

from __future__ import annotations

import io

import pytest

from tests.conftest import ingest_bytes
from tests.vault.conftest import SECRETS
from vault.errors import Forbidden, NotFound

LONG = "".join(
    f"[00:{i // 60:02d}:{i % 60:02d}] {'Agent' if i % 2 else 'Caller Zorvath'}: "
    f"Vu Odile Quillonaz ce matin{' avec Caller Zorvath' if i % 3 == 0 else ''}.\n"
    for i in range(40)).encode()


def _groups(vault, document_id, user):
    return vault.review_groups.groups(vault.review_view(document_id, user, actor="tester").suggestions)


def _entries(vault, action):
    return [e for e in vault.audit_entries(limit=10_000) if e.action == action]


def test_suggestions_group_by_text_and_category_and_a_role_is_no_group(vault, case, people):
    document = ingest_bytes(vault, case, LONG, "long.txt")
    groups = {(g.text, g.category): g for g in _groups(vault, document.id, people["rex"])}
    assert ("Agent", "person") not in groups  # a generic role labels turns, it names no one
    zorvath, odile = groups[("Caller Zorvath", "person")], groups[("Odile Quillonaz", "person")]
    assert (odile.count, odile.speaker_turns) == (40, 0)
    assert zorvath.speaker_turns == 20 and zorvath.count == 20 + 14  # one decision: every turn's label too


def test_a_group_is_rejected_at_once_in_one_audited_version(vault, case, people):
    document = ingest_bytes(vault, case, LONG, "long.txt")
    [odile] = [g for g in _groups(vault, document.id, people["rex"]) if g.text == "Odile Quillonaz"]
    before = len(_entries(vault, "review.decide-group"))
    masked, count = vault.review_groups.decide(document.id, people["rex"], odile.key, accept=False, actor="tester")
    assert count == 40
    entries = _entries(vault, "review.decide-group")
    assert len(entries) == before + 1
    assert entries[-1].details["rejected"] == 40 and entries[-1].details["group"] == odile.key
    assert "Odile" not in str(entries[-1].details) and "Quillonaz" not in str(entries[-1].details)
    left = {g.text for g in _groups(vault, document.id, people["rex"])}
    assert left == {"Caller Zorvath"}
    assert masked.undecided == 34  # the "Caller Zorvath" group is still to decide
    with pytest.raises(NotFound):  # decided: the group is gone
        vault.review_groups.decide(document.id, people["rex"], odile.key, accept=False, actor="tester")


def test_a_group_accepted_as_an_identity_masks_every_turn(vault, case, people):
    document = ingest_bytes(vault, case, LONG, "long.txt")
    h = [i for i in vault.identities(case) if i.label == "H"][0]
    groups = _groups(vault, document.id, people["rex"])
    for group in groups:
        vault.review_groups.decide(document.id, people["rex"], group.key, accept=group.text == "Caller Zorvath",
                                   identity_id=h.id if group.text == "Caller Zorvath" else None, actor="tester")
    assert _groups(vault, document.id, people["rex"]) == []
    vault.release(document.id, people["rita"], actor="tester")
    view = vault.view(document.id, people["ivy"], actor="tester")
    assert {u.speaker for u in view.units} == {"H", "Agent"}
    assert all("Zorvath" not in u.text for u in view.units)


@pytest.mark.parametrize("persona", ["ivy", "ada", "otto"])
def test_only_the_case_reviewers_decide_a_group(vault, case, people, persona):
    document = ingest_bytes(vault, case, LONG, "long.txt")
    [group, *_] = _groups(vault, document.id, people["rex"])
    with pytest.raises((NotFound, Forbidden)):
        vault.review_groups.decide(document.id, people[persona], group.key, accept=False, actor="tester")
    assert group in _groups(vault, document.id, people["rex"])


def test_an_unknown_key_is_not_found(vault, case, people):
    document = ingest_bytes(vault, case, LONG, "long.txt")
    with pytest.raises(NotFound):
        vault.review_groups.decide(document.id, people["rex"], "1.t0-5", accept=True, actor="tester")


def test_a_protected_person_named_like_a_role_or_a_place_is_still_masked(vault, case, people):
    vault.add_identity(case, name="Paris Agent", aliases=["Agent", "Paris"], label="P", actor="tester")
    data = "[00:00:01] Agent: Je suis à Paris.\n[00:00:05] Caller 2: Bien, Agent.\n".encode()
    document = vault.ingest(io.BytesIO(data), case=case, filename="c.txt", actor=people["rita"].id)
    review = vault.review_view(document.id, people["rex"], actor="tester")
    masked = sorted((s["field"], s["text"]) for s in review.spans)
    assert masked == [("speaker", "Agent"), ("text", "Agent"), ("text", "Paris")]
    assert not any(s["text"] in ("Agent", "Paris") for s in review.suggestions)
    for group in _groups(vault, document.id, people["rex"]):
        vault.review_groups.decide(document.id, people["rex"], group.key, accept=False, actor="tester")
    vault.release(document.id, people["rex"], actor="tester")
    text = "\n".join(f"{u.speaker}\t{u.text}" for u in vault.view(document.id, people["ivy"], actor="tester").units)
    assert "Agent" not in text and "Paris" not in text and "P\t" in text
    assert not any(s in text for s in SECRETS)
