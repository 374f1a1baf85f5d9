"""A document's own date, found in its content: the day a decision was given, a call was made.

``document_date(text, header=...)`` reads dates spelled as people write them in the archive's
documents: French ("le 14 mars 2023", "1er février 2023"), English ("14 March 2023",
"March 14, 2023"), ISO (2023-03-14) and Chinese (2023年3月14日, 二〇二三年三月十四日). A spelling
that names no real day ("31 février 2023", 2023-02-30) is no date. What is taken, in order:

1. a date announced as the document's own: "rendue le", "prononcée ... le", "Fait à Lyon, le",
   "Paris, le", "Séance du", "Dated", "Date of judgment:", "Incoming call,", "判决日期" ...; in a
   transcript's header first (a WebVTT NOTE, a JSON transcript's metadata), then in the text;
2. a date standing alone on a line of its own (a dateline), header first.

Not the first date of a header without a cue (a JSON transcript's metadata may
hold a speaker's date of birth, which must not become a clear, faceted column).

Anything else (a birth date, the date of an earlier event cited in the body) is not the
document's date, and when nothing above is found there is none: the upload day is never taken
for it. A reviewer sets or clears it (``vault._document_dates``).

Where it is kept: in the ``document`` row as a plain ``date`` column, as the rest of the
metadata that the search index filters on (kind, status, the upload day ``created_at``). It is
derived from the content, but a day is the kind of thing DESIGN.md's rule 2 lets the data
directory show ("sizes and dates, nothing more"): it names no one, the upload day beside it is
already in clear, and the search index (encrypted at rest) needs it to filter and facet on, as
it does the upload day. The title, which can name people, stays encrypted (``title_ct``).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

MIN_YEAR, MAX_YEAR = 1900, 2100
SCANNED_CHARS = 50_000  # of the text's start and of its end: a decision's date sits in either

_MONTHS = {
    # French
    "janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6,
    "juillet": 7, "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11,
    "décembre": 12, "decembre": 12,
    # English
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
    "oct": 10, "nov": 11, "dec": 12,
}
_MONTH = "(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_HAN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_HAN = "[〇零一二三四五六七八九十]"

_SPELLINGS = [
    # 14 mars 2023, 1er février 2023, 14 March 2023, 14th March, 2023
    re.compile(r"(?<![\w-])(?P<day>\d{1,2})(?:er|st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r",?\s+(?P<year>\d{4})(?![\w-])",
               re.IGNORECASE),
    # March 14, 2023
    re.compile(r"(?<![\w-])" + _MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})(?![\w-])",
               re.IGNORECASE),
    # 2023-03-14 (not inside a longer run of digits or dashes: a case number is no date)
    re.compile(r"(?<![\w-])(?P<year>\d{4})-(?P<mon>\d{2})-(?P<day>\d{2})(?![\w-]|:\d)"),
    # 2023年3月14日
    re.compile(r"(?P<year>\d{4})\s*年\s*(?P<mon>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*日"),
    # 二〇二三年三月十四日
    re.compile(rf"(?P<hyear>{_HAN}{{4}})年(?P<hmon>{_HAN}{{1,2}})月(?P<hday>{_HAN}{{1,3}})日"),
]

# What announces the document's own date, right before it (the end of the text before a date).
_CUE = re.compile(
    r"(?:"
    r"\b(?:rendu|rendue|rendus|rendues|prononc[ée]e?s?|d[ée]livr[ée]e?|dat[ée]e?|sign[ée]e?|fait|faite)\b[^.\n]{0,60}?\ble"
    r"|\ben\s+date\s+du|\bs[ée]ance\s+du|\bd[ée]cision\s+du|\barr[êe]t\s+du|\bjugement\s+du|\bordonnance\s+du"
    r"|^[^\S\n]*[A-ZÀ-Ý][\w'’ -]{1,40},\s+le"  # a dateline: "Paris, le"
    r"|\bdated(?:\s+this|\s+the)?|\bdate\s+of\s+(?:the\s+)?(?:decision|judg(?:e)?ment|order|ruling|call|hearing|recording)\s*:?"
    r"|\b(?:decided|delivered|handed\s+down|issued|signed|given|recorded|made)\s+(?:on|this)"
    r"|\brecorded|\benregistr[ée]e?\s+le"
    r"|\b(?:incoming|outgoing|phone|telephone)\s+call\b[^.\n]{0,40}?[,:]|\bcall\s+(?:date|of|on)\s*:?"
    r"|\bappel\s+(?:entrant|sortant)?[^.\n]{0,20}?\bdu|\bdate\s*:"
    r"|(?:判决|裁定|决定|审判|通话|录音)?日期\s*[:：]?"
    r")[\s,:\-–—]*(?:the\s+)?$",
    re.IGNORECASE | re.MULTILINE,
)
_CUE_WINDOW = 90  # characters before a date where its cue must end
_DATELINE = re.compile(r"^[^\S\n]*(?:le\s+|on\s+)?$", re.IGNORECASE)


def parse_date(text: str) -> date | None:
    """The day ``text`` spells, when it is exactly one date (with spaces around), else None."""
    text = unicodedata.normalize("NFKC", text).strip()
    for day, start, end in _mentions(text):
        if start == 0 and end == len(text):
            return day
    return None


def document_date(text: str, *, header: str = "") -> date | None:
    """The document's own date, found in its text and its header (module docstring), or None."""
    header = unicodedata.normalize("NFKC", header)
    text = unicodedata.normalize("NFKC", text)
    if len(text) > 2 * SCANNED_CHARS:
        text = text[:SCANNED_CHARS] + "\n" + text[-SCANNED_CHARS:]
    sources = [header, text]
    for source in sources:
        for day, start, _ in _mentions(source):
            if _CUE.search(source[max(0, start - _CUE_WINDOW):start]):
                return day
    for source in sources:
        for day, start, end in _mentions(source):
            line_start = source.rfind("\n", 0, start) + 1
            line_end = source.find("\n", end)
            rest = source[end:len(source) if line_end < 0 else line_end]
            if _DATELINE.match(source[line_start:start]) and re.fullmatch(r"[\s.,;]*", rest):
                return day
    return None  # never any other date of a header: a birth date there would name a person's day


def _mentions(text: str) -> list[tuple[date, int, int]]:
    """Every real day spelled in ``text``, with where it is, in the order of the text."""
    found = []
    for spelling in _SPELLINGS:
        for match in spelling.finditer(text):
            day = _day(match.groupdict())
            if day is not None:
                found.append((day, match.start(), match.end()))
    found.sort(key=lambda mention: mention[1])
    return found


def _day(parts: dict[str, str | None]) -> date | None:
    try:
        if parts.get("hyear"):
            year = int("".join(str(_HAN_DIGITS[c]) for c in parts["hyear"]))  # type: ignore[union-attr]
            month, day = _han_number(parts["hmon"] or ""), _han_number(parts["hday"] or "")
        else:
            year = int(parts["year"] or 0)
            month = _MONTHS[parts["month"].lower()] if parts.get("month") else int(parts["mon"] or 0)  # type: ignore[union-attr]
            day = int(parts["day"] or 0)
        if not MIN_YEAR <= year <= MAX_YEAR:
            return None
        return date(year, month, day)
    except (KeyError, ValueError):  # 31 février, month 13, 十十
        return None


def _han_number(text: str) -> int:
    """一 .. 三十一 (and 〇三 as digits); ValueError for anything else."""
    if "十" not in text:
        return int("".join(str(_HAN_DIGITS[c]) for c in text))
    tens, _, units = text.partition("十")
    if "十" in units or len(tens) > 1 or len(units) > 1:
        raise ValueError(text)
    return (_HAN_DIGITS[tens] if tens else 1) * 10 + (_HAN_DIGITS[units] if units else 0)
