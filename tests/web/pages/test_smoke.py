from tests.web.pages.conftest import csrf_of, search, sign_in


def test_each_page_renders(world):
    ivy = sign_in(world, "investigator")
    for path in ("/search", "/upload", "/unmask", "/account", f"/documents/{world.documents['call1'].id}",
                 f"/cases/{world.case.id}/identities", "/users/ivy/second-factor"):
        answer = ivy.get(path)
        assert answer.status_code == 200, (path, answer.text[:2000])
    token = csrf_of(ivy)
    answer = search(ivy, token, "noose")
    assert answer.status_code == 200, answer.text[:3000]
    rex = sign_in(world, "reviewer")
    for path in ("/review", f"/review/{world.documents['review'].id}", "/unmask"):
        answer = rex.get(path)
        assert answer.status_code == 200, (path, answer.text[:3000])
    ada = sign_in(world, "admin")
    for path in ("/admin/users", "/admin/users/ivy", "/admin/keys", "/admin/audit"):
        answer = ada.get(path)
        assert answer.status_code == 200, (path, answer.text[:3000])


def test_the_review_page_offers_the_title_to_mask_by_hand(world):
    rex = sign_in(world, "reviewer")
    document = world.documents["review"]
    page = rex.get(f"/review/{document.id}")
    assert 'data-unit="-1" data-field="title"' in page.text and "call3.txt" in page.text
    answer = rex.post(f"/review/{document.id}/spans", data={
        "csrf": csrf_of(rex), "unit": "-1", "field": "title", "start": "0", "end": "5", "category": "other"})
    assert answer.status_code == 303, answer.text[:2000]
    assert [(r["field"], r["start"], r["end"], r["state"]) for r in world.vault.masked(document.id).title_suggestions] \
        == [("title", 0, 5, "accepted")]
