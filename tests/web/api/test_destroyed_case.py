"""A destroyed case over real HTTP (SECURITY-TESTS 6): every persona gets what a case or document
that never existed gets: the same status and the same body, no hit, no count, no facet."""

from __future__ import annotations

import uuid


def test_a_destroyed_case_answers_like_one_that_never_existed(world):
    name, document = world.case.name, world.documents["call1"].id
    with world.client("investigator") as ivy:
        assert ivy.post("/api/v1/search", json={"q": "noose"}).json()["total"] > 0
    world.vault.destroy_case(world.case, actor="operator:test")
    never = str(uuid.uuid4())
    for persona in ("investigator", "reviewer", "admin", "outsider"):
        with world.client(persona) as client:
            gone, absent = client.get(f"/api/v1/documents/{document}"), client.get(f"/api/v1/documents/{never}")
            assert (gone.status_code, gone.json()) == (absent.status_code, absent.json()) == (
                404, absent.json()), persona
            for path in ("identities", "unmask-requests", "audit"):
                gone = client.get(f"/api/v1/cases/{name}/{path}")
                absent = client.get(f"/api/v1/cases/No such case at all/{path}")
                assert (gone.status_code, gone.json()) == (absent.status_code, absent.json()), (persona, path)
            assert name not in client.get("/api/v1/cases").text, persona
            if persona != "admin":
                found = client.post("/api/v1/search", json={"q": "noose OR notice OR kind:transcript"}).json()
                assert (found["total"], found["hits"]) == (0, []) and not any(found["facets"].values()), persona
    with world.client("admin") as ada:
        assert ada.get("/api/v1/audit/verify").status_code == 200
        destroyed = [e for e in ada.get("/api/v1/audit", params={"limit": 500}).json() if e["action"] == "case.destroy"]
    assert [e["target"] for e in destroyed] == [world.case.id] and name not in str(destroyed)
