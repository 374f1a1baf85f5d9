"""Pseudonym tokens, masking and rendering."""

from __future__ import annotations

import hashlib
import os

import pytest

from redaction._mask import (
    UNKNOWN,
    OverlappingRedactions,
    Redaction,
    mask,
    pseudonym_token,
    render,
)

KEY_CASE_A, KEY_CASE_B = os.urandom(32), os.urandom(32)
TEXT = "M. Hadrien Quillon a appelé Quentin Malaure depuis Lyon."
H, QM = "identity-h", "identity-qm"


def test_tokens_are_stable_per_scope_and_unlinkable_across_scopes():
    assert pseudonym_token(KEY_CASE_A, H) == pseudonym_token(KEY_CASE_A, H)
    assert pseudonym_token(KEY_CASE_A, H) != pseudonym_token(KEY_CASE_B, H)
    assert pseudonym_token(KEY_CASE_A, H) != pseudonym_token(KEY_CASE_A, QM)


def test_tokens_are_keyed_not_a_hash_of_anything_guessable():
    token = pseudonym_token(KEY_CASE_A, H)
    for guess in (H, "Hadrien Quillon", "hadrien quillon"):
        digest = hashlib.sha256(guess.encode()).hexdigest()
        assert token[3:] not in digest and digest[:16] not in token


def test_short_scope_key_is_refused():
    with pytest.raises(ValueError):
        pseudonym_token(b"short", H)


def _masked():
    redactions = [Redaction(3, 18, H, "person"), Redaction(28, 43, QM, "person"), Redaction(51, 55, None, "location")]
    return mask(TEXT, redactions, lambda identity: pseudonym_token(KEY_CASE_A, identity))


def test_mask_replaces_mentions_and_records_where_they_went():
    masked = _masked()
    assert "Hadrien" not in masked.text and "Malaure" not in masked.text and "Lyon" not in masked.text
    assert "[location]" in masked.text
    for span in masked.spans:
        assert masked.text[span.start:span.end] in (pseudonym_token(KEY_CASE_A, H),
                                                     pseudonym_token(KEY_CASE_A, QM), "[location]")
        assert TEXT[span.original_start:span.original_end] in ("Hadrien Quillon", "Quentin Malaure", "Lyon")


def test_render_shows_each_reader_what_the_policy_gives():
    masked = _masked()
    h, qm = pseudonym_token(KEY_CASE_A, H), pseudonym_token(KEY_CASE_A, QM)
    assert render(masked.text, {h: "H", qm: "Caller 1"}) == "M. H a appelé Caller 1 depuis [location]."
    assert render(masked.text, {h: "Hadrien Quillon", qm: "Caller 1"}).startswith("M. Hadrien Quillon a appelé Caller 1")


def test_a_token_without_a_display_never_leaks():
    assert render(_masked().text, {}) == f"M. {UNKNOWN} a appelé {UNKNOWN} depuis [location]."


@pytest.mark.parametrize("redactions", [
    [Redaction(0, 10, H), Redaction(5, 12, QM)],
    [Redaction(50, 500, H)],
    [Redaction(5, 5, H)],
])
def test_overlapping_or_outside_redactions_are_refused(redactions):
    with pytest.raises(OverlappingRedactions):
        mask(TEXT, redactions, lambda identity: "cvx" + "a" * 16)
