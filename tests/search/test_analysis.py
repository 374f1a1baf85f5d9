"""The index's fast path to terms gives exactly what the analyzer's filter chain gives.

Documents are indexed through ``terms`` (one cached answer per distinct word) while queries and
snippets go through Whoosh's token stream. A word on which the two differ is a word that cannot
be found, so both are compared on seeded random text built from what makes analysis hard:
accents, case pairs that change length, ligatures, CJK runs next to Latin letters, identity
tokens, stop words and stemmable words.
"""

from __future__ import annotations

import random

import pytest

from search._engine._analysis import pair_analyzer, pairs, term_spans, terms, word_analyzer

PIECES = ("a", "é", "É", "İ", "ı", "ß", "ﬁ", "œ", "中", "文", "字", "日本語", "한국어", "x", "Z", "7", "_", "-",
          "'", "’", " ", " ", "  ", "the", "les", "running", "sisters", "Gérard", "noose", "tightened")


def _random_text(rng: random.Random) -> str:
    text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 30)))
    if rng.random() < 0.3:
        token = "cvx" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(16))
        text += f" {token} running{rng.choice(('', '中文', 'é'))}"
    return text


@pytest.mark.parametrize("seed", range(4))
def test_the_fast_terms_equal_the_analyzer_chain(seed):
    rng = random.Random(seed)
    words, word_pairs = word_analyzer(), pair_analyzer()
    for _ in range(3000):
        text = _random_text(rng)
        assert terms(text) == [t.text for t in words(text)], text
        assert pairs(text) == [t.text for t in word_pairs(text)], text
        assert term_spans(text) == [(t.startchar, t.endchar, t.text) for t in words(text, chars=True, mode="query")], text


def test_what_the_terms_are():
    assert terms("The sisters RUNNING to Gérard's 中文字") == ["sister", "runn", "gerard", "中文", "文字"]
    assert pairs("noose tightened, red notice") == ["noos|tighten", "tighten|red", "red|notic"]
    # a repeated string (the text and pair fields of one unit) is answered from the last result
    text = "the noose tightens"
    assert terms(text) is terms(text)
