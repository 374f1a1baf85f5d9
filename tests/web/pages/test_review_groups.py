"""Bulk review over HTTP: the review page of a long transcript shows a page of units and the
grouped suggestions; a group is decided at once (a rejection only with "I understand"); the API
lists the groups and decides one by its key; nobody but the case's reviewers can."""

from __future__ import annotations

import io
import re

import pytest

from tests.web.pages.conftest import csrf_of, sign_in

TURNS = 450  # more than two pages of units (a turn is a speaker unit and a text unit)
LONG = "".join(
    f"[{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}] {'Agent' if i % 2 else 'Caller Zorvath'}: "
    f"Vu Odile Quillonaz ce matin, turn {i}.\n" for i in range(TURNS)).encode()
GROUP = re.compile(r'data-key="([^"]+)" data-count="(\d+)" data-text="([^"]*)"')


@pytest.fixture
def long_call(world):
    """A long transcript uploaded by rita, for rex to review."""
    return world.vault.ingest(io.BytesIO(LONG), case=world.case, filename="long-call.txt",
                              actor=world.users["reviewer2"].id)


def _groups(html: str) -> dict[str, tuple[str, int]]:
    return {text: (key, int(n)) for key, n, text in GROUP.findall(html)}


def test_the_page_shows_a_page_of_units_and_the_groups(world, long_call):
    rex = sign_in(world, "reviewer")
    page = rex.get(f"/review/{long_call.id}")
    assert page.status_code == 200
    groups = _groups(page.text)
    assert "Agent" not in groups  # a generic role: no suggestion at all
    assert groups["Odile Quillonaz"][1] == TURNS and groups["Caller Zorvath"][1] == TURNS // 2
    assert "speaker label of 225 turns" in page.text and "first on page 1" in page.text
    assert f"{TURNS:,} undecided" not in page.text and "undecided in 2 groups" in page.text
    assert page.text.count('class="unit"') == 200 and "units page 1 of 5" in page.text
    assert "turn 0." in page.text and "turn 150." not in page.text
    second = rex.get(f"/review/{long_call.id}?page=2")
    assert "turn 150." in second.text and "turn 0." not in second.text
    assert rex.get(f"/review/{long_call.id}?page=x").status_code == 400
    assert rex.get(f"/review/{long_call.id}?page={2**70}").status_code == 400
    last = rex.get(f"/review/{long_call.id}?page=99")
    assert last.status_code == 303 and last.headers["location"].endswith("?page=5")
    assert '<select name="category">' in page.text  # the category is a choice list


def test_a_group_rejection_asks_first_then_decides_every_member(world, long_call):
    rex = sign_in(world, "reviewer")
    key, n = _groups(rex.get(f"/review/{long_call.id}").text)["Odile Quillonaz"]
    token = csrf_of(rex, f"/review/{long_call.id}")
    refused = rex.post(f"/review/{long_call.id}/groups", data={"csrf": token, "group": key, "decision": "reject"})
    assert refused.status_code == 400 and "I understand" in refused.text
    bad_page = rex.post(f"/review/{long_call.id}/groups",
                        data={"csrf": token, "group": key, "decision": "reject", "confirm": "yes", "page": "0"})
    assert bad_page.status_code == 400  # refused before anything is decided
    assert "Odile Quillonaz" in _groups(rex.get(f"/review/{long_call.id}").text)
    done = rex.post(f"/review/{long_call.id}/groups",
                    data={"csrf": token, "group": key, "decision": "reject", "confirm": "yes", "page": "2"})
    assert done.status_code == 303 and done.headers["location"] == f"/review/{long_call.id}?page=2"
    after = rex.get(done.headers["location"]).text
    assert "Odile Quillonaz" not in _groups(after) and "undecided in 1 group" in after
    assert f"Odile Quillonaz · person · rejected ×{n}" in after
    again = rex.post(f"/review/{long_call.id}/groups",
                     data={"csrf": token, "group": key, "decision": "reject", "confirm": "yes"})
    assert again.status_code == 404


def test_a_group_accepted_as_an_identity_of_the_case_only(world, long_call):
    rex = sign_in(world, "reviewer")
    key, _ = _groups(rex.get(f"/review/{long_call.id}").text)["Caller Zorvath"]
    token = csrf_of(rex, f"/review/{long_call.id}")
    foreign = rex.post(f"/review/{long_call.id}/groups",
                       data={"csrf": token, "group": key, "decision": "accept", "identity": "not-an-identity"})
    assert foreign.status_code == 400
    h = [i for i in world.vault.identities(world.case) if i.label == "H"][0]
    linked = rex.post(f"/review/{long_call.id}/groups",
                      data={"csrf": token, "group": key, "decision": "accept", "identity": h.id})
    assert linked.status_code == 303
    assert "Caller Zorvath" not in _groups(rex.get(f"/review/{long_call.id}").text)


def test_release_asks_i_understand(world, long_call):
    rex = sign_in(world, "reviewer")
    token = csrf_of(rex, f"/review/{long_call.id}")
    for key, _ in _groups(rex.get(f"/review/{long_call.id}").text).values():
        rex.post(f"/review/{long_call.id}/groups", data={"csrf": token, "group": key, "decision": "reject",
                                                         "confirm": "yes"})
    page = rex.get(f"/review/{long_call.id}").text
    assert 'class="danger">Release to investigators' in page and 'name="confirm"' in page
    refused = rex.post(f"/review/{long_call.id}/release", data={"csrf": token})
    assert refused.status_code == 400
    assert rex.post(f"/review/{long_call.id}/release", data={"csrf": token, "confirm": "yes"}).status_code == 303


@pytest.mark.parametrize("persona", ["investigator", "admin", "outsider"])
def test_no_one_else_decides_a_group(world, long_call, persona):
    key, _ = _groups(sign_in(world, "reviewer").get(f"/review/{long_call.id}").text)["Odile Quillonaz"]
    other = sign_in(world, persona)
    token = csrf_of(other, "/account")
    answer = other.post(f"/review/{long_call.id}/groups",
                        data={"csrf": token, "group": key, "decision": "reject", "confirm": "yes"})
    assert answer.status_code in (403, 404)
    with world.client(persona) as api:
        assert api.post(f"/api/v1/documents/{long_call.id}/groups",
                        json={"group": key, "decision": "reject"}).status_code in (403, 404)
        assert api.get(f"/api/v1/documents/{long_call.id}/review/groups").status_code in (403, 404)
    assert "Odile Quillonaz" in _groups(sign_in(world, "reviewer").get(f"/review/{long_call.id}").text)


def test_the_api_lists_groups_and_decides_one_by_key(world, long_call):
    with world.client("reviewer") as api:
        groups = api.get(f"/api/v1/documents/{long_call.id}/review/groups").json()
        assert [(g["text"], g["count"], g["speaker_turns"]) for g in groups] == [
            ("Odile Quillonaz", TURNS, 0), ("Caller Zorvath", TURNS // 2, TURNS // 2)]
        answer = api.post(f"/api/v1/documents/{long_call.id}/groups",
                          json={"group": groups[0]["key"], "decision": "reject"})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"id": long_call.id, "undecided": TURNS // 2, "decided": TURNS}
        assert api.post(f"/api/v1/documents/{long_call.id}/groups",
                        json={"group": groups[0]["key"], "decision": "maybe"}).status_code in (400, 422)
        assert [g["text"] for g in api.get(f"/api/v1/documents/{long_call.id}/review/groups").json()] == [
            "Caller Zorvath"]
