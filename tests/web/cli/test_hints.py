"""The command line's hints: a domain message in the domain's words gets the command to run next;
one that already names a command or a flag keeps its own words."""

from __future__ import annotations

import pytest

from vault.errors import Conflict, InvalidInput, NotFound, NotInitialized
from web.cli._exit import guard
from web.cli._hints import HINTS, about, with_hints
from web.errors import EXIT_FAILED


def _said(error: Exception, *subjects: str, capsys) -> str:
    def command() -> None:
        with about(*subjects):
            raise error

    with pytest.raises(SystemExit) as exited:
        guard(command)()
    assert exited.value.code == EXIT_FAILED
    return capsys.readouterr().err.strip()


@pytest.mark.parametrize(("error", "subjects", "said"), [
    # what the command was looking up chooses the hint
    (NotFound("no such case"), ("case",), "error: no such case; `casevault case list` shows the cases"),
    (NotFound("no user named ivy"), ("user",), "error: no user named ivy; `casevault user list` shows the users"),
    (NotFound("no identity with that pseudonym in this case"), ("identity", "identity edit"),
     "error: no identity with that pseudonym in this case; `casevault identity list` shows them"),
    (InvalidInput("nothing to change"), ("identity", "identity edit"),
     "error: nothing to change; give --name, --alias, --remove-alias or --pseudonym"),
    (Conflict("the keys were being rotated by someone else"), ("keys",),
     "error: the keys were being rotated by someone else; `casevault keys status` shows the versions now"),
    # the code alone, whatever the command
    (NotInitialized("this database has no vault yet"), (),
     "error: this database has no vault yet; run `casevault init` first, or set CASEVAULT_DATA"),
    # no hint for this subject, or none at all
    (NotFound("no such document"), ("span",), "error: no such document"),
    (InvalidInput("a case name needs a letter"), (), "error: a case name needs a letter"),
])
def test_a_hint_is_added_by_code_and_subject(error, subjects, said, capsys):
    assert _said(error, *subjects, capsys=capsys) == said


def test_the_innermost_subject_wins(capsys):
    def command() -> None:
        with about("identity"), about("case"):
            raise NotFound("no such case")

    with pytest.raises(SystemExit):
        guard(command)()
    assert capsys.readouterr().err.strip() == "error: no such case; `casevault case list` shows the cases"


@pytest.mark.parametrize("message", ["no such case; `casevault case list` shows the cases",
                                     "the real name cannot be removed; give a new --name instead"])
def test_a_message_that_names_a_command_or_a_flag_keeps_its_own_words(message):
    error = NotFound(message)
    error.add_note(HINTS["NOT_FOUND", "case"])
    assert with_hints(message, error) == message
