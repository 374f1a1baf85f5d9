"""A destroyed case's search indexes (SECURITY-TESTS 6: index entries are purged).

After ``Vault.destroy_case`` nobody finds anything of the case (no hit, no count, no facet), its
index directory is gone from every node (a running follower drops it when it reads the outbox's
signal; a node that was down removes it when it next opens), and another case's search is the
same as before.
"""

from __future__ import annotations

import shutil

import pytest

from search import Search
from tests.conftest import ingest_bytes
from tests.search.conftest import CALL_1, release
from vault.errors import NotFound

QUERIES = ["noose", "notice", "speaker:H", "kind:transcript", "date:2026", "red OR noose OR sister"]


@pytest.fixture
def other_world(vault, people):
    """The other case with a released call saying the same words, and reviewers of its own."""
    other = vault.case("Another case")
    oscar = vault.add_user("oscar", "reviewer", cases=(other.id,), actor="tester")[0]
    olga = vault.add_user("olga", "reviewer", cases=(other.id,), actor="tester")[0]
    document = ingest_bytes(vault, other, CALL_1, "other-call.txt")
    release(vault, document.id, oscar, olga)
    return other, document


def _answers(search, users, queries=QUERIES):
    return {(name, query): search.search(user, query, actor="tester").to_json()
            for name, user in users.items() for query in queries}


def test_nobody_finds_anything_of_a_destroyed_case(vault, search, people, case, corpus, other_world):
    before = _answers(search, {"ivy": people["ivy"], "rex": people["rex"]})
    assert before["ivy", "noose"]["total"] > 0 and before["rex", "noose"]["total"] > 0
    otto_before = _answers(search, {"oscar": vault.user("oscar"), "otto": people["otto"]})
    vault.destroy_case(case, actor="operator:test")
    search.catch_up()
    for name in ("ivy", "rex", "rita", "ada"):
        for user in (people[name], vault.user(name)):  # as cached before the destroy, and as read now
            for query in QUERIES:
                found = search.search(user, query, actor="tester")
                assert (found.total, found.hits, found.facets) == (0, (), {}), f"{name} finds {query!r}: {found}"
            with pytest.raises(NotFound):
                search.search(user, "noose", actor="tester", case=case)
    assert _answers(search, {"oscar": vault.user("oscar"), "otto": people["otto"]}) == otto_before
    assert not (search.root / case.id).exists(), "the destroyed case's index directory is still there"
    assert (search.root / other_world[0].id).exists()


def test_a_node_that_was_down_removes_the_index_when_it_opens(vault, search, people, case, corpus):
    root = search.root
    search.close()
    assert (root / case.id / "released").exists()
    vault.destroy_case(case, actor="operator:test")
    with Search.open(vault) as reopened:
        assert not (root / case.id).exists()
        assert reopened.search(people["ivy"], "noose", actor="tester").total == 0


def test_an_index_directory_restored_from_a_copy_is_removed_again(vault, search, people, case, corpus, tmp_path):
    kept = tmp_path / "kept-index"
    shutil.copytree(search.root / case.id, kept)
    vault.destroy_case(case, actor="operator:test")
    search.catch_up()
    # later changes move every index's mark past the destroy's outbox row: only the sweep at open
    # can still see that the directory belongs to no case
    ingest_bytes(vault, vault.case("Another case"), b"[00:00:01] A: later.\n", "later.txt")
    search.catch_up()
    search.close()
    shutil.copytree(kept, search.root / case.id)  # a crash before the follower removed it, or a restore
    with Search.open(vault):
        assert not (search.root / case.id).exists()


def test_a_running_follower_of_another_node_drops_the_index(vault, search, people, case, corpus, tmp_path):
    with Search.open(vault, tmp_path / "node-2") as node_2:
        assert (node_2.root / case.id).exists()
        vault.destroy_case(case, actor="operator:test")
        node_2.catch_up()  # what its background thread does at its next look
        assert not (node_2.root / case.id).exists()
        assert node_2.search(people["rex"], "noose", actor="tester").total == 0
