"""Review: deciding suggestions, and what finally gets masked.

A document enters review with the mentions of registered identities (masked for sure) and
suggestions from candidate detection (undecided). A reviewer accepts a suggestion (as a category
redaction, or linked to an identity), rejects it, or adds a span by hand. The masked text is then
built from all three; where they overlap they merge, so a name never ends up half masked.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from redaction._mask import Redaction
from redaction._matcher import Mention
from redaction.errors import AlreadyDecided


class SuggestionState(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Suggestion:
    id: str
    start: int
    end: int
    category: str
    state: SuggestionState = SuggestionState.PENDING
    identity_id: str | None = None  # set when a reviewer links it to an identity
    decided_by: str | None = None

    def accept(self, reviewer: str, *, identity_id: str | None = None) -> Suggestion:
        return self._decide(SuggestionState.ACCEPTED, reviewer, identity_id)

    def reject(self, reviewer: str) -> Suggestion:
        return self._decide(SuggestionState.REJECTED, reviewer, None)

    def _decide(self, state: SuggestionState, reviewer: str, identity_id: str | None) -> Suggestion:
        if self.state is not SuggestionState.PENDING:
            raise AlreadyDecided(f"suggestion {self.id} was already {self.state.value}")
        return replace(self, state=state, identity_id=identity_id, decided_by=reviewer)


def undecided(suggestions: Iterable[Suggestion]) -> int:
    return sum(1 for s in suggestions if s.state is SuggestionState.PENDING)


def redactions(mentions: Iterable[Mention], suggestions: Iterable[Suggestion],
               manual: Iterable[Redaction] = ()) -> list[Redaction]:
    """Everything to mask in one text, without overlaps, in order.

    Pending suggestions are masked too (as their category): until a reviewer rejects one, it is
    treated as a name, so nothing undecided can slip through a release that skipped the check.
    Overlapping spans merge into their union (nothing anyone flagged stays visible), which
    stands for the longest of them, an identity before a bare category on a tie.
    """
    candidates = [Redaction(m.start, m.end, m.identity_id, "identity") for m in mentions]
    for s in suggestions:
        if s.state is not SuggestionState.REJECTED:
            candidates.append(Redaction(s.start, s.end, s.identity_id, s.category))
    candidates.extend(manual)
    candidates.sort(key=lambda r: r.start)
    merged: list[Redaction] = []
    cluster: list[Redaction] = []
    for candidate in candidates:
        if cluster and candidate.start >= max(r.end for r in cluster):
            merged.append(_merge(cluster))
            cluster = []
        cluster.append(candidate)
    if cluster:
        merged.append(_merge(cluster))
    return merged


def _merge(cluster: list[Redaction]) -> Redaction:
    winner = min(cluster, key=lambda r: (r.start - r.end, r.identity_id is None, r.start))
    return Redaction(min(r.start for r in cluster), max(r.end for r in cluster), winner.identity_id, winner.category)


@dataclass(frozen=True, slots=True)
class SuggestionGroup:
    """The undecided suggestions of one text and category, decided at once ("Agent x6,000").

    ``key`` is the id of its first suggestion in document order: opaque (no name in a URL or the
    audit log) and stable while the group is undecided. ``speaker_turns`` counts the turns whose
    speaker label it is: one decision covers the label in every turn."""

    key: str
    text: str
    category: str
    count: int
    speaker_turns: int


def group_suggestions(records: Iterable[Mapping[str, object]]) -> list[SuggestionGroup]:
    """The pending suggestion records grouped by (text, category), the largest group first."""
    groups: dict[tuple[str, str], list[Mapping[str, object]]] = {}
    for record in records:
        if record["state"] == SuggestionState.PENDING.value:
            groups.setdefault((str(record["text"]), str(record["category"])), []).append(record)
    out = [SuggestionGroup(str(members[0]["id"]), text, category, len(members),
                           sum(1 for m in members if m.get("field") == "speaker"))
           for (text, category), members in groups.items()]
    return sorted(out, key=lambda g: (-g.count, g.text.casefold(), g.category))


def in_group(record: Mapping[str, object], text: str, category: str) -> bool:
    """Whether a suggestion record is an undecided member of the group (text, category)."""
    return (record["state"] == SuggestionState.PENDING.value and record["text"] == text
            and record["category"] == category)
