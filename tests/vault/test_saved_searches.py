"""A person's searches under opaque ids: owned, encrypted where they lie, expiring unless saved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from vault._saved_searches import EXPIRED_KEPT, UNSAVED_FOR
from vault.errors import InvalidInput, NotFound


@pytest.fixture
def people(vault):
    ivy, _ = vault.add_user("ivy", "investigator", actor="tester")
    rex, _ = vault.add_user("rex", "investigator", actor="tester")
    return ivy, rex


def test_a_search_opens_for_its_owner_only(vault, people):
    ivy, rex = people
    record = vault.searches.create(ivy, "noose", None)
    assert len(record.id) == 32 and vault.searches.get(record.id, ivy).query == "noose"
    for stranger, search_id in ((rex, record.id), (ivy, "0" * 32), (ivy, "../" + record.id)):
        with pytest.raises(NotFound):
            vault.searches.get(search_id, stranger)


def test_a_query_moved_to_another_owners_record_does_not_open(vault, people):
    ivy, rex = people
    mine, theirs = vault.searches.create(ivy, "noose"), vault.searches.create(rex, "lantern")
    with vault.db.engine.begin() as connection:
        stolen = connection.execute(sa.text("select query_ct from search_record where id = :id"), {"id": mine.id}).scalar()
        connection.execute(sa.text("update search_record set query_ct = :ct where id = :id"),
                           {"ct": stolen, "id": theirs.id})
    with pytest.raises(NotFound):
        vault.searches.get(theirs.id, rex)  # bound to its record and owner: it reads as none


def test_an_unsaved_search_expires_and_is_deleted_later_a_saved_one_keeps(vault, people, monkeypatch):
    ivy, _ = people
    unsaved, kept = vault.searches.create(ivy, "noose"), vault.searches.create(ivy, "lantern")
    with pytest.raises(InvalidInput):
        vault.searches.save(kept.id, ivy, "   ", actor="tester")
    vault.searches.save(kept.id, ivy, "Lanterns", actor="tester")
    later = datetime.now(UTC) + UNSAVED_FOR + timedelta(minutes=1)
    monkeypatch.setattr("vault._vault.utcnow", lambda: later)
    assert vault.searches.get(unsaved.id, ivy).expired and not vault.searches.get(kept.id, ivy).expired
    much_later = later + EXPIRED_KEPT
    monkeypatch.setattr("vault._vault.utcnow", lambda: much_later)
    vault.searches.create(ivy, "anything")  # making one sweeps those long expired
    with pytest.raises(NotFound):
        vault.searches.get(unsaved.id, ivy)
    assert [s.name for s in vault.searches.saved(ivy)] == ["Lanterns"]
    assert not any(e.action == "search.save" and "Lanterns" in repr(e.details) for e in vault.audit_entries(limit=500))
