"""Errors of redaction: identities, aliases, review and policy."""

from __future__ import annotations


class RedactionError(Exception):
    code = "REDACTION_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidAlias(RedactionError):
    code = "INVALID_ALIAS"
