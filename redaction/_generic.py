"""Words that look like names and are not persons: generic speaker roles and known place names.

A call centre transcript labels its turns "Agent:", "Caller 2:", "Témoin:"; a court record says
"Genève" and "Hong Kong". Flagged as persons they bury a reviewer under thousands of suggestions
that are never a name (issue 17: a 2 MB transcript gave 16,115). These rules only narrow what
``detect`` suggests; they never touch the registered identities: a protected person called
"Agent" or "Paris" is matched by ``AliasMatcher`` before detection runs, and detection never
suggests anything over a registered span anyway.

A role is generic only when the whole label is a role, with at most a number or a "#n" after it
("Speaker 1", "Caller #2", "Témoin 3"). "Agent Smith" and "Caller H" stay suggested: the word
after the role may be a surname or a protected person's letter, and a wrong suggestion costs a
click where a missed name reaches an investigator.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from redaction._fold import fold_alias

ROLE_WORDS = frozenset(
    """agent agente caller appelant appelante appelé appelée interlocuteur interlocutrice interlocutor
    speaker locuteur locutrice orateur intervenant intervenante participant participante témoin witness
    inconnu inconnue unknown unidentified inaudible juge judge greffier greffière clerk président
    présidente president procureur procureure prosecutor avocat avocate lawyer counsel interprète
    interpreter traducteur traductrice translator opérateur opératrice operator standard standardiste
    enquêteur enquêtrice investigator officier officer policier policière accusé accusée defendant
    prévenu prévenue plaignant plaignante plaintiff victime victim expert experte assesseur
    moderator modérateur modératrice host hôte invité invitée guest homme femme man woman voix voice
    client cliente customer conseiller conseillère advisor adviser support répondeur voicemail
    interviewer intervieweur journaliste journalist""".split()
)
_ROLE_LABEL = re.compile(r"(?P<words>[^\W\d_]+(?:[ \-][^\W\d_]+)?)(?:\s*#?\s*\d{1,4})?\s*:?\s*")


@functools.lru_cache(maxsize=65536)  # asked for each capitalised word and candidate of a document
def _plain(text: str) -> str:
    """Folded as the name matcher folds (case, accents, look-alike letters, spacing), a hyphen read
    as a space: "GENÈVE" and "geneve" are one place, "Hong-Kong" and "Hong Kong" too."""
    return " ".join(fold_alias(text).replace("-", " ").split())


_PLAIN_ROLES = frozenset(_plain(w) for w in ROLE_WORDS)


def is_role_word(word: str) -> bool:
    return _plain(word) in _PLAIN_ROLES


@functools.lru_cache(maxsize=4096)  # asked for every label of a transcript, in every turn
def is_generic_role(label: str) -> bool:
    """Whether a speaker label (or a capitalised sequence) names a role, not a person: every
    word a role word, then at most a number ("Agent", "Speaker 1", "Témoin inconnu", "Caller #2")."""
    match = _ROLE_LABEL.fullmatch(label.strip())
    return bool(match) and all(is_role_word(w) for w in re.split(r"[ \-]", match.group("words")))


@functools.cache
def _places() -> frozenset[str]:
    lines = (Path(__file__).with_name("places.txt").read_text(encoding="utf-8")).splitlines()
    return frozenset(_plain(line) for line in lines if line.strip() and not line.startswith("#"))


def is_known_place(text: str) -> bool:
    """Whether ``text`` is a place of the curated gazetteer (redaction/places.txt)."""
    return _plain(text) in _places()
