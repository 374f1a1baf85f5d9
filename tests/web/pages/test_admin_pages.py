"""The admin pages behave (real HTTP): every form answers 303 to a page, a form that must not
repeat is refused when sent again, a destructive form needs its "I understand" box, and the audit
page lists newest first with names, filters, exports (CSV, JSON; admins only, audited) and the
chain's head."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime

import pytest

from tests.web.pages.conftest import CSRF, form_of, sign_in
from web._forms import FormExpired, FormUsed, OneTimeForms


def _audit_actions(world, action: str) -> int:
    return sum(1 for e in world.vault.audit_entries(limit=10_000) if e.action == action)


# -- post, redirect, get; and a form sent again --------------------------------------------------

def test_rotating_the_case_keys_redirects_and_the_same_form_sent_again_rotates_nothing(world):
    ada = sign_in(world, "admin")
    before = world.vault.key_status().case_key_versions
    form = form_of(ada, "/admin/keys", "/admin/keys/rotate")
    rotated = ada.post("/admin/keys/rotate", data=form)
    assert rotated.status_code == 303 and rotated.headers["location"] == "/admin/keys?notice=case-keys-rotated"
    shown = ada.get(rotated.headers["location"])
    assert shown.status_code == 200 and "Every case key has a new version" in shown.text
    after = world.vault.key_status().case_key_versions
    assert max(after) == max(before) + 1
    again = ada.post("/admin/keys/rotate", data=form)  # a resubmission: Back, then send again
    assert again.status_code == 409 and "sent already" in again.text
    assert world.vault.key_status().case_key_versions == after, "the keys were rotated twice"
    assert _audit_actions(world, "keys.rotate") == 1


def test_rotating_the_master_key_twice_with_one_form_rotates_once(world):
    ada = sign_in(world, "admin")
    form = form_of(ada, "/admin/keys", "/admin/keys/master/rotate")
    assert ada.post("/admin/keys/master/rotate", data=form).status_code == 303
    assert ada.post("/admin/keys/master/rotate", data=form).status_code == 409
    assert len(world.vault.key_status().master_versions) == 2


def test_a_form_token_of_another_form_or_session_or_none_is_refused(world):
    ada, again = sign_in(world, "admin"), sign_in(world, "admin")
    theirs = form_of(again, "/admin/keys", "/admin/keys/rotate")
    mine = form_of(ada, "/admin/keys", "/admin/keys/rotate")
    other_form = form_of(ada, "/admin/keys", "/admin/keys/master/rotate")
    for once in (theirs["once"], other_form["once"], "", "1.2.3"):
        refused = ada.post("/admin/keys/rotate", data=mine | {"once": once})
        assert refused.status_code == 400 and "expired" in refused.text, once
    assert len(world.vault.key_status().case_key_versions) == 1


def test_a_secret_is_shown_once_unstored_and_a_reload_does_not_make_another(world):
    ada = sign_in(world, "admin")
    name = world.users["admin"].name
    form = form_of(ada, f"/admin/users/{name}", f"/admin/users/{name}/access-keys")
    keys = len(world.vault.access_keys(name))
    issued = ada.post(f"/admin/users/{name}/access-keys", data=form)
    assert issued.status_code == 201 and "cvk_" in issued.text
    assert issued.headers["cache-control"] == "no-store"
    assert 'data-copy="access-key"' in issued.text and "cvk_" not in issued.headers.get("location", "")
    assert "cvk_" not in str(issued.headers)  # never in a cookie or a header
    reload = ada.post(f"/admin/users/{name}/access-keys", data=form)
    assert reload.status_code == 409 and "cvk_" not in reload.text
    assert len(world.vault.access_keys(name)) == keys + 1

    reset = form_of(ada, "/admin/users/rita", "/admin/users/rita/reset-sign-in")
    first = ada.post("/admin/users/rita/reset-sign-in", data=reset)
    assert first.status_code == 200 and "cve_" in first.text and first.headers["cache-control"] == "no-store"
    second = ada.post("/admin/users/rita/reset-sign-in", data=reset)
    assert second.status_code == 409 and "cve_" not in second.text
    assert _audit_actions(world, "user.reset") == 1

    add = form_of(ada, "/admin/users", "/admin/users")
    assert ada.post("/admin/users", data=add | {"name": "nadia", "role": "investigator"}).status_code == 201
    replayed = ada.post("/admin/users", data=add | {"name": "nadia2", "role": "investigator"})
    assert replayed.status_code == 409 and "nadia2" not in {u.name for u in world.vault.users()}


# -- destructive actions ask first ---------------------------------------------------------------

@pytest.mark.parametrize(("page", "action", "extra"), [
    ("/admin/keys", "/admin/keys/rotate", {}),
    ("/admin/keys", "/admin/keys/master/rotate", {}),
    ("/admin/users/rita", "/admin/users/rita/active", {"active": "0"}),
    ("/admin/users/rita", "/admin/users/rita/reset-sign-in", {}),
    ("/admin/users/ivy", "/admin/users/ivy/memberships", {"member": "0"}),
])
def test_a_destructive_form_is_red_and_refused_without_its_box_ticked(world, page, action, extra):
    ada = sign_in(world, "admin")
    text = ada.get(page).text
    form_html = text[text.index(f'action="{action}"'):]
    form_html = form_html[:form_html.index("</form>")]
    assert 'class="danger"' in form_html and 'name="confirm" value="yes" required' in form_html
    fields = form_of(ada, page, action, confirm=False) | extra
    if action.endswith("memberships"):
        fields["case"] = world.case.id
    refused = ada.post(action, data=fields)
    assert refused.status_code == 400 and "I understand" in refused.text
    assert len(world.vault.key_status().master_versions) == 1 and len(world.vault.key_status().case_key_versions) == 1
    assert all(u.active for u in world.vault.users())
    assert world.case.id in world.vault.user("ivy").cases


def test_revoking_a_key_needs_the_box_then_redirects(world):
    ada = sign_in(world, "admin")
    spare, _ = world.vault.issue_access_key("rita", actor="tester")
    form = form_of(ada, "/admin/users/rita", f"/admin/access-keys/{spare.id}/revoke", confirm=False)
    assert ada.post(f"/admin/access-keys/{spare.id}/revoke", data=form).status_code == 400
    done = ada.post(f"/admin/access-keys/{spare.id}/revoke", data=form | {"confirm": "yes"})
    assert done.status_code == 303 and done.headers["location"] == "/admin/users/rita?notice=revoked"


def test_every_admin_form_that_changes_something_redirects(world):
    ada = sign_in(world, "admin")
    for page, action, extra, where in [
        ("/admin/users/rita", "/admin/users/rita/active", {"active": "0"}, "/admin/users/rita?notice=disabled"),
        ("/admin/users/rita", "/admin/users/rita/active", {"active": "1"}, "/admin/users/rita?notice=enabled"),
        ("/admin/users/rita", "/admin/users/rita/role", {"role": "reviewer"}, "/admin/users/rita?notice=role"),
        ("/admin/audit", "/admin/audit/verify", {}, "/admin/audit?verified=intact"),
    ]:
        answer = ada.post(action, data=form_of(ada, page, action) | extra)
        assert answer.status_code == 303 and answer.headers["location"] == where, (action, answer.text[:200])
        assert ada.get(where).status_code == 200
    assert "Intact" in ada.get("/admin/audit?verified=intact").text


# -- the audit page ------------------------------------------------------------------------------

def test_the_audit_page_lists_newest_first_with_names_filters_and_the_chain_head(world):
    canary = "okapicanary"
    with world.client("investigator") as ivy:
        assert ivy.post("/api/v1/search", json={"q": f"Quillon {canary}"}).status_code == 200
    world.vault.set_active("rita", active=False, actor="tester")
    ada = sign_in(world, "admin")
    page = ada.get("/admin/audit").text
    seqs = [int(s) for s in re.findall(r"<tr><td>(\d+)</td>", page)]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) > 1, "newest first"
    head = world.vault.verify_audit()
    assert f'id="head-position">{head.entries}<' in page and head.head.hex() in page
    assert canary not in page and "Quillon" not in page
    rita = world.vault.user("rita")
    disabled = ada.get("/admin/audit", params={"action": "user.disable"}).text
    assert f"rita <code class=\"id\">{rita.id}</code>" in disabled, "the target by name"
    assert "<td>search</td>" not in disabled
    assert "<td>user.disable</td>" in ada.get("/admin/audit", params={"actor": "tester"}).text
    assert "<td>search</td>" not in ada.get("/admin/audit", params={"actor": "tester"}).text
    today = datetime.now(UTC).date().isoformat()
    assert "No entry matches" in ada.get("/admin/audit", params={"until": "2000-01-01"}).text
    assert "<td>user.disable</td>" in ada.get("/admin/audit", params={"since": today, "until": today}).text
    assert ada.get("/admin/audit", params={"since": "yesterday"}).status_code == 400
    assert ada.get("/admin/audit", params={"since": today, "until": "2000-01-01"}).status_code == 400


def test_the_filtered_entries_export_as_csv_and_json_for_admins_only_and_audited(world):
    canary = "okapicanary"
    with world.client("investigator") as ivy:
        assert ivy.post("/api/v1/search", json={"q": f"Quillon {canary}"}).status_code == 200
    ada = sign_in(world, "admin")
    form = form_of(ada, "/admin/audit?action=search", "/admin/audit/entries.csv")
    assert form["action"] == "search"
    as_csv = ada.post("/admin/audit/entries.csv", data=form)
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert rows and {r["action"] for r in rows} == {"search"}
    assert canary not in as_csv.text and "Quillon" not in as_csv.text
    as_json = ada.post("/admin/audit/entries.json", data=form)
    entries = json.loads(as_json.text)
    assert [e["seq"] for e in entries] == [int(r["seq"]) for r in rows]
    assert canary not in as_json.text and all("query_digest" in e["details"] for e in entries)
    exports = [e for e in world.vault.audit_entries(limit=10_000) if e.action == "audit.export"]
    assert [e.details for e in exports] == [{"format": "csv"}, {"format": "json"}]
    for persona in ("investigator", "reviewer", "outsider"):
        client = sign_in(world, persona)
        token = CSRF.search(client.get("/account").text).group(1)
        for path in ("/admin/audit/entries.csv", "/admin/audit/entries.json", "/admin/audit/export"):
            refused = client.post(path, data={"csrf": token})
            assert refused.status_code == 403 and "audit.export" not in refused.text, (persona, path)
        assert client.get("/admin/audit").status_code == 403
    assert len([e for e in world.vault.audit_entries(limit=10_000) if e.action == "audit.export"]) == 2


# -- one-time forms, on their own ----------------------------------------------------------------

class _Session:
    csrf = "a-session-csrf-token"


def test_a_one_time_token_is_good_once_for_its_purpose_and_its_lifetime():
    now = [1_000_000.0]
    forms = OneTimeForms(clock=lambda: now[0], lifetime=60)
    token = forms.issue(_Session(), "keys.rotate")
    with pytest.raises(FormExpired):
        forms.spend(_Session(), "keys.master.rotate", token)
    forms.spend(_Session(), "keys.rotate", token)
    with pytest.raises(FormUsed):
        forms.spend(_Session(), "keys.rotate", token)
    late = forms.issue(_Session(), "keys.rotate")
    now[0] += 61
    with pytest.raises(FormExpired):
        forms.spend(_Session(), "keys.rotate", late)
