"""Redaction: identities, pseudonyms, masking, review and the unmask policy.

Pure logic: it is handed keys and text and stores nothing; it imports no other project package.

- ``AliasMatcher`` finds every mention of registered aliases (folded for case, accents, spacing,
  hyphenation, invisible characters and lookalike letters; joined, in camel case or spelled out)
  in one pass; ``detect`` proposes what is not registered, and ``AliasMatcher.near_misses`` what
  is one edit or an OCR confusion away from an alias.
- ``pseudonym_token``, ``mask`` and ``render`` turn mentions into keyed tokens and tokens into
  what one reader may see.
- ``Suggestion`` and ``redactions`` hold a reviewer's decisions and what finally gets masked;
  ``group_suggestions`` gathers the undecided ones by text and category, to decide a group at once.
  ``detect`` leaves generic speaker roles ("Agent", "Caller 2") unsuggested and calls the places of
  a small gazetteer (``places.txt``) places (``_generic``).
- ``permits``, ``holds`` and the ``may_*`` functions are the policy: pure decisions, ``Allowed`` or a falsy
  ``Denied(reason)``, over a deny-by-default table.
"""

from redaction._detect import Candidate, Category, detect
from redaction._fold import Folded, fold
from redaction._mask import TOKEN_PATTERN, MaskedSpan, MaskedText, Redaction, mask, pseudonym_token, render, render_marked
from redaction._matcher import Alias, AliasMatcher, Mention, is_common_word
from redaction._policy import (
    Actor,
    Allowed,
    Decision,
    Denied,
    Permission,
    Role,
    UnmaskGrant,
    all_of,
    holds,
    may_decide_unmask,
    may_release,
    may_see_case,
    may_see_document,
    may_see_real_name,
    permits,
)
from redaction._review import (
    Suggestion,
    SuggestionGroup,
    SuggestionState,
    group_suggestions,
    in_group,
    redactions,
    undecided,
)
from redaction.errors import AlreadyDecided, InvalidAlias, OverlappingRedactions, RedactionError, ReviewError

__all__ = [
    "TOKEN_PATTERN",
    "Actor",
    "Alias",
    "AliasMatcher",
    "AlreadyDecided",
    "Allowed",
    "Candidate",
    "Category",
    "Decision",
    "Denied",
    "Folded",
    "InvalidAlias",
    "MaskedSpan",
    "MaskedText",
    "Mention",
    "OverlappingRedactions",
    "Permission",
    "Redaction",
    "RedactionError",
    "ReviewError",
    "Role",
    "Suggestion",
    "SuggestionGroup",
    "SuggestionState",
    "UnmaskGrant",
    "all_of",
    "detect",
    "fold",
    "group_suggestions",
    "holds",
    "in_group",
    "is_common_word",
    "mask",
    "may_decide_unmask",
    "may_release",
    "may_see_case",
    "may_see_document",
    "may_see_real_name",
    "permits",
    "pseudonym_token",
    "redactions",
    "render",
    "render_marked",
    "undecided",
]
