from tests.web.pages.conftest import csrf_of, sign_in


def test_each_page_renders(world):
    ivy = sign_in(world, "investigator")
    for path in ("/search", "/upload", "/unmask", "/account", f"/documents/{world.documents['call1'].id}",
                 f"/cases/{world.case.id}/identities", "/users/ivy/second-factor"):
        answer = ivy.get(path)
        assert answer.status_code == 200, (path, answer.text[:2000])
    token = csrf_of(ivy)
    answer = ivy.post("/search", data={"csrf": token, "q": "noose"})
    assert answer.status_code == 200, answer.text[:3000]
    rex = sign_in(world, "reviewer")
    for path in ("/review", f"/review/{world.documents['review'].id}", "/unmask"):
        answer = rex.get(path)
        assert answer.status_code == 200, (path, answer.text[:3000])
    ada = sign_in(world, "admin")
    for path in ("/admin/users", "/admin/users/ivy", "/admin/keys", "/admin/audit"):
        answer = ada.get(path)
        assert answer.status_code == 200, (path, answer.text[:3000])
