"""Domain errors to answers: the one table that the API, the pages and the command line read.

Each rule names a domain error class and the HTTP status it answers. An error takes the rule of
its nearest ancestor that has one (its method resolution order), so the order of the rows means
nothing: ``Unauthenticated`` is a ``NotFound`` to the vault (a credential that does not exist)
and answers 401 because it has a row of its own, not because that row comes first. An error
without a rule is not a domain error: a 500 over HTTP, exit 70 in the command line.

Over HTTP the status is sent as it is (web/_errors.py renders it as JSON or as the error page);
the command line prints the message on one line and exits 1 for every error that has a rule.

400 against 422, one rule: 422 when the request does not fit the schema its route declares (a
missing field, a wrong type, a value out of bounds: FastAPI checks the route's models before the
handler runs, web/_errors.py answers INVALID_INPUT), or when an uploaded file cannot be read as
the type it claims (``IngestError``: the content is unprocessable, not the request); 400 when the
request fits its schema but the handler or the domain refuses what it says (``InvalidInput``, a
rule of the query language, a span outside its text, a weak passphrase, text that is not plain,
and the fields of an upload, whose multipart form the handler reads itself, outside any model).

Rules name classes where they are imported from, and a class is looked up only in a module that
is already imported: an error whose module was never loaded cannot have been raised, so asking
loads nothing (the command line asks on its way out, and must not pull in Whoosh or FastAPI).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

EXIT_FAILED = 1  # a domain error: bad data or usage; the message says what to do
EXIT_INTERNAL = 70  # anything else (EX_SOFTWARE): no trace, no data

STATUS: Mapping[str, int] = {
    # who is asking: a credential that is unknown, revoked or ended asks to sign in again
    "vault.Unauthenticated": 401,
    "vault.SessionEnded": 401,
    "vault.SignInFailed": 401,
    "web._sessions.TooManyAttempts": 429,
    # what is asked for: what the caller may not see answers like what does not exist
    "vault.errors.NotFound": 404,
    "vault.errors.Forbidden": 403,
    "vault.errors.Conflict": 409,
    "vault.errors.AlreadyInitialized": 409,
    "vault.errors.InvalidInput": 400,
    "vault.errors.RangeNotSatisfiable": 416,
    # uploads
    "vault.errors.TooLarge": 413,
    "vault.errors.UnsupportedType": 415,
    "vault.errors.IngestError": 422,
    # queries break a rule of the query language
    "search.errors.QueryNotAllowed": 400,
    # redaction: a decision taken twice, else what the caller gave (an alias, a span) is not usable
    "redaction.errors.AlreadyDecided": 409,
    "redaction.errors.RedactionError": 400,
    "keys.errors.WeakPassphrase": 400,
    # key custody: a share that cannot count, too few shares, shares or a seal that do not fit
    "keys.errors.ShareInvalid": 400,
    "keys.errors.NotEnoughShares": 400,
    "keys.errors.SharesDoNotOpen": 400,
    "keys.errors.SealMissing": 400,
    # the server's state, which lifts by itself (busy, locked, slow) or which an operator repairs
    # (rebuild, restore): stored data that does not authenticate, a vault that is not open
    "vault.errors.AuditFailed": 503,
    "vault.errors.ParsersBusy": 503,
    "vault.errors.StorageFailed": 503,
    "vault.errors.NotInitialized": 503,
    "vault.errors.SchemaBehind": 503,
    "vault.errors.SchemaAhead": 503,
    "vault.errors.VaultSealed": 503,
    "search.errors.SearchTimeout": 503,
    "search.errors.IndexLocked": 503,
    "search.errors.IndexCorrupt": 503,
    "search.errors.IndexWriteFailed": 503,
    "keys.errors.IntegrityFailed": 503,
    # a row that decides access does not carry its MAC (raw SQL): refused, audited; an operator repairs
    "vault.errors.StateTampered": 503,
    "keys.errors.KeyVersionRetired": 503,
    "keys.errors.EmptyKeyring": 503,
    "keys.errors.WrongPassphrase": 503,
}

# A line of text (the command line) ends with the code of these: a query's code names the rule
# of the query language it broke, which the message alone does not.
CODE_IN_TEXT: frozenset[str] = frozenset({"search.errors.SearchError"})


@dataclass(frozen=True, slots=True)
class Answer:
    """What a domain error answers, whatever the interface."""

    status: int
    code: str
    message: str
    retry_after: int | None = None  # a refusal that lifts by itself says when to come back
    code_in_text: bool = False

    @property
    def text(self) -> str:
        """The message as one line of text."""
        return f"{self.message} ({self.code})" if self.code_in_text else self.message


def answer_of(error: BaseException) -> Answer | None:
    """The answer to a domain error, or None for anything without a rule (an internal error)."""
    status = _nearest(type(error), STATUS)
    if status is None:
        return None
    return Answer(status, getattr(error, "code", "ERROR"), str(error), getattr(error, "retry_after", None),
                  code_in_text=_nearest(type(error), dict.fromkeys(CODE_IN_TEXT, True)) is not None)


def status_of(error: BaseException) -> int:
    answer = answer_of(error)
    return 500 if answer is None else answer.status


def _nearest(kind: type, table: Mapping[str, T]) -> T | None:
    by_class = {cls: value for name, value in table.items() if (cls := _loaded(name)) is not None}
    return next((by_class[k] for k in kind.__mro__ if k in by_class), None)


def _loaded(name: str) -> type | None:
    module, _, attribute = name.rpartition(".")
    return getattr(sys.modules.get(module), attribute, None)
