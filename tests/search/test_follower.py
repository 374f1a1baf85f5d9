"""The follower: a write is indexed at once by whoever calls ``catch_up``, and by the background
thread when another process wrote it (a command-line ingest while the app runs)."""

from __future__ import annotations

import logging
import time

import pytest

from tests.conftest import ingest_bytes


@pytest.fixture
def database_url() -> None:
    return None  # the outbox is read the same way on both databases; the storage tests run both


def _eventually(condition, seconds: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_catch_up_indexes_a_write_at_once(vault, case, search):
    ingest_bytes(vault, case, "[00:00:01] QM: the lighthouse keeper called.\n".encode(), "new.txt")
    assert search.follower.marks[case.id] < vault.feed.latest_index_change()
    assert search.catch_up() == 1
    assert search.follower.marks[case.id] == vault.feed.latest_index_change()
    assert search.catch_up() == 0  # nothing pending: nothing written


def test_the_background_thread_indexes_what_another_writer_wrote(vault, case, people, search):
    search.follower.start(interval=0.05)
    try:
        assert search.follower.running
        search.follower.start(interval=0.05)  # a second start does nothing
        document = ingest_bytes(vault, case, "[00:00:01] QM: the harbour master called.\n".encode(), "late.txt")
        assert _eventually(lambda: search.follower.marks[case.id] == vault.feed.latest_index_change())
        found = search.search(people["rex"], "harbour", actor="tester")
        assert [hit.document_id for hit in found.hits] == [document.id]
    finally:
        search.follower.stop()
    assert not search.follower.running
    ingest_bytes(vault, case, "[00:00:01] QM: the ferry leaves at nine.\n".encode(), "stopped.txt")
    time.sleep(0.3)
    assert search.follower.marks[case.id] < vault.feed.latest_index_change()  # stopped: no longer following


def test_a_failure_in_the_background_is_logged_and_the_thread_goes_on(vault, case, search, monkeypatch, caplog):
    real = vault.feed.latest_index_change
    failures = iter([True, True])

    def flaky() -> int:
        if next(failures, False):
            raise OSError("the database went away")
        return real()

    monkeypatch.setattr(vault.feed, "latest_index_change", flaky)
    ingest_bytes(vault, case, "[00:00:01] QM: the keys are under the mat.\n".encode(), "keys.txt")
    with caplog.at_level(logging.WARNING, logger="search._follower"):
        search.follower.start(interval=0.05)
        try:
            assert _eventually(lambda: search.follower.marks[case.id] == real())
        finally:
            search.follower.stop()
    said = [record.getMessage() for record in caplog.records]
    assert any("OSError" in message for message in said), said
    assert not any("went away" in message for message in said), said  # the type only, never a message
