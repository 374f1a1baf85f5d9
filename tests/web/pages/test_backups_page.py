"""The admin backups page: the list, a "Back up now" form with the session's CSRF token that
redirects (303) to the page, the running backup's progress on a page that reloads itself, and the
one line that says restoring is the operator's. For admins only."""

from __future__ import annotations

import re
import threading
import time

from tests.web.pages.conftest import csrf_of, sign_in


def _finished_page(client, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while "Running:" in (page := client.get("/admin/backups").text):
        assert time.monotonic() < deadline, "the backup did not finish"
        time.sleep(0.05)
    return page


def test_an_admin_backs_up_from_the_page_and_sees_it_run_then_listed(world, monkeypatch):
    from vault import _backup

    release = threading.Event()
    snapshot = _backup.dump.snapshot

    def held(*args, **kwargs):  # the backup waits at its snapshot until the page has shown it running
        assert release.wait(30)
        return snapshot(*args, **kwargs)

    monkeypatch.setattr(_backup.dump, "snapshot", held)
    ada = sign_in(world, "admin")
    page = ada.get("/admin/backups")
    assert page.status_code == 200
    assert 'href="/admin/backups"' in page.text  # in the admin menu
    assert "No backup in the directory yet." in page.text
    assert "casevault restore FILE" in page.text
    assert re.search(r'<form method="post" action="/admin/backups"[^>]*>\s*<input type="hidden" name="csrf" value="[^"]+">',
                     page.text)
    answer = ada.post("/admin/backups", data={"csrf": csrf_of(ada, "/admin/backups")})
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/backups"
    running = ada.get("/admin/backups").text
    assert "Running: casevault-" in running and "Taking the database snapshot." in running
    assert '<meta http-equiv="refresh" content="2">' in running
    assert 'action="/admin/backups"' not in running  # no second start offered while one runs
    release.set()
    done = _finished_page(ada)
    assert "is finished: 3 documents" in done and "http-equiv" not in done
    [stored] = world.vault.settings.resolved_backup_dir.glob("casevault-*.tar")
    assert f"<code>{stored.name}</code>" in done and f"{stored.stat().st_size:,}" in done
    assert [e.actor for e in world.vault.audit_entries(limit=500) if e.action == "vault.backup"] == ["ada (web)"]


def test_a_post_without_the_csrf_token_starts_nothing(world):
    ada = sign_in(world, "admin")
    for form in ({}, {"csrf": "not the token"}):
        assert ada.post("/admin/backups", data=form).status_code == 403
    assert not world.vault.settings.resolved_backup_dir.exists()


def test_a_second_start_while_one_runs_is_a_409_page(world, monkeypatch):
    from vault import _backup

    release = threading.Event()
    snapshot = _backup.dump.snapshot
    monkeypatch.setattr(_backup.dump, "snapshot", lambda *a, **k: (release.wait(30), snapshot(*a, **k))[1])
    ada = sign_in(world, "admin")
    token = csrf_of(ada, "/admin/backups")
    assert ada.post("/admin/backups", data={"csrf": token}).status_code == 303
    again = ada.post("/admin/backups", data={"csrf": token})
    assert again.status_code == 409 and "is running" in again.text and "Traceback" not in again.text
    release.set()
    _finished_page(ada)


def test_investigators_and_reviewers_get_no_backup_page_and_no_menu_entry(world):
    for persona in ("investigator", "reviewer", "outsider"):
        client = sign_in(world, persona)
        assert 'href="/admin/backups"' not in client.get("/account").text, persona
        assert client.get("/admin/backups").status_code == 403, persona
        assert client.post("/admin/backups", data={"csrf": csrf_of(client)}).status_code == 403, persona
    assert not world.vault.settings.resolved_backup_dir.exists()


def test_the_page_shows_the_bytes_written_of_the_archive(world, monkeypatch):
    from vault import _archive

    reached, release = threading.Event(), threading.Event()
    original = _archive._Hashing.readinto

    def held(self, buffer):  # the archive waits after its first bytes until the page has shown them
        count = original(self, buffer)
        if count:
            reached.set()
            assert release.wait(30)
        return count

    monkeypatch.setattr(_archive._Hashing, "readinto", held)
    ada = sign_in(world, "admin")
    assert ada.post("/admin/backups", data={"csrf": csrf_of(ada, "/admin/backups")}).status_code == 303
    assert reached.wait(30)
    page = ada.get("/admin/backups").text
    found = re.search(r"([\d,]+) of ([\d,]+) bytes written\.", page)
    assert found, page
    done, total = (int(n.replace(",", "")) for n in found.groups())
    assert 0 < done < total
    assert f'<progress value="{done}" max="{total}"></progress>' in page
    release.set()
    _finished_page(ada)
