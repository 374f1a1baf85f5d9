"""Bulk review: the undecided suggestions of one text and category, decided at once.

A 2 MB call centre transcript gave 16,115 suggestions, thousands of them the same word; a reviewer
decides "Agent · person" once, and a speaker label decided once is decided in every turn. One
group decision is one new version of the masked form (``Store.remask``: one write transaction)
and one audit entry, which names the group by its opaque key and counts what it decided, never
the text itself (the audit log holds no name).
"""

from __future__ import annotations

from redaction import Suggestion, SuggestionGroup, group_suggestions, in_group
from vault._masking import MaskedDocument
from vault._review import Review
from vault._store import Store
from vault._users import UserInfo
from vault.errors import NotFound


class ReviewGroups:
    """What a reviewer decides a group at a time."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._review = Review(store)

    @staticmethod
    def groups(suggestions: list[dict[str, object]]) -> list[SuggestionGroup]:
        """The undecided suggestions of a review view, grouped, the largest group first."""
        return group_suggestions(suggestions)

    def decide(self, document_id: str, user: UserInfo, group: str, *, accept: bool,
               identity_id: str | None = None, actor: str) -> tuple[MaskedDocument, int]:
        """Accept (optionally linked to an identity) or reject every undecided suggestion of the
        group whose key is ``group``; returns the new masked form and how many were decided."""
        self._review._check_reviewable(document_id, user)
        decided = 0

        def apply(decisions: dict[str, Suggestion], previous: MaskedDocument) -> dict[str, object]:
            nonlocal decided
            records = [r for u in previous.units for r in u.suggestions] + list(previous.title_suggestions)
            anchor = next((r for r in records if r["id"] == group and r["state"] == "pending"), None)
            if anchor is None:
                raise NotFound("no undecided group of suggestions with that key in this document; reload the review")
            text, category = str(anchor["text"]), str(anchor["category"])
            for record in records:
                sid = str(record["id"])
                if in_group(record, text, category) and sid not in decisions:
                    pending = Suggestion(sid, int(record["start"]), int(record["end"]), category)  # type: ignore[call-overload]
                    decisions[sid] = (pending.accept(user.id, identity_id=identity_id) if accept
                                      else pending.reject(user.id))
                    decided += 1
            return {"user": user.id, "group": group, "accepted" if accept else "rejected": decided}

        masked = self.store.remask(document_id, actor=actor, action="review.decide-group", decide=apply)
        return masked, decided
