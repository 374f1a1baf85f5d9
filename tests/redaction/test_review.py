"""Review decisions and how mentions, suggestions and manual spans combine."""

from __future__ import annotations

import pytest

from redaction._mask import Redaction
from redaction._matcher import Mention
from redaction._review import AlreadyDecided, Suggestion, SuggestionState, redactions, undecided


def test_a_suggestion_is_decided_once():
    accepted = Suggestion("s1", 0, 5, "person").accept("rex", identity_id="identity-h")
    assert (accepted.state, accepted.identity_id, accepted.decided_by) == (SuggestionState.ACCEPTED, "identity-h", "rex")
    with pytest.raises(AlreadyDecided):
        accepted.reject("rita")


def test_undecided_counts_pending_only():
    suggestions = [Suggestion("a", 0, 1, "phone"), Suggestion("b", 2, 3, "email").reject("rex"),
                   Suggestion("c", 4, 5, "person").accept("rex")]
    assert undecided(suggestions) == 1


def test_pending_and_accepted_are_masked_rejected_is_not():
    result = redactions([], [Suggestion("a", 0, 4, "phone"), Suggestion("b", 10, 14, "email").reject("rex"),
                             Suggestion("c", 20, 24, "person").accept("rex", identity_id="identity-x")])
    assert [(r.start, r.identity_id, r.category) for r in result] == [(0, None, "phone"), (20, "identity-x", "person")]


def test_overlaps_merge_into_their_union_labelled_by_the_longest():
    mention = Mention(10, 25, "identity-h", "Hadrien Quillon")
    result = redactions([mention], [Suggestion("a", 18, 25, "person"), Suggestion("b", 10, 25, "person")],
                        [Redaction(0, 12, None, "location"), Redaction(40, 45, None, "location")])
    assert [(r.start, r.end, r.identity_id) for r in result] == [(0, 25, "identity-h"), (40, 45, None)]


def test_an_identity_wins_a_tie_with_a_category():
    result = redactions([Mention(5, 10, "identity-h", "Quill")], [Suggestion("a", 5, 10, "person")])
    assert result == [Redaction(5, 10, "identity-h", "identity")]


def test_touching_spans_stay_apart():
    result = redactions([Mention(0, 5, "a", "x"), Mention(5, 9, "b", "y")], [])
    assert [(r.start, r.end) for r in result] == [(0, 5), (5, 9)]


def test_manual_spans_are_kept():
    result = redactions([], [], [Redaction(3, 9, None, "location")])
    assert result == [Redaction(3, 9, None, "location")]
