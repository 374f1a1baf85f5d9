"""Generic speaker roles are not persons, known places are places: and neither rule ever hides a
name that is registered or that only contains a role word."""

from __future__ import annotations

import pytest

from redaction import Alias, AliasMatcher, Category, detect
from redaction._generic import is_generic_role, is_known_place


@pytest.mark.parametrize("label", ["Agent", "AGENT", "Témoin", "temoin", "Inconnu", "Speaker 1", "Interlocuteur",
                                   "Caller", "Caller 2", "Caller #2", "Witness", "Unknown", "Juge", "Greffier",
                                   "Greffière", "Témoin inconnu", "Speaker 12:", "Interprète"])
def test_generic_roles(label):
    assert is_generic_role(label)


@pytest.mark.parametrize("label", ["Agent Smith", "Caller H", "H", "QM", "Quentin", "Juge Martin", "Agent 007 Bond",
                                   "Speaker A", "Agentt", "Witness Quillon", ""])
def test_a_role_word_beside_a_name_is_not_generic(label):
    # "Agent Smith": the word after the role may be a surname; "Caller H": H is a protected person's letter
    assert not is_generic_role(label)


def test_generic_speaker_labels_are_not_suggested_anywhere():
    text = "Agent: bonjour. Caller 2 a rappelé l'Agent. Le Témoin parle."
    found = detect(text, speakers=["Agent", "Caller 2", "Témoin"])
    assert [c.text for c in found] == []


def test_a_name_holding_a_role_word_is_still_suggested():
    found = detect("Agent Smith a rappelé. Caller H aussi.", speakers=["Agent Smith", "Caller H"])
    assert [(c.text, c.category) for c in found] == [("Agent Smith", Category.PERSON), ("Caller H", Category.PERSON)]
    # in running text too: a rare surname after a role word
    assert [c.text for c in detect("Nous avons vu Witness Quillonaz hier.")] == ["Witness Quillonaz"]
    # and after a title even a role-like word is a name
    assert [c.text for c in detect("Le juge Greffier Martin a signé.")][:1] != []


def test_role_words_alone_in_capitals_are_no_name():
    assert detect("Puis le Témoin Inconnu a parlé.") == []


@pytest.mark.parametrize("place", ["Paris", "Genève", "GENEVE", "Hong Kong", "hong-kong", "Beijing", "Abu Dhabi",
                                   "Lyon", "Buenos Aires"])
def test_known_places(place):
    assert is_known_place(place)


def test_a_known_place_is_suggested_as_a_place_not_a_person():
    [abu] = detect("Il a pris un vol pour Abu Dhabi mardi.")
    assert (abu.text, abu.category, abu.reason) == ("Abu Dhabi", Category.PLACE, "place name")
    [buenos] = detect("Rendez-vous à Buenos Aires.")
    assert buenos.category is Category.PLACE
    # a person whose name is not in the gazetteer is still a person
    [person] = detect("Il a vu Odile Quillonaz mardi.")
    assert person.category is Category.PERSON


def test_a_titled_person_named_like_a_place_stays_a_person():
    [paris] = detect("M. Paris Hilton a signé.")
    assert paris.category is Category.PERSON


def test_a_registered_name_wins_over_the_exclusions():
    # a protected person registered under a role word and a place name: the matcher finds every
    # mention, whatever detection thinks of the words
    matcher = AliasMatcher([Alias("id-agent", "Agent"), Alias("id-paris", "Paris"), Alias("id-caller", "Caller 2")])
    text = "Agent a appelé Caller 2 depuis Paris."
    mentions = matcher.find(text)
    assert sorted(text[m.start:m.end] for m in mentions) == ["Agent", "Caller 2", "Paris"]
    # and detection never suggests across them (they are masked as identities, not as suggestions)
    known = [(m.start, m.end) for m in mentions]
    assert detect(text, speakers=["Agent", "Caller 2"], known=known) == []
