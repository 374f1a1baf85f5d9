"""Redaction: identities, pseudonyms, masking, review and the unmask policy (issue 4).

Pure logic: it is handed keys and text and stores nothing; it imports no other project package.
"""

from redaction._fold import Folded, fold
from redaction._matcher import Alias, AliasMatcher, Mention, is_common_word
from redaction.errors import InvalidAlias, RedactionError

__all__ = [
    "Alias",
    "AliasMatcher",
    "Folded",
    "InvalidAlias",
    "Mention",
    "RedactionError",
    "fold",
    "is_common_word",
]
