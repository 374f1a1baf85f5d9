"""Masking a document: registered identities become tokens, candidates become suggestions.

The masked form of a document is one encrypted blob (purpose "masked", a new version each time
it changes) holding, per page or turn, the masked text and the suggestions with their review
state. Pending suggestions are masked as their category until a reviewer rejects them, so an
undecided name never shows. Suggestion ids are stable across re-masking (unit, field, offsets),
so a decision survives when a new identity is registered.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from redaction import (
    AliasMatcher,
    Candidate,
    Mention,
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


# The title (or the file name it came from) is reviewed like a unit of its own: its suggestions
# have ids "-1.t<start>-<end>", apart from every page's and turn's, and it is masked when shown.
TITLE_POSITION = -1
TITLE_FIELD = "title"


@dataclass(frozen=True, slots=True)
class MaskedDocument:
    kind: Kind
    units: tuple[MaskedUnit, ...]
    undecided: int = 0
    tokens: frozenset[str] = field(default=frozenset())
    title_suggestions: tuple[dict[str, object], ...] = ()  # absent from forms masked before titles were reviewed

    def to_json(self) -> bytes:
        return json.dumps({
            "kind": self.kind.value, "undecided": self.undecided, "tokens": sorted(self.tokens),
            "units": [[u.position, u.text, u.speaker, u.start_ms, u.end_ms, list(u.suggestions)] for u in self.units],
            "title": list(self.title_suggestions),
        }, ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> MaskedDocument:
        data = json.loads(raw)
        return cls(Kind(data["kind"]), tuple(MaskedUnit(p, t, s, a, b, tuple(g)) for p, t, s, a, b, g in data["units"]),
                   data["undecided"], frozenset(data["tokens"]), tuple(data.get("title", ())))


def suggestion_id(position: int, field_name: str, start: int, end: int) -> str:
    return f"{position}.{field_name[0]}{start}-{end}"


# A reviewer's "not this identity" on one mention of a registered alias (a clerk named "Hadrien
# Mercadier" is not H, whose alias is "Hadrien"): a rejected decision of this category, carried
# over like every decision, naming the identity and the span it does not stand for there.
NOT_IDENTITY = "not_identity"


def exception_id(position: int, field_name: str, start: int, end: int, identity_id: str) -> str:
    return f"{suggestion_id(position, field_name, start, end)}~{identity_id}"


def _excepted(mention: Mention, exceptions: list[Suggestion]) -> bool:
    """Whether a reviewer said this mention is not its identity: an exception for that identity
    whose span holds the whole mention (a mention that grew past it is masked again)."""
    return any(e.identity_id == mention.identity_id and e.start <= mention.start and mention.end <= e.end
               for e in exceptions)


def _mask_field(text: str, position: int, field_name: str, matcher: AliasMatcher, token_key: bytes,
                speakers: list[str], decisions: Mapping[str, Suggestion], *, file_name: bool = False,
                by_field: Mapping[str, FieldDecisions] | None = None) -> tuple[str, list[Suggestion], set[str]]:
    prefix = f"{position}.{field_name[0]}"
    accepted, exceptions = (_by_field(decisions) if by_field is None else by_field).get(prefix, ([], []))
    found = matcher.find(text)
    known = [(m.start, m.end) for m in found]  # an excepted mention is still no candidate for a detector
    mentions = [m for m in found if not _excepted(m, exceptions)]
    # A file name joins its words with underscores ("audition_Clemence_Vidal.pdf"); read as
    # spaces (the same length, so the offsets hold) they are words the detector sees.
    detected = detect(text.replace("_", " ") if file_name else text, speakers=speakers, known=known)
    candidates = _beside(detected, matcher.near_misses(text, known))
    suggestions = []
    for c in candidates:
        sid = suggestion_id(position, field_name, c.start, c.end)
        suggestions.append(decisions.get(sid) or Suggestion(sid, c.start, c.end, c.category.value))
    # spans a reviewer added by hand: accepted decisions that no detector proposed
    detected = {s.id for s in suggestions}
    suggestions += [d for d in accepted if d.id not in detected]
    suggestions += exceptions  # recorded, so they are carried over to the next masking
    chosen = redactions(mentions, suggestions)
    tokens: set[str] = set()

    def token_of(identity_id: str) -> str:
        token = pseudonym_token(token_key, identity_id)
        tokens.add(token)
        return token

    return mask(text, chosen, token_of).text, suggestions, tokens


FieldDecisions = tuple[list[Suggestion], list[Suggestion]]


def _by_field(decisions: Mapping[str, Suggestion]) -> dict[str, FieldDecisions]:
    """The accepted decisions and the "not this identity" exceptions by unit and field ("12.t"),
    read once per document: looked up per unit, a 30,000-turn transcript with thousands of
    decisions went quadratic (110 s a remask)."""
    out: dict[str, FieldDecisions] = {}
    for sid, d in decisions.items():
        accepted, exceptions = out.setdefault(sid[:sid.index(".") + 2], ([], []))
        if d.state is SuggestionState.ACCEPTED:
            accepted.append(d)
        elif d.state is SuggestionState.REJECTED and d.category == NOT_IDENTITY:
            exceptions.append(d)
    return out


def _beside(candidates: list[Candidate], near_misses: list[Candidate]) -> list[Candidate]:
    """The detector's candidates and the matcher's near misses that overlap none of them, in order."""
    starts = [c.start for c in candidates]
    kept = []
    for near in near_misses:
        i = bisect.bisect_left(starts, near.end)  # candidates starting before the near miss ends
        if i == 0 or candidates[i - 1].end <= near.start:
            kept.append(near)
    return sorted([*candidates, *kept], key=lambda c: c.start)


def _suggestion_record(s: Suggestion, text: str, reason_field: str) -> dict[str, object]:
    return {"id": s.id, "field": reason_field, "start": s.start, "end": s.end, "category": s.category,
            "text": text[s.start:s.end], "state": s.state.value, "identity_id": s.identity_id,
            "decided_by": s.decided_by}


def mask_title(title: str, matcher: AliasMatcher, token_key: bytes,
               decisions: Mapping[str, Suggestion] | None = None) -> tuple[str, list[dict[str, object]]]:
    """A title masked like a unit's text (file names become titles, and hold names as often),
    with its suggestions' records."""
    masked, found, _ = _mask_field(title, TITLE_POSITION, TITLE_FIELD, matcher, token_key, [], decisions or {},
                                   file_name=True)
    return masked, [_suggestion_record(s, title, TITLE_FIELD) for s in found]


def mask_document(extracted: Extracted, matcher: AliasMatcher, token_key: bytes,
                  decisions: Mapping[str, Suggestion] | None = None, *, title: str = "") -> MaskedDocument:
    """The masked form of a document under the current identities and review decisions."""
    decisions = decisions or {}
    by_field = _by_field(decisions)
    units: list[MaskedUnit] = []
    all_suggestions: list[Suggestion] = []
    tokens: set[str] = set()
    if extracted.kind is Kind.TRANSCRIPT:
        speakers = sorted({t.speaker for t in extracted.turns if t.speaker})
        for turn in extracted.turns:
            masked_text, found, used = _mask_field(turn.text, turn.index, "text", matcher, token_key, speakers, decisions,
                                                   by_field=by_field)
            records = [_suggestion_record(s, turn.text, "text") for s in found]
            masked_speaker = None
            if turn.speaker:
                masked_speaker, speaker_found, speaker_used = _mask_field(
                    turn.speaker, turn.index, "speaker", matcher, token_key, speakers, decisions, by_field=by_field)
                records += [_suggestion_record(s, turn.speaker, "speaker") for s in speaker_found]
                found += speaker_found
                used |= speaker_used
            units.append(MaskedUnit(turn.index, masked_text, masked_speaker, turn.start_ms, turn.end_ms, tuple(records)))
            all_suggestions += found
            tokens |= used
    else:
        for page in extracted.pages:
            masked_text, found, used = _mask_field(page.text, page.number, "text", matcher, token_key, [], decisions,
                                                   by_field=by_field)
            units.append(MaskedUnit(page.number, masked_text,
                                    suggestions=tuple(_suggestion_record(s, page.text, "text") for s in found)))
            all_suggestions += found
            tokens |= used
    title_records: list[dict[str, object]] = []
    if title:
        _, title_records = mask_title(title, matcher, token_key, decisions)
        all_suggestions += [_suggestion(r) for r in title_records]
    return MaskedDocument(extracted.kind, tuple(units), undecided(all_suggestions), frozenset(tokens),
                          tuple(title_records))


def _suggestion(record: Mapping[str, object]) -> Suggestion:
    return Suggestion(str(record["id"]), int(record["start"]), int(record["end"]),  # type: ignore[call-overload]
                      str(record["category"]), SuggestionState(record["state"]), record["identity_id"],  # type: ignore[arg-type]
                      record["decided_by"])  # type: ignore[arg-type]


def decisions_of(masked: MaskedDocument) -> dict[str, Suggestion]:
    """The decided suggestions of a masked document, to carry over when it is masked again."""
    out = {}
    records = [r for unit in masked.units for r in unit.suggestions] + list(masked.title_suggestions)
    for record in records:
        if SuggestionState(record["state"]) is not SuggestionState.PENDING:
            out[str(record["id"])] = _suggestion(record)
    return out
