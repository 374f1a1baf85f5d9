"""Masking a document: registered identities become tokens, candidates become suggestions.

The masked form of a document is one encrypted blob (purpose "masked", a new version each time
it changes) holding, per page or turn, the masked text and the suggestions with their review
state. Pending suggestions are masked as their category until a reviewer rejects them, so an
undecided name never shows. Suggestion ids are stable across re-masking (unit, field, offsets),
so a decision survives when a new identity is registered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from redaction import (
    AliasMatcher,
    Suggestion,
    SuggestionState,
    detect,
    mask,
    pseudonym_token,
    redactions,
    undecided,
)
from vault._ingest._model import Extracted, Kind


@dataclass(frozen=True, slots=True)
class MaskedUnit:
    """A page (number) or a turn (index, speaker, times) with its masked text."""

    position: int
    text: str
    speaker: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    suggestions: tuple[dict[str, object], ...] = ()


@dataclass(frozen=True, slots=True)
class MaskedDocument:
    kind: Kind
    units: tuple[MaskedUnit, ...]
    undecided: int = 0
    tokens: frozenset[str] = field(default=frozenset())

    def to_json(self) -> bytes:
        return json.dumps({
            "kind": self.kind.value, "undecided": self.undecided, "tokens": sorted(self.tokens),
            "units": [[u.position, u.text, u.speaker, u.start_ms, u.end_ms, list(u.suggestions)] for u in self.units],
        }, ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> MaskedDocument:
        data = json.loads(raw)
        return cls(Kind(data["kind"]), tuple(MaskedUnit(p, t, s, a, b, tuple(g)) for p, t, s, a, b, g in data["units"]),
                   data["undecided"], frozenset(data["tokens"]))


def suggestion_id(position: int, field_name: str, start: int, end: int) -> str:
    return f"{position}.{field_name[0]}{start}-{end}"


def _mask_field(text: str, position: int, field_name: str, matcher: AliasMatcher, token_key: bytes,
                speakers: list[str], decisions: Mapping[str, Suggestion]) -> tuple[str, list[Suggestion], set[str]]:
    mentions = matcher.find(text)
    candidates = detect(text, speakers=speakers, known=[(m.start, m.end) for m in mentions])
    suggestions = []
    for c in candidates:
        sid = suggestion_id(position, field_name, c.start, c.end)
        suggestions.append(decisions.get(sid) or Suggestion(sid, c.start, c.end, c.category.value))
    # spans a reviewer added by hand: accepted decisions that no detector proposed
    prefix, detected = f"{position}.{field_name[0]}", {s.id for s in suggestions}
    suggestions += [d for sid, d in decisions.items()
                    if sid.startswith(prefix) and sid not in detected and d.state is SuggestionState.ACCEPTED]
    chosen = redactions(mentions, suggestions)
    tokens: set[str] = set()

    def token_of(identity_id: str) -> str:
        token = pseudonym_token(token_key, identity_id)
        tokens.add(token)
        return token

    return mask(text, chosen, token_of).text, suggestions, tokens


def _suggestion_record(s: Suggestion, text: str, reason_field: str) -> dict[str, object]:
    return {"id": s.id, "field": reason_field, "start": s.start, "end": s.end, "category": s.category,
            "text": text[s.start:s.end], "state": s.state.value, "identity_id": s.identity_id,
            "decided_by": s.decided_by}


def mask_document(extracted: Extracted, matcher: AliasMatcher, token_key: bytes,
                  decisions: Mapping[str, Suggestion] | None = None) -> MaskedDocument:
    """The masked form of a document under the current identities and review decisions."""
    decisions = decisions or {}
    units: list[MaskedUnit] = []
    all_suggestions: list[Suggestion] = []
    tokens: set[str] = set()
    if extracted.kind is Kind.TRANSCRIPT:
        speakers = sorted({t.speaker for t in extracted.turns if t.speaker})
        for turn in extracted.turns:
            masked_text, found, used = _mask_field(turn.text, turn.index, "text", matcher, token_key, speakers, decisions)
            records = [_suggestion_record(s, turn.text, "text") for s in found]
            masked_speaker = None
            if turn.speaker:
                masked_speaker, speaker_found, speaker_used = _mask_field(
                    turn.speaker, turn.index, "speaker", matcher, token_key, speakers, decisions)
                records += [_suggestion_record(s, turn.speaker, "speaker") for s in speaker_found]
                found += speaker_found
                used |= speaker_used
            units.append(MaskedUnit(turn.index, masked_text, masked_speaker, turn.start_ms, turn.end_ms, tuple(records)))
            all_suggestions += found
            tokens |= used
    else:
        for page in extracted.pages:
            masked_text, found, used = _mask_field(page.text, page.number, "text", matcher, token_key, [], decisions)
            units.append(MaskedUnit(page.number, masked_text,
                                    suggestions=tuple(_suggestion_record(s, page.text, "text") for s in found)))
            all_suggestions += found
            tokens |= used
    return MaskedDocument(extracted.kind, tuple(units), undecided(all_suggestions), frozenset(tokens))


def decisions_of(masked: MaskedDocument) -> dict[str, Suggestion]:
    """The decided suggestions of a masked document, to carry over when it is masked again."""
    out = {}
    for unit in masked.units:
        for record in unit.suggestions:
            state = SuggestionState(record["state"])
            if state is not SuggestionState.PENDING:
                out[str(record["id"])] = Suggestion(str(record["id"]), int(record["start"]), int(record["end"]),  # type: ignore[arg-type]
                                                    str(record["category"]), state, record["identity_id"],  # type: ignore[arg-type]
                                                    record["decided_by"])  # type: ignore[arg-type]
    return out
