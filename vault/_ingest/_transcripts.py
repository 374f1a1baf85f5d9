"""Call transcripts: who spoke, when, and what they said.

Every format ends as a tuple of ``Turn``s. The speaker matters as much as the text: investigators
filter by speaker, and the redaction step masks speaker labels like any other name, so a label is
kept exactly as written (stripped of surrounding space) and never guessed.

Error messages say where the problem is (a line, a cue, a segment) and never quote the text.
"""

from __future__ import annotations

import io
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import srt
import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError
from webvtt.models import Caption

from vault._ingest._limits import Limits
from vault._ingest._model import Extracted, Format, Turn
from vault.errors import MalformedDocument, ParserLimitExceeded

# "01:07", "00:01:07", "1:02:03.5", "00:01:07,250": minutes:seconds with optional hours and
# fraction.
_TIME = r"(?:\d{1,3}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
# A speaker label: 1-40 letters (any script), digits, spaces, "." "'" "’" "-" and "_" (for
# diarisation labels like SPEAKER_00), starting with a letter or digit.
_LABEL = r"[^\W_][\w .'’-]{0,39}"
# After a label, an ASCII colon followed by a space or the end of the line ("https://x" is not
# a speaker), or a full-width colon, which CJK text writes without a space.
_COLON = r"(?::(?=[ \t]|$)|：)"

# A time before the speaker: "[00:01:07]", "(00:01:07)" or a bare "00:01:07" followed by a space.
_CLOCK_PREFIX = re.compile(
    rf"[ \t]*(?:\[(?P<bracketed>{_TIME})\]|\((?P<parenthesised>{_TIME})\)|(?P<bare>{_TIME})(?=[ \t]))"
)
_SPEAKER_PREFIX = re.compile(rf"[ \t]*(?P<speaker>{_LABEL}?)[ \t]*{_COLON}[ \t]*(?P<text>.*)")
_BRACKETED_SPEAKER = re.compile(rf"[ \t]*\[(?P<speaker>{_LABEL}?)[ \t]*\][ \t]*(?P<text>.*)")

# Words that end in a colon without naming anyone: URL schemes ("tel: +33 ..."), numbers ("2024:")
# and times of day written with a dot or an "h" ("14.30: hearing resumes").
_NOT_SPEAKERS = frozenset({"http", "https", "ftp", "file", "mailto", "tel", "sip", "data", "javascript"})
_TIME_LIKE_LABEL = re.compile(r"\d+(?:[.,h]\d+)*")

# Formatting tags SRT files carry over from HTML and from ASS ("{\an8}").
_SRT_TAGS = re.compile(r"</?(?:i|b|u|s|font)(?:\s[^<>]*)?>|\{\\[^{}]*\}", re.IGNORECASE)

# Segment times are checked against this before any arithmetic, so 1e308 never reaches an int.
_MAX_SECONDS = 10 * 365 * 24 * 3600


def looks_like_transcript(text: str) -> bool:
    """Whether plain text reads as a transcript rather than a court record.

    True when at least two non-empty lines, and more than half of them, start with a speaker
    prefix. A judgment with the odd "Article 1: ..." line stays a court record.
    """
    speakers = lines = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        lines += 1
        _, speaker, _ = _turn_line(line)
        if speaker is not None:
            speakers += 1
    return speakers >= 2 and speakers * 2 > lines


def parse_transcript_text(text: str, *, limits: Limits = Limits()) -> Extracted:
    """Parse ``H: Hello`` / ``[00:01:07] MA: ...`` lines into turns.

    A line with a speaker or a time starts a turn; a line with neither continues the previous
    one. A turn ends when the next one starts, if both have times.
    """
    drafts: list[_Draft] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        clock, speaker, body = _turn_line(line)
        if speaker is None and clock is None:
            if not drafts:  # text before the first turn is kept, as a turn that names nobody
                drafts.append(_Draft(None, None))
            drafts[-1].lines.append(line.strip())
            continue
        if len(drafts) >= limits.max_turns:
            raise _too_many_turns(limits.max_turns)
        start_ms = _clock_to_ms(clock, where=f"line {number}") if clock else None
        drafts.append(_Draft(speaker, start_ms, [body.strip()]))

    turns = _TurnBuilder(limits)
    for draft, following in zip(drafts, [*drafts[1:], None]):
        end_ms = None
        if following is not None and draft.start_ms is not None and following.start_ms is not None:
            if following.start_ms >= draft.start_ms:
                end_ms = following.start_ms
        turns.add(draft.speaker, draft.start_ms, end_ms, "\n".join(draft.lines))
    return Extracted(Format.TRANSCRIPT_TEXT, turns=turns.done())


def parse_webvtt(text: str, *, limits: Limits = Limits()) -> Extracted:
    """Parse WebVTT captions; the speaker comes from ``<v Name>`` or a ``Name:`` prefix."""
    try:
        captions = webvtt.from_buffer(io.StringIO(text)).captions
    except (MalformedFileError, MalformedCaptionError, ValueError):
        # The library's messages quote the cue; ours must not.
        raise MalformedDocument(
            "the file is not valid WebVTT (it must start with a WEBVTT line, and every cue needs "
            "timings like 00:00:01.000 --> 00:00:02.000); fix or re-export it"
        ) from None

    # webvtt-py skips a cue whose timings it cannot read instead of failing; a skipped cue
    # would be text missing from the archive without anyone knowing, so count them.
    timing_lines = sum("-->" in line for line in text.splitlines())
    if len(captions) != timing_lines:
        raise MalformedDocument(
            f"{timing_lines - len(captions)} of {timing_lines} WebVTT cues have timings that "
            "cannot be read; fix or re-export the file"
        )

    turns = _TurnBuilder(limits)
    for number, caption in enumerate(captions, start=1):
        start_ms, end_ms = _cue_times(
            caption.start_time.in_milliseconds(), caption.end_time.in_milliseconds(), f"cue {number}"
        )
        # caption.text drops the tags line by line (in linear time), so it lines up with
        # caption.lines, which still hold the <v> tags.
        lines = [
            (_voice_of(raw), _unescape_cue_text(clean))
            for raw, clean in zip(caption.lines, caption.text.split("\n"))
        ]
        for speaker, body in _speaker_runs(lines, brackets=False):
            turns.add(speaker, start_ms, end_ms, body)
    return Extracted(Format.WEBVTT, turns=turns.done(), header=_vtt_notes(text))


_VTT_NOTE = re.compile(r"^NOTE(?:[ \t]+|\n)(.*?)(?:\n[ \t]*\n|\Z)", re.MULTILINE | re.DOTALL)
MAX_HEADER_CHARS = 4000


def _vtt_notes(text: str) -> str:
    """The NOTE blocks of a WebVTT file (comments: a call's date and number are often there)."""
    return "\n".join(match.group(1) for match in _VTT_NOTE.finditer(text[:100_000]))[:MAX_HEADER_CHARS]


def _json_header(document: object) -> str:
    """The metadata of a JSON transcript: its top-level strings, and those one object down."""
    if not isinstance(document, dict):
        return ""
    lines = []
    for key, value in document.items():
        inner = value.items() if isinstance(value, dict) else [(key, value)]
        lines += [f"{k}: {v}" for k, v in inner if isinstance(v, str)]
    return "\n".join(lines)[:MAX_HEADER_CHARS]


def parse_srt(text: str, *, limits: Limits = Limits()) -> Extracted:
    """Parse SRT subtitles; the speaker comes from a ``Name:`` or ``[Name]`` prefix."""
    turns = _TurnBuilder(limits)
    number = 0
    try:
        # ignore_errors stays False: with it, srt skips unreadable blocks and logs their text.
        for number, subtitle in enumerate(srt.parse(text), start=1):
            start_ms, end_ms = _cue_times(_ms(subtitle.start), _ms(subtitle.end), f"subtitle {number}")
            lines = [(None, _SRT_TAGS.sub("", line)) for line in subtitle.content.split("\n")]
            for speaker, body in _speaker_runs(lines, brackets=True):
                turns.add(speaker, start_ms, end_ms, body)
    except (srt.SRTParseError, ValueError, OverflowError):
        # SRTParseError quotes the unreadable text, and ValueError includes srt's
        # TimestampParseError; say where instead.
        raise MalformedDocument(
            f"the file is not valid SRT at subtitle {number + 1} (each block needs a number, timings "
            "like 00:00:01,000 --> 00:00:02,000 and text, separated by blank lines); fix or re-export it"
        ) from None
    return Extracted(Format.SRT, turns=turns.done())


def parse_json_transcript(text: str, *, limits: Limits = Limits()) -> Extracted:
    """Parse speech-to-text segments: a list, or an object with a ``segments`` list (Whisper).

    Each segment needs ``start`` and ``end`` (seconds, or ``"hh:mm:ss.mmm"``) and ``text``, and may
    have ``speaker`` or ``speaker_label``. Types are checked strictly.
    """
    try:
        document = json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise MalformedDocument("the JSON is nested too deeply to be transcript segments") from None
    except ValueError as error:
        # JSONDecodeError's position is safe to give; its .doc is the whole text, so it is dropped.
        where = f" at line {error.lineno}, column {error.colno}" if isinstance(error, json.JSONDecodeError) else ""
        raise MalformedDocument(f"the file is not valid JSON{where}; fix or re-export it") from None

    if isinstance(document, dict) and isinstance(document.get("segments"), list):
        segments = document["segments"]
    elif isinstance(document, list):
        segments = document
    else:
        raise MalformedDocument(
            'expected a list of segments or an object with a "segments" list (the Whisper shape)'
        )
    if len(segments) > limits.max_turns:
        raise _too_many_turns(limits.max_turns)

    turns = _TurnBuilder(limits)
    for index, segment in enumerate(segments):
        speaker, start_ms, end_ms, body = _read_segment(segment, index)
        turns.add(speaker, start_ms, end_ms, body)
    return Extracted(Format.JSON, turns=turns.done(), header=_json_header(document))


@dataclass(slots=True)
class _Draft:
    speaker: str | None
    start_ms: int | None
    lines: list[str] = field(default_factory=list)


class _TurnBuilder:
    """Numbers turns, skips empty ones, normalises text and enforces ``max_turns``."""

    def __init__(self, limits: Limits) -> None:
        self._turns: list[Turn] = []
        self._max_turns = limits.max_turns

    def add(self, speaker: str | None, start_ms: int | None, end_ms: int | None, text: str) -> None:
        text = text.strip()
        if not text:
            return
        if len(self._turns) >= self._max_turns:
            raise _too_many_turns(self._max_turns)
        speaker = speaker.strip() if speaker else None
        self._turns.append(
            Turn(
                index=len(self._turns),
                speaker=unicodedata.normalize("NFC", speaker) if speaker else None,
                start_ms=start_ms,
                end_ms=end_ms,
                text=unicodedata.normalize("NFC", text),
            )
        )

    def done(self) -> tuple[Turn, ...]:
        return tuple(self._turns)


def _too_many_turns(max_turns: int) -> ParserLimitExceeded:
    return ParserLimitExceeded(
        f"the transcript has more than {max_turns} turns; split it into smaller files"
    )


def _turn_line(line: str) -> tuple[str | None, str | None, str]:
    """Split a line of a text transcript into its time, its speaker and the rest."""
    clock_match = _CLOCK_PREFIX.match(line)
    clock = None
    if clock_match is not None:
        clock = clock_match["bracketed"] or clock_match["parenthesised"] or clock_match["bare"]
        line = line[clock_match.end() :]
    speaker, body = _split_speaker(line, brackets=False)
    return clock, speaker, body


def _speaker_of(match: re.Match[str]) -> str | None:
    label = match["speaker"]
    if label is None:
        return None
    label = label.strip()
    if not label or label.lower() in _NOT_SPEAKERS or _TIME_LIKE_LABEL.fullmatch(label):
        return None
    return label


def _clock_to_ms(clock: str, *, where: str) -> int:
    whole, _, fraction = clock.replace(",", ".").partition(".")
    fields = [int(part) for part in whole.split(":")]
    hours, minutes, seconds = ([0] if len(fields) == 2 else []) + fields
    if seconds > 59 or (len(fields) == 3 and minutes > 59):
        raise MalformedDocument(f"{where}: the time is out of range (minutes and seconds go up to 59)")
    milliseconds = int(fraction.ljust(3, "0")) if fraction else 0
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + milliseconds


def _cue_times(start_ms: int, end_ms: int, where: str) -> tuple[int, int]:
    if end_ms < start_ms:
        raise MalformedDocument(f"{where} ends before it starts; fix its timings")
    return start_ms, end_ms


def _ms(delta: timedelta) -> int:
    return delta // timedelta(milliseconds=1)


def _voice_of(raw_line: str) -> str | None:
    # The library's own pattern, applied to every line, not only the first (caption.voice): a
    # cue can hold two voices, "<v A>Hello</v>" then "<v B>Hi</v>", and each line is attributed
    # to the person who said it.
    match = Caption.VOICE_SPAN_PATTERN.match(raw_line)
    return _unescape_cue_text(match.group(1)).strip() if match else None


_CHARACTER_REFERENCE = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|amp|lt|gt|lrm|rlm|nbsp);")
_NAMED_REFERENCES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&lrm;": "\u200e", "&rlm;": "\u200f", "&nbsp;": "\xa0"}


def _unescape_cue_text(text: str) -> str:
    # Cue text escapes "&", "<" and ">"; webvtt-py strips the tags but leaves the escapes. A
    # name written "M&amp;S" must reach the matcher as "M&S".
    return _CHARACTER_REFERENCE.sub(_replace_reference, text)


def _replace_reference(match: re.Match[str]) -> str:
    reference = match.group()
    if reference in _NAMED_REFERENCES:
        return _NAMED_REFERENCES[reference]
    number = int(reference[3:-1], 16) if reference[2] in "xX" else int(reference[2:-1])
    # Control characters and surrogates written as references are dropped, never decoded.
    if number > 0x10FFFF or 0xD800 <= number <= 0xDFFF or unicodedata.category(chr(number)) == "Cc":
        return ""
    return chr(number)


def _speaker_runs(lines: Iterable[tuple[str | None, str]], *, brackets: bool) -> Iterator[tuple[str | None, str]]:
    """Group the lines of one cue into (speaker, text) runs: a line naming a speaker starts a run."""
    speaker: str | None = None
    body: list[str] = []
    for voice, line in lines:
        named, rest = (voice, line) if voice is not None else _split_speaker(line, brackets=brackets)
        if named is not None:
            if body:
                yield speaker, "\n".join(body)
            speaker, body = named, []
            line = rest
        if line.strip():
            body.append(line.strip())
    if body:
        yield speaker, "\n".join(body)


def _split_speaker(line: str, *, brackets: bool) -> tuple[str | None, str]:
    match = _SPEAKER_PREFIX.fullmatch(line)
    if match is None and brackets:
        match = _BRACKETED_SPEAKER.fullmatch(line)
        # "[Music]" alone is a sound, not a speaker with nothing to say.
        if match is not None and not match["text"].strip():
            match = None
    if match is None:
        return None, line
    speaker = _speaker_of(match)
    return (speaker, match["text"]) if speaker is not None else (None, line)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two "text" keys in one segment would let two readers see two different transcripts.
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate key")
    return dict(pairs)


def _read_segment(segment: object, index: int) -> tuple[str | None, int, int, str]:
    where = f"segment {index}"
    if not isinstance(segment, dict):
        raise MalformedDocument(f"{where} is not an object with start, end and text")
    start_ms = _segment_time(segment, "start", where)
    end_ms = _segment_time(segment, "end", where)
    if end_ms < start_ms:
        raise MalformedDocument(f'{where}: "end" is before "start"')
    body = segment.get("text")
    if not isinstance(body, str):
        raise MalformedDocument(f'{where}: "text" must be a string')
    speaker: object = None
    for key in ("speaker", "speaker_label"):
        if segment.get(key) is not None:
            speaker = segment[key]
            if not isinstance(speaker, str):
                raise MalformedDocument(f'{where}: "{key}" must be a string or null')
            break
    return speaker, start_ms, end_ms, body


def _segment_time(segment: dict[str, Any], key: str, where: str) -> int:
    value = segment.get(key)
    if isinstance(value, str):
        match = re.fullmatch(_TIME, value.strip())
        if match is None:
            raise MalformedDocument(f'{where}: "{key}" must be seconds or a time like "00:01:07.250"')
        return _clock_to_ms(value.strip(), where=f'{where} "{key}"')
    # bool is an int in Python; true is not a time.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MalformedDocument(f'{where}: "{key}" must be a number of seconds or a "hh:mm:ss.mmm" string')
    if not math.isfinite(value) or value < 0 or value > _MAX_SECONDS:
        raise MalformedDocument(f'{where}: "{key}" must be a finite, non-negative number of seconds')
    return round(value * 1000)
