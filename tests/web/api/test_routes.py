"""Every API route against every persona, through real HTTP: one table, generated against the
app's routes so that a new route without a row fails here.

Statuses follow one rule: what a caller may not see is 404, exactly like what does not exist;
what they may see but not change is 403; a missing, unknown, revoked or expired key is 401.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field


ANONYMOUS = ("anonymous", "revoked", "expired")
JUSTIFICATION = "needed to prepare the extradition hearing of 14 May"


@dataclass
class Row:
    method: str
    path: str  # with {placeholders} filled from the world
    expect: dict[str, int]  # investigator, reviewer, admin, outsider; the others get `unauthenticated`
    body: Callable[[object, str], dict[str, object]] | None = None  # (world, persona) -> request arguments
    unauthenticated: int = 401
    statuses: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.statuses = {p: self.unauthenticated for p in ANONYMOUS} | self.expect


def _upload(world, persona):
    return {"files": {"file": (f"{persona}.txt", io.BytesIO(f"[00:00:01] QM: a call for {persona}.\n".encode()))},
            "data": {"case": world.case.name}}


def _json(value):
    return lambda world, persona: {"json": value(world, persona) if callable(value) else value}


def _same(status: int) -> dict[str, int]:
    return dict.fromkeys(("investigator", "reviewer", "admin", "outsider"), status)


def _admin_only(status: int) -> dict[str, int]:
    return _same(403) | {"admin": status}


TABLE = [
    Row("GET", "/api/v1/health", _same(200), unauthenticated=200),
    Row("GET", "/api/v1/openapi.json", _same(200), unauthenticated=200),
    # the seal: custodians of a sealed server, before anyone can be authenticated (this one is open)
    Row("GET", "/api/v1/seal", _same(200), unauthenticated=200),
    Row("POST", "/api/v1/seal/shares", _same(409), _json({"share": "not a share"}), unauthenticated=409),
    Row("POST", "/api/v1/seal/reset", _same(200), unauthenticated=200),
    Row("GET", "/api/v1/cases", _same(200)),
    Row("POST", "/api/v1/cases", _admin_only(201), _json(lambda w, p: {"name": f"New case {p}"})),
    Row("POST", "/api/v1/documents", {"investigator": 201, "reviewer": 201, "admin": 403, "outsider": 404}, _upload),
    Row("GET", "/api/v1/documents/{call1}", {"investigator": 200, "reviewer": 200, "admin": 404, "outsider": 404}),
    Row("GET", "/api/v1/documents/{call1}/original", {"investigator": 403, "reviewer": 200, "admin": 404, "outsider": 404}),
    # the viewers of originals: a transcript has no pages to draw (400) and call1 has no audio
    Row("GET", "/api/v1/documents/{call1}/pages/1", {"investigator": 403, "reviewer": 400, "admin": 404, "outsider": 404}),
    Row("GET", "/api/v1/documents/{call1}/audio", _same(404)),
    Row("POST", "/api/v1/search", {"investigator": 200, "reviewer": 200, "admin": 403, "outsider": 200}, _json({"q": "noose"})),
    Row("GET", "/api/v1/review", _same(403) | {"reviewer": 200}),
    Row("GET", "/api/v1/documents/{review}/review", {"investigator": 404, "reviewer": 200, "admin": 404, "outsider": 404}),
    Row("POST", "/api/v1/documents/{review}/decisions", {"investigator": 404, "reviewer": 200, "admin": 404, "outsider": 404},
        _json(lambda w, p: {"reject": [w.pending[0]]})),
    Row("GET", "/api/v1/documents/{review}/review/groups", {"investigator": 404, "reviewer": 200, "admin": 404,
                                                             "outsider": 404}),
    Row("POST", "/api/v1/documents/{review}/groups", {"investigator": 404, "reviewer": 404, "admin": 404, "outsider": 404},
        _json({"group": "0.t0-1", "decision": "reject"})),  # no such group: test_review_groups.py decides one
    Row("POST", "/api/v1/documents/{review}/spans", {"investigator": 404, "reviewer": 201, "admin": 404, "outsider": 404},
        _json({"field": "title", "start": 0, "end": 2, "category": "other"})),
    # a reviewer's; an investigator sees the released call but may not date it
    Row("PUT", "/api/v1/documents/{call1}/date", {"investigator": 403, "reviewer": 200, "admin": 404, "outsider": 404},
        _json({"date": "2023-03-14"})),
    Row("POST", "/api/v1/documents/{review}/release", {"investigator": 404, "reviewer": 403, "admin": 404, "outsider": 404}),
    Row("GET", "/api/v1/cases/{case}/identities", {"investigator": 200, "reviewer": 200, "admin": 403, "outsider": 404}),
    # ivy's request for H waits already: a second one would be refused
    Row("POST", "/api/v1/cases/{case}/unmask-requests", {"investigator": 201, "reviewer": 403, "admin": 403, "outsider": 404},
        _json({"identity": "Caller 1", "justification": JUSTIFICATION})),
    Row("GET", "/api/v1/cases/{case}/unmask-requests", {"investigator": 200, "reviewer": 200, "admin": 403, "outsider": 404}),
    Row("POST", "/api/v1/unmask-requests/{request}/decision", {"investigator": 403, "reviewer": 200, "admin": 404, "outsider": 404},
        _json({"approve": False})),
    Row("POST", "/api/v1/unmask-requests/{request}/revoke",  # denied by then: nothing to revoke
        {"investigator": 403, "reviewer": 409, "admin": 404, "outsider": 404}),
    Row("GET", "/api/v1/users", _admin_only(200)),
    Row("POST", "/api/v1/users", _admin_only(201), _json(lambda w, p: {"name": f"new-{p}", "role": "investigator"})),
    Row("PUT", "/api/v1/users/otto/role", _admin_only(200), _json({"role": "investigator"})),
    Row("PUT", "/api/v1/users/otto/cases/{case}", _admin_only(200)),
    Row("DELETE", "/api/v1/users/otto/cases/{case}", _admin_only(200)),
    # one's own keys, and an admin lists and revokes anyone's; nobody issues a key for someone else
    Row("GET", "/api/v1/users/ivy/access-keys", _admin_only(200) | {"investigator": 200}),
    Row("POST", "/api/v1/users/otto/access-keys", _same(403) | {"outsider": 201}, _json({"expires_in_days": 30})),
    Row("DELETE", "/api/v1/access-keys/{spare_key}", _same(404) | {"admin": 200, "outsider": 200}),
    Row("GET", "/api/v1/confirmations", _same(403) | {"reviewer": 200}),
    Row("POST", "/api/v1/confirmations/{confirmation}", _same(404) | {"reviewer": 200}, _json({"approve": False})),
    Row("POST", "/api/v1/enrol", _same(401), _json({"code": "cve_unknown", "password": "x" * 12})),
    Row("GET", "/api/v1/keys", _admin_only(200)),
    Row("POST", "/api/v1/keys/rotate", _admin_only(200)),
    Row("POST", "/api/v1/keys/master/rotate", _admin_only(200)),
    Row("POST", "/api/v1/keys/master/1/retire", _admin_only(200)),  # after the rotation: nothing depends on it
    Row("GET", "/api/v1/audit", _admin_only(200)),
    Row("GET", "/api/v1/audit/verify", _admin_only(200)),
    Row("GET", "/api/v1/audit/export", _admin_only(200)),
    # backups: written on the server, never handed out; the one started here runs on while the rows go on
    Row("GET", "/api/v1/backups", _admin_only(200)),
    Row("POST", "/api/v1/backups", _admin_only(202)),
    Row("GET", "/api/v1/cases/{case}/audit", {"investigator": 403, "reviewer": 200, "admin": 403, "outsider": 404}),
    Row("POST", "/api/v1/users/rita/reset", _admin_only(200)),  # last: rita's key stops working
]


def _all_routes(routes, prefix: str = ""):
    for route in routes:
        if hasattr(route, "original_router"):  # an included router (FastAPI keeps its routes inside)
            yield from _all_routes(route.original_router.routes, route.original_router.prefix)
        elif getattr(route, "path", "").startswith("/api/v1") or prefix:
            path = route.path if route.path.startswith(prefix) else prefix + route.path
            for method in route.methods or ():
                if method != "HEAD":
                    yield method, path


def test_every_route_has_a_row(world):
    app_routes = set(_all_routes(world.app.routes))
    assert len(app_routes) > 20
    rows = {(row.method, _template(row.path)) for row in TABLE}
    assert app_routes == rows


def _template(path: str) -> str:
    return (path.replace("{call1}", "{document_id}").replace("{review}", "{document_id}")
            .replace("{request}", "{request_id}").replace("{spare_key}", "{key_id}")
            .replace("{confirmation}", "{confirmation_id}").replace("/users/rita/", "/users/{name}/")
            .replace("/users/ivy/", "/users/{name}/").replace("/users/otto/", "/users/{name}/")
            .replace("/cases/{case}", "/cases/{case}").replace("/master/1/", "/master/{version}/")
            .replace("/pages/1", "/pages/{page}"))


def test_every_route_answers_every_persona_as_the_table_says(world):
    world.pending = [str(r["id"]) for u in world.vault.masked(world.documents["review"].id).units
                     for r in u.suggestions if r["state"] == "pending"]
    request = world.vault.request_unmask(world.users["investigator"], world.case, "H", JUSTIFICATION, actor="tester")
    spare, _ = world.vault.issue_access_key("otto", actor="tester")
    world.vault.add_user("walt", "investigator", actor="tester")  # a membership an admin made waits for rex
    world.vault.set_membership("walt", world.case, member=True, actor="tester", by=world.users["admin"])
    waiting = world.vault.confirmations()[0]
    values = {"call1": world.documents["call1"].id, "review": world.documents["review"].id, "case": world.case.name,
              "request": request.id, "spare_key": spare.id, "confirmation": waiting.id}
    wrong = []
    for row in TABLE:
        path = row.path.format(**values)
        for persona in ("anonymous", "revoked", "expired", "outsider", "admin", "investigator", "reviewer"):
            arguments = row.body(world, persona) if row.body else {}
            with world.client(persona) as client:
                answer = client.request(row.method, path, **arguments)
            if answer.status_code != row.statuses[persona]:
                wrong.append(f"{row.method} {row.path} as {persona}: {answer.status_code} "
                             f"(expected {row.statuses[persona]}) {answer.text[:160]}")
            if answer.status_code >= 400:
                assert answer.headers["content-type"].startswith("application/json"), (row.path, persona)
                assert set(answer.json()) == {"error", "message"}, (row.path, persona)
    assert not wrong, "\n".join(wrong)


def test_every_search_error_has_a_status_a_person_can_act_on():
    """A search error that reached the handler unmapped would be a 500; each one the search
    package raises is a 400 (the query) or a 503 (the index: try again, or rebuild)."""
    import inspect

    from search import errors
    from web._errors import status_of

    raised = [kind for _, kind in inspect.getmembers(errors, inspect.isclass)
              if issubclass(kind, errors.SearchError) and kind is not errors.SearchError]
    assert errors.IndexWriteFailed in raised
    for kind in raised:
        parameters = inspect.signature(kind.__init__).parameters
        error = kind("x", "y") if len(parameters) == 3 else kind() if len(parameters) == 1 else kind("x")
        assert status_of(error) in (400, 503), kind.__name__
