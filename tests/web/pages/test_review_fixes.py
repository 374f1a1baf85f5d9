"""Reviewers fix the masking from the review page, over real HTTP: one mention that is not its
identity (the clerk "Hadrien Mercadier" is not H), reopening a released document (it leaves the
investigators' search and view, through the app and its real index), identities added and
edited, and the verbatim text with each mask marked by what it becomes."""

from __future__ import annotations

import html
import io

from tests.web.pages.conftest import csrf_of, search, sign_in

RECORD = "Greffier : M. Hadrien Mercadier, lors des débats. Hadrien Quillon est absent; Hadrien a signé.".encode()
CLERK = RECORD.decode().index("Hadrien")


def _record(world):
    return world.vault.ingest(io.BytesIO(RECORD), case=world.case, filename="arret.txt", actor="tester")


def _h(world):
    return next(i for i in world.vault.identities(world.case) if i.label == "H")


def _clerk_form(world, token, **changes):
    return {"csrf": token, "unit": "1", "field": "text", "start": str(CLERK), "end": str(CLERK + 7),
            "identity": _h(world).id} | changes


def _release(world, document_id, releaser="reviewer2"):
    masked = world.vault.masked(document_id)
    pending = [r["id"] for u in masked.units for r in u.suggestions if r["state"] == "pending"]
    pending += [r["id"] for r in masked.title_suggestions if r["state"] == "pending"]
    if pending:
        world.vault.decide(document_id, world.users["reviewer"], pending, accept=False, actor="tester")
    world.vault.release(document_id, world.users[releaser], actor="tester")


def test_the_review_page_shows_the_verbatim_text_with_what_each_mask_becomes(world):
    rex = sign_in(world, "reviewer")
    page = html.unescape(rex.get(f"/review/{world.documents['review'].id}").text)
    # "The noose tightens, Quillon.": the alias as written, marked with the pseudonym it becomes
    assert '<mark class="identity" title="becomes the pseudonym H" data-becomes="H">Quillon</mark>. Your' in page
    assert "Hadrien Quillon" not in page.split('id="units"')[1].split("</section>")[0]
    assert 'id="legend"' in page and "Category mask" in page and "Revealed names" in page


def test_a_reviewer_leaves_one_mention_as_written_and_no_other(world):
    document = _record(world)
    rex = sign_in(world, "reviewer")
    token = csrf_of(rex)
    answer = rex.post(f"/review/{document.id}/not-identity", data=_clerk_form(world, token))
    assert answer.status_code == 303 and answer.headers["location"] == f"/review/{document.id}?notice=excepted"
    page = html.unescape(rex.get(answer.headers["location"]).text)
    assert "That mention is left as written" in page
    assert '<mark class="excepted" title="left as written: not H here' in page
    assert rex.post(f"/review/{document.id}/not-identity", data=_clerk_form(world, token)).status_code == 409
    _release(world, document.id)
    ivy = sign_in(world, "investigator")
    text = html.unescape(ivy.get(f"/documents/{document.id}").text)
    assert "M. Hadrien Mercadier, lors" in text and text.count("Hadrien") == 1 and "Quillon" not in text
    assert "est absent; " in text
    audited = [e for e in world.vault.audit_entries(limit=1000) if e.action == "review.not-identity"]
    assert len(audited) == 1 and "Mercadier" not in str(audited[0].details)


def test_only_a_reviewer_may_except_a_mention_and_only_a_real_one(world):
    document = _record(world)
    for persona in ("investigator", "admin", "outsider"):
        client = sign_in(world, persona)
        answer = client.post(f"/review/{document.id}/not-identity", data=_clerk_form(world, csrf_of(client)))
        assert answer.status_code == 403, persona
    rex = sign_in(world, "reviewer")
    token = csrf_of(rex)
    other = next(i for i in world.vault.identities(world.case) if i.label != "H")
    for bad in ({"start": "0"}, {"end": str(CLERK + 3)}, {"identity": other.id}, {"identity": "nobody"},
                {"unit": "x"}, {"field": "footnote"}):
        answer = rex.post(f"/review/{document.id}/not-identity", data=_clerk_form(world, token, **bad))
        assert answer.status_code == 400, (bad, answer.status_code)
        assert "Traceback" not in answer.text
    assert not [e for e in world.vault.audit_entries(limit=1000) if e.action == "review.not-identity"]


def test_a_reopened_document_leaves_the_investigators_search_and_view(world):
    call1 = world.documents["call1"]
    ivy = sign_in(world, "investigator")
    token = csrf_of(ivy)
    assert f"/documents/{call1.id}" in search(ivy, token, "noose").text
    assert 'id="reviewer-view"' not in ivy.get(f"/documents/{call1.id}").text
    for persona in ("investigator", "admin", "outsider"):
        client = sign_in(world, persona)
        assert client.post(f"/review/{call1.id}/reopen", data={"csrf": csrf_of(client)}).status_code == 403, persona
    rex = sign_in(world, "reviewer")
    assert f'href="/review/{call1.id}" id="reviewer-view"' in rex.get(f"/documents/{call1.id}").text
    page = rex.get(f"/review/{call1.id}").text  # a released document: read only, with "reopen"
    assert 'action="/review/{}/reopen"'.format(call1.id) in page and "/decisions" not in page
    answer = rex.post(f"/review/{call1.id}/reopen", data={"csrf": csrf_of(rex)})
    assert answer.status_code == 303 and answer.headers["location"].endswith("?notice=reopened")
    assert rex.post(f"/review/{call1.id}/reopen", data={"csrf": csrf_of(rex)}).status_code == 409
    assert f"/documents/{call1.id}" not in search(ivy, token, "noose").text
    assert ivy.get(f"/documents/{call1.id}").status_code == 404
    assert [e.action for e in world.vault.audit_entries(limit=1000)].count("document.reopen") == 1
    rita = sign_in(world, "reviewer2")
    assert rita.post(f"/review/{call1.id}/release", data={"csrf": csrf_of(rita), "confirm": "yes"}).status_code == 303
    assert f"/documents/{call1.id}" in search(ivy, token, "noose").text


def test_a_reviewer_adds_and_edits_identities_from_the_review_page(world):
    document = _record(world)
    rex = sign_in(world, "reviewer")
    token = csrf_of(rex)
    path = f"/review/{document.id}"
    for persona in ("investigator", "admin", "outsider"):
        client = sign_in(world, persona)
        answer = client.post(f"{path}/identities", data={"csrf": csrf_of(client), "name": "Jean Ferréol"})
        assert answer.status_code == 403, persona
    answer = rex.post(f"{path}/identities", data={"csrf": token, "name": "Hadrien Mercadier",
                                                  "aliases": "Mercadier, H. Mercadier", "label": "Clerk"})
    assert answer.status_code == 303 and answer.headers["location"] == f"{path}?notice=identity-added"
    clerk = next(i for i in world.vault.identities(world.case) if i.label == "Clerk")
    assert clerk.name == "Hadrien Mercadier" and "Mercadier" in clerk.aliases
    page = html.unescape(rex.get(answer.headers["location"]).text)
    assert 'data-becomes="Clerk">Hadrien Mercadier</mark>' in page
    answer = rex.post(f"{path}/identities/edit", data={"csrf": token, "identity": clerk.id, "label": "Greffier",
                                                       "add_aliases": "le greffier"})
    assert answer.status_code == 303 and answer.headers["location"] == f"{path}?notice=identity-edited"
    edited = next(i for i in world.vault.identities(world.case) if i.id == clerk.id)
    assert edited.label == "Greffier" and "le greffier" in edited.aliases
    for bad in ({"identity": "nobody", "label": "X"}, {"identity": clerk.id}):
        assert rex.post(f"{path}/identities/edit", data={"csrf": token, **bad}).status_code == 400, bad
    assert rex.post(f"{path}/identities", data={"csrf": token, "name": "  "}).status_code == 400
    actions = [e.action for e in world.vault.audit_entries(limit=1000)]
    assert actions.count("identity.add") == 3 and actions.count("identity.edit") == 1
