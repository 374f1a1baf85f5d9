"""Errors of redaction: identities, aliases, masking, review and policy."""

from __future__ import annotations


class RedactionError(Exception):
    code = "REDACTION_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidAlias(RedactionError):
    code = "INVALID_ALIAS"


class OverlappingRedactions(RedactionError):
    """Redactions handed to ``mask`` overlap or fall outside the text (a bug upstream: the
    matcher and the review resolve overlaps first)."""

    code = "OVERLAPPING_REDACTIONS"


class ReviewError(RedactionError):
    code = "REVIEW_ERROR"


class AlreadyDecided(ReviewError):
    """A suggestion decided a second time."""

    code = "ALREADY_DECIDED"
