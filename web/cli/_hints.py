"""The command line's hints: the command or flag to use next, added to a domain error's message.

A domain message says what went wrong in the domain's words ("no such case"); only the command
line knows its commands and flags. A hint is keyed by the error's code and by what the command
was looking up when it failed (``about("case")``), or by the code alone. A message that already
names a command or a flag keeps its own words.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

HINTS: Mapping[tuple[str, str | None], str] = {
    ("NOT_FOUND", "case"): "`casevault case list` shows the cases",
    ("NOT_FOUND", "user"): "`casevault user list` shows the users",
    ("NOT_FOUND", "identity"): "`casevault identity list` shows them",
    ("NOT_FOUND", "suggestion"): "`casevault review show` lists them",
    ("INVALID_INPUT", "span"): "`casevault review show` gives the units",
    ("INVALID_INPUT", "identity edit"): "give --name, --alias, --remove-alias or --pseudonym",
    ("CONFLICT", "keys"): "`casevault keys status` shows the versions now",
    ("NOT_INITIALIZED", None): "run `casevault init` first, or set CASEVAULT_DATA",
    ("INDEX_CORRUPT", None): "rebuild the index with `casevault reindex`",
}
_KNOWN = frozenset(HINTS.values())


@contextmanager
def about(*subjects: str) -> Iterator[None]:
    """Errors raised inside concern SUBJECTS (a case, a user, ...): their hint is chosen by them.
    The innermost ``about`` wins: one around a case lookup keeps the case's hint."""
    try:
        yield
    except Exception as error:
        code = getattr(error, "code", "")
        hint = next((HINTS[code, s] for s in subjects if (code, s) in HINTS), None)
        if hint and not _hints_of(error):
            error.add_note(hint)
        raise


def with_hints(message: str, error: BaseException) -> str:
    """MESSAGE with the hint for ERROR, unless the message already names a command or a flag."""
    hints = _hints_of(error) or [h for h in [HINTS.get((getattr(error, "code", ""), None))] if h]
    if not hints or "`casevault " in message or " --" in message:
        return message
    return "; ".join([message, *hints])


def _hints_of(error: BaseException) -> list[str]:
    return [note for note in getattr(error, "__notes__", ()) if note in _KNOWN]
