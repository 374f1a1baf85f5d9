"""A search is posted once and lives at an opaque id its owner alone opens; saved searches count
what is new. Through real HTTP, on both backends."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import BACKENDS, ingest_bytes
from tests.search.conftest import release
from tests.web.pages.conftest import csrf_of, search, sign_in

OWN_PAGE = re.compile(r"^/search/[0-9a-f]{32}$")
STRANGERS = ("reviewer", "admin", "outsider")


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str | None:
    return None if request.param == "sqlite" else request.getfixturevalue("postgres_url")


def test_a_search_is_posted_once_and_its_page_reloads_by_an_opaque_id(world, caplog):
    ivy = sign_in(world, "investigator")
    token = csrf_of(ivy)
    with caplog.at_level(logging.DEBUG):
        posted = ivy.post("/search", data={"csrf": token, "q": "noose", "case": world.case.id})
        assert posted.status_code == 303
        location = posted.headers["location"]
        assert OWN_PAGE.match(location), location  # neither the query nor the case in the address
        first, again = ivy.get(location), ivy.get(location)  # Back and reload fetch it, post nothing
    assert first.status_code == again.status_code == 200
    assert 'value="noose"' in first.text and "<mark>" in first.text
    assert 'type="submit">Transcript</button>' in first.text  # a facet reads as a person says it
    assert "……" not in first.text and ".…" not in first.text  # a cut snippet shows one ellipsis, a whole one none
    assert first.text.count('class="hit"') == again.text.count('class="hit"') >= 1
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore")))
    assert "GET /search/{search_id} 200" in logged
    for secret in ("noose", location.rsplit("/", 1)[1], world.case.id):
        assert secret not in logged, f"{secret} leaked into the server's log"


def test_a_search_id_is_its_owners_alone_for_every_role(world):
    ivy = sign_in(world, "investigator")
    token = csrf_of(ivy)
    page = search(ivy, token, "noose").url.path
    nothing = "/search/" + "0" * 32
    for persona in STRANGERS:
        client = sign_in(world, persona)
        theirs, none = client.get(page), client.get(nothing)
        assert theirs.status_code == none.status_code == 404, (persona, theirs.status_code)
        assert theirs.text == none.text, f"{persona} can tell {page} exists"
        assert "noose" not in theirs.text
        stranger_token = csrf_of(client)
        for action in ("/save", "/run", "/delete"):
            path = f"{page}{action}" if action == "/save" else page.replace("/search/", "/searches/") + action
            answer = client.post(path, data={"csrf": stranger_token, "name": "mine now"})
            assert answer.status_code == 404, (persona, path, answer.status_code)
    assert ivy.get(page).status_code == 200 and not world.vault.searches.saved(world.users["investigator"])


def test_an_expired_search_says_so_and_keeps_its_query(world):
    ivy = sign_in(world, "investigator")
    page = search(ivy, csrf_of(ivy), "noose").url.path
    with world.vault.db.engine.begin() as connection:
        connection.execute(sa.text("update search_record set expires_at = :at where id = :id"),
                           {"at": datetime.now(UTC) - timedelta(minutes=1), "id": page.rsplit("/", 1)[1]})
    expired = ivy.get(page)
    assert expired.status_code == 410
    assert "expired" in expired.text and 'value="noose"' in expired.text and 'class="hit"' not in expired.text
    assert sign_in(world, "reviewer").get(page).status_code == 404  # still nobody else's


def test_a_refused_query_is_shown_beside_it_in_the_box(world):
    ivy = sign_in(world, "investigator")
    refused = search(ivy, csrf_of(ivy), "*oose")
    assert refused.status_code == 400
    assert 'id="query-error"' in refused.text and 'value="*oose"' in refused.text
    assert '<form class="search"' in refused.text  # the search page, not a dead end


def test_a_saved_search_counts_the_documents_new_since_its_last_run(world):
    ivy = sign_in(world, "investigator")
    token = csrf_of(ivy)
    page = search(ivy, token, "noose").url.path
    search_id = page.rsplit("/", 1)[1]
    unnamed = ivy.post(f"{page}/save", data={"csrf": token, "name": "  "})
    assert unnamed.status_code == 400 and "give the search a name" in unnamed.text and 'value="noose"' in unnamed.text
    saved = ivy.post(f"{page}/save", data={"csrf": token, "name": "Nooses in calls"})
    assert saved.status_code == 303 and saved.headers["location"] == "/searches"
    listing = ivy.get("/searches")
    assert "Nooses in calls" in listing.text and "nothing new" in listing.text
    # a call released since is new; the list says so until the search is run again
    call = ingest_bytes(world.vault, world.case, b"[00:00:01] QM: another noose.\n[00:00:04] H: No.\n", "new.txt")
    release(world.vault, call.id, world.users["reviewer"], world.users["reviewer2"])
    world.app.state.services.search.catch_up()
    assert "1 new document" in ivy.get("/searches").text
    run = ivy.post(f"/searches/{search_id}/run", data={"csrf": token})
    assert run.status_code == 303 and run.headers["location"] == page
    assert "nothing new" in ivy.get("/searches").text
    record = world.vault.searches.get(search_id, world.users["investigator"])
    assert record.saved and record.expires_at is None and call.id in (record.seen or ())
    # nothing of it in clear at rest, nor in the audit log's clear columns
    with world.vault.db.engine.connect() as connection:
        stored = repr(connection.execute(sa.text("select * from search_record")).all())
        audited = repr(connection.execute(sa.text("select actor, action, target from audit_log")).all())
    for secret in ("noose", "Nooses"):
        assert secret not in stored and secret not in audited, f"{secret} stored in clear"
    assert call.id not in stored, "what a saved search found is stored in clear"
    assert ivy.post(f"/searches/{search_id}/delete", data={"csrf": token}).status_code == 303
    assert "Nooses in calls" not in ivy.get("/searches").text and ivy.get(page).status_code == 404
