"""Every page route against every persona, through real HTTP, signed in through the sign-in form:
one table, checked against the app's routes so that a new page without a row fails here.

A page that needs a session sends anyone without one (never signed in, or signed out: the
session ended on the server) to the sign-in page (303). Signed in, what a person may not see is
404 like what does not exist, and what they may see but not do is 403. Every POST carries the
persona's CSRF token (the CSRF tests send none or a wrong one).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from tests.web.pages.conftest import CSRF, browser, form_of, sign_in

SIGNED_IN = ("investigator", "reviewer", "admin", "outsider")
JUSTIFICATION = "to prepare the extradition hearing of 14 May with counsel"


@dataclass
class Row:
    method: str
    path: str
    expect: dict[str, int]
    form: object = None  # (world, persona) -> dict of form fields (files under "files")
    anonymous: int = 303  # without a session: to the sign-in page
    page: tuple[str, str] | None = None  # (page, action): the admin posts that page's form's hidden fields


def _same(status: int) -> dict[str, int]:
    return dict.fromkeys(SIGNED_IN, status)


def _admin_only(status: int) -> dict[str, int]:
    return _same(403) | {"admin": status}


def _mention(world):
    """The first mention of an identity in the document in review, as its "not this identity" form sends it."""
    view = world.vault.review_view(world.documents["review"].id, world.users["reviewer"], actor="tester")
    span = next(s for s in view.spans if s["field"] == "text")
    return {k: str(span[k]) for k in ("unit", "field", "start", "end")} | {"identity": span["identity_id"]}


def _upload(world, persona):
    return {"case": world.case.id, "files": {"file": (f"{persona}.txt", io.BytesIO(
        f"[00:00:01] QM: a page upload by {persona}.\n".encode()))}}


TABLE = [
    Row("GET", "/login", _same(200), anonymous=200),
    Row("POST", "/login", _same(403), lambda w, p: {"name": "ivy", "password": "x" * 12}, anonymous=403),
    Row("POST", "/logout", _same(303)),
    Row("GET", "/", _same(303)),
    Row("GET", "/search", _same(200) | {"admin": 403}),
    Row("POST", "/search", _same(303) | {"admin": 403}, lambda w, p: {"q": "noose"}),
    # ivy's search: anyone else's id answers like none, whatever their role
    Row("GET", "/search/{search}", _same(404) | {"investigator": 200}),
    Row("POST", "/search/{search}/save", _same(404) | {"investigator": 303}, lambda w, p: {"name": "nooses"}),
    Row("POST", "/search/{search}/remove", _same(404) | {"investigator": 303}, lambda w, p: {"filter": "0"}),
    Row("GET", "/searches", _same(200) | {"admin": 403}),
    Row("POST", "/searches/{search}/run", _same(404) | {"investigator": 303}),
    Row("POST", "/searches/{search}/delete", _same(404) | {"investigator": 303}),
    Row("GET", "/documents/{call1}", {"investigator": 200, "reviewer": 200, "admin": 404, "outsider": 404}),
    Row("POST", "/documents/{call1}/unmask", {"investigator": 303, "reviewer": 403, "admin": 404, "outsider": 404},
        lambda w, p: {"identity": "Caller 1", "justification": JUSTIFICATION}),  # H: ivy's request waits
    Row("GET", "/upload", _same(200) | {"admin": 403}),
    Row("GET", "/upload/call", _same(200) | {"admin": 403}),
    # the viewers of originals: a transcript has no pages to draw (400), call1 has no audio
    Row("GET", "/documents/{call1}/pages/1", {"investigator": 403, "reviewer": 400, "admin": 404, "outsider": 404}),
    Row("GET", "/documents/{call1}/audio", _same(404)),
    Row("GET", "/documents/{call1}/timings", {"investigator": 200, "reviewer": 200, "admin": 404, "outsider": 404}),
    Row("POST", "/upload", {"investigator": 303, "reviewer": 303, "admin": 403, "outsider": 404}, _upload),
    Row("GET", "/uploaded/{call1}", _same(200)),
    Row("GET", "/review", _same(403) | {"reviewer": 200}),
    Row("GET", "/review/{review}", {"investigator": 404, "reviewer": 200, "admin": 404, "outsider": 404}),
    Row("POST", "/review/{review}/decisions", _same(403) | {"reviewer": 303},
        lambda w, p: {f"s:{w.pending[0]}": "reject"}),
    Row("POST", "/review/{review}/spans", _same(403) | {"reviewer": 303},
        lambda w, p: {"unit": "1", "field": "text", "start": "0", "end": "5", "category": "other"}),
    Row("POST", "/review/{review}/date", _same(403) | {"reviewer": 303}, lambda w, p: {"date": "2023-03-14"}),
    # the row above decided the one suggestion: its group is gone (test_review_groups.py decides one)
    Row("POST", "/review/{review}/groups", _same(403) | {"reviewer": 404},
        lambda w, p: {"group": w.pending[0], "decision": "accept"}),
    Row("POST", "/review/{review}/release", _same(403),  # rex uploaded it: another reviewer releases
        lambda w, p: {"confirm": "yes"}),
    Row("POST", "/review/{review}/not-identity", _same(403) | {"reviewer": 303}, lambda w, p: _mention(w)),
    Row("POST", "/review/{review}/reopen", _same(403) | {"reviewer": 409}),  # not released
    Row("POST", "/review/{review}/identities", _same(403) | {"reviewer": 303},
        lambda w, p: {"name": f"Page Person {p}", "aliases": "", "label": ""}),
    Row("POST", "/review/{review}/identities/edit", _same(403) | {"reviewer": 303},
        lambda w, p: {"identity": w.vault.identity(w.case, "H").id, "add_aliases": f"Quillon {p}"}),
    # the document browser: admins see the case and none of its documents; another case's member a 404
    Row("GET", "/cases", _same(200)),
    Row("GET", "/cases/{case_id}", _same(200) | {"outsider": 404}),
    Row("GET", "/cases/{case_id}/identities", {"investigator": 200, "reviewer": 200, "admin": 403, "outsider": 404}),
    Row("GET", "/unmask", _same(200) | {"admin": 403}),
    Row("POST", "/unmask/{request}/decision", {"investigator": 403, "reviewer": 303, "admin": 404, "outsider": 404},
        lambda w, p: {"approve": "0"}),
    Row("POST", "/unmask/{request}/revoke", {"investigator": 403, "reviewer": 409, "admin": 404, "outsider": 404}),
    Row("GET", "/confirmations", _same(403) | {"reviewer": 200}),
    Row("POST", "/confirmations/{confirmation}", _same(403) | {"reviewer": 303}, lambda w, p: {"approve": "0"}),
    Row("GET", "/enrol", _same(200), anonymous=200),
    Row("GET", "/enrol/done", _same(200), anonymous=200),
    # custodians of a sealed server (this one is open): the form carries the sign-in token, none here
    Row("GET", "/unseal", _same(200), anonymous=200),
    Row("POST", "/unseal", _same(403), lambda w, p: {"share": "not a share"}, anonymous=403),
    Row("POST", "/unseal/reset", _same(403), anonymous=403),
    Row("POST", "/enrol", _same(403), lambda w, p: {"enrolment_code": "cve_x", "password": "x" * 12}, anonymous=403),
    Row("GET", "/account", _same(200)),
    Row("POST", "/account/password", _same(400), lambda w, p: {"current": "x", "new": "a" * 12, "repeat": "b" * 12}),
    Row("GET", "/users/ivy/second-factor", _same(403) | {"investigator": 200}),
    Row("POST", "/users/ivy/second-factor", _same(403) | {"investigator": 400},
        lambda w, p: {"secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "code": "000000"}),
    Row("GET", "/admin/users", _admin_only(200)),
    Row("POST", "/admin/users", _admin_only(201), lambda w, p: {"name": f"page-{p}", "role": "investigator"},
        page=("/admin/users", "/admin/users")),
    Row("GET", "/admin/users/ivy", _admin_only(200)),
    Row("POST", "/admin/users/rita/memberships", _admin_only(303),
        lambda w, p: {"case": w.case.id, "member": "0", "confirm": "yes"}),
    Row("POST", "/admin/users/rita/active", _admin_only(303), lambda w, p: {"active": "1"}),
    Row("POST", "/admin/users/rita/reset-sign-in", _admin_only(200),
        page=("/admin/users/rita", "/admin/users/rita/reset-sign-in")),
    Row("POST", "/admin/users/rita/role", _admin_only(303), lambda w, p: {"role": "reviewer"}),
    # an admin issues keys to themselves only: another user's key would read what they read
    Row("POST", "/admin/users/rita/access-keys", _same(403), lambda w, p: {"days": "30"},  # the token of Ada's own form
        page=("/admin/users/{admin}", "/admin/users/{admin}/access-keys")),
    Row("POST", "/admin/access-keys/{spare_key}/revoke", _admin_only(303), lambda w, p: {"user": "rita", "confirm": "yes"}),
    Row("GET", "/admin/cases", _admin_only(200)),
    Row("POST", "/admin/cases", _admin_only(303), lambda w, p: {"name": f"Page case {p}"},
        page=("/admin/cases", "/admin/cases")),
    Row("GET", "/admin/cases/{case_id}", _admin_only(200)),
    Row("POST", "/admin/cases/{case_id}/memberships", _admin_only(303), lambda w, p: {"user": "walt", "member": "1"}),
    Row("GET", "/admin/keys", _admin_only(200)),
    Row("POST", "/admin/keys/rotate", _admin_only(303), page=("/admin/keys", "/admin/keys/rotate")),
    Row("POST", "/admin/keys/master/rotate", _admin_only(303), page=("/admin/keys", "/admin/keys/master/rotate")),
    Row("POST", "/admin/keys/master/retire", _admin_only(303),  # after the rotation
        lambda w, p: {"version": "1", "confirm": "yes"}),
    Row("GET", "/admin/audit", _admin_only(200)),
    Row("POST", "/admin/audit/verify", _admin_only(303)),
    Row("POST", "/admin/audit/entries.csv", _admin_only(200), lambda w, p: {"action": "search"}),
    Row("POST", "/admin/audit/entries.json", _admin_only(200), lambda w, p: {"since": "2020-01-01"}),
    Row("POST", "/admin/audit/export", _admin_only(200)),
    Row("GET", "/admin/backups", _admin_only(200)),
    Row("POST", "/admin/backups", _admin_only(303)),  # a backup starts and runs on in its thread
]

_PLACEHOLDERS = {"{call1}": "{document_id}", "{review}": "{document_id}", "{request}": "{request_id}",
                 "{spare_key}": "{key_id}", "{confirmation}": "{confirmation_id}", "{search}": "{search_id}", "/users/ivy/": "/users/{name}/", "/users/rita/": "/users/{name}/",
                 "/pages/1": "/pages/{page}"}


def _template(path: str) -> str:
    for value, placeholder in _PLACEHOLDERS.items():
        path = path.replace(value, placeholder)
    return path.replace("/users/ivy", "/users/{name}")


def page_routes(routes):
    for route in routes:
        if hasattr(route, "original_router"):  # an included router (FastAPI keeps its routes inside)
            yield from page_routes(route.original_router.routes)
            continue
        path = getattr(route, "path", "")
        if path.startswith(("/api/", "/static")) or not getattr(route, "methods", None):
            continue
        for method in route.methods:
            if method != "HEAD":
                yield method, path


def test_every_page_route_has_a_row(world):
    routes = set(page_routes(world.app.routes))
    assert len(routes) > 25
    assert routes == {(row.method, _template(row.path)) for row in TABLE}


def test_every_page_answers_every_persona_as_the_table_says(world):
    world.pending = [str(r["id"]) for u in world.vault.masked(world.documents["review"].id).units
                     for r in u.suggestions if r["state"] == "pending"]
    request = world.vault.request_unmask(world.users["investigator"], world.case, "H", JUSTIFICATION, actor="tester")
    spare, _ = world.vault.issue_access_key("rita", actor="tester")
    world.vault.add_user("walt", "investigator", actor="tester")  # a membership an admin made waits for rex
    world.vault.set_membership("walt", world.case, member=True, actor="tester", by=world.users["admin"])
    waiting = world.vault.confirmations()[0]
    values = {"call1": world.documents["call1"].id, "review": world.documents["review"].id, "case_id": world.case.id,
              "request": request.id, "spare_key": spare.id, "confirmation": waiting.id,
              "admin": world.users["admin"].name,
              "search": world.vault.searches.create(world.users["investigator"], "noose").id}
    clients = {p: sign_in(world, p) for p in SIGNED_IN}
    signed_out = sign_in(world, "investigator", browser(world))
    token = CSRF.search(signed_out.get("/account").text).group(1)
    ended = signed_out.cookies["casevault"]
    assert signed_out.post("/logout", data={"csrf": token}).status_code == 303
    signed_out.cookies.set("casevault", ended)  # the browser keeps the cookie; the server ended the session
    clients["anonymous"], clients["signed out"] = browser(world), signed_out
    tokens = {p: CSRF.search(clients[p].get("/account").text).group(1) for p in SIGNED_IN}
    wrong = []
    for row in TABLE:
        path = row.path.format(**values)
        for persona in ("anonymous", "signed out", "outsider", "admin", "investigator", "reviewer"):
            client = clients[persona]
            expected = row.expect.get(persona, row.anonymous)
            kwargs = {}
            if row.method == "POST":
                form = dict(row.form(world, persona)) if row.form else {}
                files = form.pop("files", None)
                form["csrf"] = tokens.get(persona, "no-session")
                if row.page and persona == "admin":
                    shown, action = (part.format(**values) for part in row.page)
                    form |= {k: v for k, v in form_of(client, shown, action).items() if k not in form}
                kwargs = {"data": form, "files": files} if files else {"data": form}
            if path == "/logout" and persona in SIGNED_IN:
                continue  # signing out is tested below; here it would end the persona's session
            answer = client.request(row.method, path, **kwargs)
            if answer.status_code != expected:
                wrong.append(f"{row.method} {row.path} as {persona}: {answer.status_code} (expected {expected})")
            elif expected == 303 and persona in ("anonymous", "signed out"):
                if answer.headers["location"] != "/login":
                    wrong.append(f"{row.method} {row.path} as {persona}: to {answer.headers['location']}")
            if answer.status_code >= 400:
                assert "Traceback" not in answer.text and "File \"" not in answer.text, (row.path, persona)
    assert not wrong, "\n".join(wrong)
