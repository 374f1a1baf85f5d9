"""Who may call comes before what they sent: a caller who may not use a route (403), or may not
see its case or document (404), gets that answer whatever their input, before it is judged (422).
The permission and visibility checks are dependencies (web/deps.py), which FastAPI resolves
before it validates the query and the body."""

from __future__ import annotations


def test_a_refusal_comes_before_the_input_is_judged(world):
    call1 = world.documents["call1"].id
    with world.client("investigator") as ivy:
        assert ivy.post("/api/v1/cases", json={}).status_code == 403
        assert ivy.get("/api/v1/audit", params={"after": -1}).status_code == 403
    with world.client("outsider") as otto:
        assert otto.post(f"/api/v1/documents/{call1}/decisions", json={"accept": "x"}).status_code == 404
        assert otto.post(f"/api/v1/cases/{world.case.name}/unmask-requests", json={}).status_code == 404
        assert otto.post("/api/v1/cases/No such case/unmask-requests", json={}).status_code == 404


def test_an_allowed_caller_has_their_input_judged(world):
    with world.client("admin") as ada:
        assert ada.post("/api/v1/cases", json={}).status_code == 422
        assert ada.get("/api/v1/audit", params={"after": -1}).status_code == 422
    with world.client("investigator") as ivy:
        assert ivy.post(f"/api/v1/cases/{world.case.name}/unmask-requests", json={}).status_code == 422
