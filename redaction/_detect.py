"""Candidate detection: what a reviewer should look at that no registered identity covers yet.

A new document is masked with the identities already registered (``AliasMatcher``); what is left
may still name someone. ``detect`` suggests spans for the reviewer: phone numbers, e-mail
addresses, IBANs, document and case numbers, person names (after a title, capitalised sequences
that do not read as ordinary words, transcript speaker labels), organisations and street
addresses. It leans towards showing too much: a wrong suggestion costs the reviewer one click, a
missed one is a name that reaches an investigator.

Nothing here may take a server down on a hostile upload. Every pattern is compiled once, and
every repetition in it is either bounded or separated from the next one by a character it cannot
match itself, so the engine never retries a long stretch in many ways; the patterns that scan
tokens can only start where a token starts. Names are found in one pass over the word tokens.
"""

from __future__ import annotations

import bisect
import contextlib
import contextvars
import enum
import functools
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import phonenumbers
from stdnum import iban as stdnum_iban

from redaction._generic import is_generic_role, is_known_place, is_role_word
from redaction.errors import RedactionError

COMMON_WORD_ZIPF = 4.0  # wordfreq: about once per 100,000 words or more often, in English or French
RARE_WORD_ZIPF = 3.0  # about once per million words or less: hardly vocabulary
MAX_NAME_WORDS = 4  # a capitalised sequence longer than this is a heading or a list, not a name
MAX_TITLED_WORDS = 3  # "M. QUILLON Hadrien Émile"
MAX_LOOKED_UP = 48  # letters: a longer word is in no frequency list, and looking it up costs its length

_HSPACE = "[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]"  # spaces that do not break a line


class Category(enum.StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"
    PHONE = "phone"
    EMAIL = "email"
    ID_NUMBER = "id_number"
    IBAN = "iban"
    PLACE = "place"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A span to show a reviewer: ``text`` is ``source[start:end]``, ``reason`` says why."""

    start: int
    end: int
    category: Category
    text: str
    reason: str


@dataclass(frozen=True, slots=True)
class _Found:
    start: int
    end: int
    rank: int  # between two detections of the same span, the lower rank says it better
    category: Category
    reason: str


# Ranks, most specific first: an e-mail address is never "a capitalised name" as well.
_EMAIL_RANK, _IBAN_RANK, _PHONE_RANK, _SPEAKER_RANK, _ID_RANK, _MARKED_RANK = range(6)
_ORGANISATION_RANK, _ADDRESS_RANK, _TITLED_RANK, _NAME_RANK = range(6, 10)


def detect(
    text: str, *, speakers: Iterable[str] = (), region: str = "FR", known: Iterable[tuple[int, int]] = ()
) -> list[Candidate]:
    """Suggested spans in ``text``, sorted, without overlaps (the longest wins).

    ``speakers`` are the transcript's speaker labels, each flagged wherever it stands as a whole
    word; ``region`` is the country whose national phone numbers are expected; ``known`` are spans
    already matched as registered identities: nothing overlapping one is suggested.
    """
    if isinstance(speakers, str):
        raise TypeError("speakers is a collection of labels, not one string")
    region = region.upper()
    if region != "ZZ" and region not in phonenumbers.SUPPORTED_REGIONS:
        raise RedactionError(f"unknown phone region {region!r}")
    if not text:
        return []
    registered = _Spans(known)
    words = _words(text, registered)
    found = [
        *_emails(text),
        *_ibans(text),
        *_phones(text, region),
        *_speaker_labels(text, speakers),
        *_mixed_numbers(text),
        *_marked_numbers(text),
        *_organisations(text, words),
        *_addresses(text, words),
        *_names(text, words),
        *_kin_names(text, words),
    ]
    return _resolve(text, found, registered)


# -- work done -----------------------------------------------------------------------------------

# What detection did, step by step, for a test to hold it linear in the text without a clock: the
# Python loops that could go quadratic count their steps, the libraries count what they are handed.
# (A regular expression's backtracking happens inside the engine and is counted by no one; the
# patterns' shapes above guard against it, and bench/detect.py times them.)
_WORK: contextvars.ContextVar[Counter[str] | None] = contextvars.ContextVar("detection_work", default=None)


@contextlib.contextmanager
def counting_work() -> Iterator[Counter[str]]:
    """Tally the steps of every ``detect`` call in this context, by kind, into the yielded Counter."""
    work: Counter[str] = Counter()
    reset = _WORK.set(work)
    try:
        yield work
    finally:
        _WORK.reset(reset)


def _count(kind: str, steps: int) -> None:
    work = _WORK.get()
    if work is not None:
        work[kind] += steps


# -- registered spans ----------------------------------------------------------------------------

class _Spans:
    """Disjoint sorted spans, to ask in O(log n) whether a span overlaps any of them."""

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        merged: list[list[int]] = []
        for start, end in sorted((int(s), int(e)) for s, e in spans):
            if end <= start:
                continue  # an empty span overlaps nothing
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self._starts = [s for s, _ in merged]
        self._ends = [e for _, e in merged]

    def overlaps(self, start: int, end: int) -> bool:
        if not self._ends:
            return False
        i = bisect.bisect_right(self._ends, start)
        return i < len(self._starts) and self._starts[i] < end


def _resolve(text: str, found: list[_Found], registered: _Spans) -> list[Candidate]:
    # Longest first, then the more specific detector, then leftmost (as AliasMatcher does). The
    # characters already taken are marked in a byte per character: every span is short, so this
    # stays linear where a sorted list of taken spans would be quadratic on 100,000 candidates.
    found = sorted((f for f in found if not registered.overlaps(f.start, f.end)),
                   key=lambda f: (f.start - f.end, f.rank, f.start))
    occupied = bytearray(len(text))
    taken: list[_Found] = []
    for f in found:
        _count("resolved characters", f.end - f.start)
        if occupied.find(1, f.start, f.end) != -1:
            continue
        occupied[f.start:f.end] = b"\x01" * (f.end - f.start)
        taken.append(f)
    taken.sort(key=lambda f: f.start)
    return [Candidate(f.start, f.end, f.category, text[f.start:f.end], f.reason) for f in taken]


# -- e-mail addresses ----------------------------------------------------------------------------

# The local part may only start where no local-part character precedes it, so a 100 KB run of
# letters is tried once, not from each of its positions; each label of the domain ends at a dot
# it cannot contain; every length is bounded by the RFC's.
_EMAIL = re.compile(
    r"(?<![\w.%+-])[\w.%+-]{1,64}@"
    r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.){1,10}[^\W\d_]{2,63}"
    r"(?![\w-]|\.[^\W_])"
)


def _emails(text: str) -> Iterator[_Found]:
    if "@" not in text:
        return
    for match in _EMAIL.finditer(text):
        yield _Found(match.start(), match.end(), _EMAIL_RANK, Category.EMAIL, "e-mail address")


# -- IBANs ---------------------------------------------------------------------------------------

_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ \u00a0]?[A-Z0-9]{4}){2,7}(?:[ \u00a0]?[A-Z0-9]{1,3})?(?![A-Za-z0-9])"
)
_GROUP = re.compile(r"\S+")


def _ibans(text: str) -> Iterator[_Found]:
    for match in _IBAN.finditer(text):
        # The last group of four may be the next word in capitals ("... 0130 00 SWIFT"): drop
        # trailing groups until the check digits agree.
        groups = list(_GROUP.finditer(match.group()))
        _count("IBAN groups", len(groups))
        for last in range(len(groups), 0, -1):
            end = match.start() + groups[last - 1].end()
            if stdnum_iban.is_valid(text[match.start():end]):
                yield _Found(match.start(), end, _IBAN_RANK, Category.IBAN, "IBAN")
                break


# -- phone numbers -------------------------------------------------------------------------------

def _phones(text: str, region: str) -> Iterator[_Found]:
    # Leniency VALID would miss numbers in ranges not (yet) allocated, such as the block the
    # French regulator reserves for fiction, which a caller may well use; POSSIBLE alone takes a
    # case number for a phone number ("2023/01847" is a valid French number without its 0). So a
    # number must be written as phone numbers are: "+33 ...", "0033 ...", "(415) ...", or with the
    # national trunk prefix "0"; where that prefix is not "0" (North America writes "415-555-..."),
    # a valid number without it is kept too.
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    trunk = metadata.national_prefix if metadata else None
    prefixes = ("+", "00", "(", *([trunk] if trunk else []))
    for offset, match in _phone_matches(text, region, trunk):
        number, raw = match.number, match.raw_string
        valid = phonenumbers.is_valid_number(number)
        if not (raw.startswith(prefixes) or (valid and trunk != "0" and "/" not in raw)):
            continue
        if valid:
            reason = f"phone number ({phonenumbers.region_code_for_number(number)})"
        else:
            reason = f"possible phone number ({phonenumbers.region_code_for_country_code(number.country_code)})"
        yield _Found(offset + match.start, offset + match.end, _PHONE_RANK, Category.PHONE, reason)


# a "0" inside a token, a date or a time ("Kx00001", "16/04/2024", "00:00:01.200") starts no
# phone number
_PHONE_START = re.compile(r"[+(]|(?<![\w/.,:\-])0(?!\d?[:h]\d)")
_PHONE_REACH = 64  # characters from its first one that a phone number, however spaced, stays within


def _phone_matches(text: str, region: str, trunk: str | None) -> Iterator[tuple[int, phonenumbers.PhoneNumberMatch]]:
    """The library's matches, each with the offset of the stretch of text it was found in.

    The library spends about 3 s on a megabyte of digits (amounts, tables); where every number
    kept must start with "+", "(" or the trunk prefix "0", only the stretches after one of those
    are handed to it.
    """
    if trunk == "0":
        stretches: list[list[int]] = []
        for start in _PHONE_START.finditer(text):
            if stretches and start.start() <= stretches[-1][1]:
                stretches[-1][1] = start.start() + _PHONE_REACH
            else:
                stretches.append([start.start(), start.start() + _PHONE_REACH])
    else:
        stretches = [[0, len(text)]]
    for start, end in stretches:
        _count("characters handed to phonenumbers", end - start)
        # max_tries bounds how many number-like stretches are looked at; the default (65,535)
        # would stop looking part way through a long transcript full of timestamps.
        for match in phonenumbers.PhoneNumberMatcher(
                text[start:end], region, leniency=phonenumbers.Leniency.POSSIBLE, max_tries=sys.maxsize):
            yield start, match


# -- speaker labels ------------------------------------------------------------------------------

def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


@functools.lru_cache(maxsize=64)  # one transcript's labels, asked for in each of its turns
def _labels_pattern(speakers: tuple[str, ...]) -> re.Pattern[str] | None:
    # a generic role ("Agent", "Caller 2", "Témoin") labels a turn, it names no one
    labels = sorted({label.strip() for label in speakers if label and label.strip() and not is_generic_role(label)},
                    key=len, reverse=True)
    if not labels:
        return None
    parts = []
    for label in labels:
        body = r"\s+".join(re.escape(part) for part in label.split())
        left = r"(?<!\w)" if _is_word_char(label[0]) else ""
        right = r"(?!\w)" if _is_word_char(label[-1]) else ""
        parts.append(left + body + right)
    # Case-sensitive on purpose: the speaker "H" is not the "h" of "21 h 30".
    return re.compile("|".join(parts))


def _speaker_labels(text: str, speakers: Iterable[str]) -> Iterator[_Found]:
    pattern = _labels_pattern(tuple(speakers))
    if pattern is None:
        return
    for match in pattern.finditer(text):
        yield _Found(match.start(), match.end(), _SPEAKER_RANK, Category.PERSON, "speaker label")


# -- document, passport, warrant and case numbers ------------------------------------------------

# A token of ASCII letters and digits, possibly in segments ("OE-2023-117", "CCN/2024/0219"),
# holding at least one digit and one letter. It starts only where no token character precedes.
_MIXED_TOKEN = re.compile(
    r"(?<![\w/.\-])(?=[A-Za-z/.\-]*\d)(?=[\d/.\-]*[A-Za-z])[A-Za-z0-9]+(?:[/.\-][A-Za-z0-9]+)*(?!\w)"
)
_LETTERS_THEN_DIGITS = re.compile(r"[A-Za-z]{1,4}\d+")
_VERSION = re.compile(r"[A-Za-z]*\d{1,4}(?:\.\d{1,4})+")  # "v1.2.3", "Python3.11"
# Letters that make a token a quantity, a rank, a time or a date rather than an identifier.
_NUMBER_WITH_UNIT = re.compile(
    r"\d+(?:[.,]\d+)?(?:km|kg|mg|ml|cm|mm|m|g|h|s|ms|min|kb|mb|gb|tb|ko|mo|go|px|pt|hz|khz|mhz|ghz"
    r"|w|kw|kwh|mw|v|l|er|re|e|eme|nd|rd|st|th|bis|ter)",
    re.IGNORECASE,
)
_DATE_LETTERS = frozenset(
    "jan feb fev mar apr avr may mai jun juin jul juil aug aou sep sept oct nov dec "
    "january february march april june july august september october november december "
    "janvier fevrier mars avril juillet aout septembre octobre novembre decembre "
    "t z tz h utc gmt".split()
)
_DIGITS_ONLY_DATE = re.compile(
    r"\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}|\d{4}[/.\-]\d{1,2}[/.\-]\d{1,2}|(?:1[89]|20)\d\d[/\-](?:1[89]|20)\d\d"
)
# "n° 2023/01847", "RG n° 23/04412", "passport 123456789": a number is an identifier because of
# the word before it. The marker is kept out of the span; it names nothing.
_MARKED_NUMBER = re.compile(
    r"(?P<marker>\b[nN][°º]|\b[nN][oO]\.|#|\bRG\b|\b(?i:numéro|number|passport|passeport|warrant|mandat"
    r"|dossier|case|docket|file|minute|requête|request|réf|ref|référence|reference)\b)"
    rf"{_HSPACE}{{0,3}}:?{_HSPACE}{{0,3}}(?:(?:[nN][°º]|[nN][oO]\.){_HSPACE}{{0,3}})?"
    r"(?P<number>\d[\dA-Za-z]*(?:[/.\-][\dA-Za-z]+)*)(?!\w)"
)


def _id_shape(token: str) -> str | None:
    """Which identifier a letters-and-digits token looks like, or None if it is no identifier."""
    if not 6 <= len(token) <= 20 or sum(c.isdigit() for c in token) < 3:
        return None  # "COVID-19", "F-16": too few digits to single anything out
    letters = "".join(c for c in token if c.isalpha()).lower()
    if letters in _DATE_LETTERS or _NUMBER_WITH_UNIT.fullmatch(token) or _VERSION.fullmatch(token):
        return None
    if any(sep in token for sep in "/.-"):
        return "segmented reference number"
    if _LETTERS_THEN_DIGITS.fullmatch(token):
        return "letters then digits (document number)"
    return "mixed letters and digits"


def _mixed_numbers(text: str) -> Iterator[_Found]:
    for match in _MIXED_TOKEN.finditer(text):
        reason = _id_shape(match.group())
        if reason:
            yield _Found(match.start(), match.end(), _ID_RANK, Category.ID_NUMBER, reason)


def _marked_numbers(text: str) -> Iterator[_Found]:
    for match in _MARKED_NUMBER.finditer(text):
        number = match.group("number")
        if not 6 <= len(number) <= 20 or sum(c.isdigit() for c in number) < 4:
            continue  # "n° 2", "pièce n° 14"
        if _DIGITS_ONLY_DATE.fullmatch(number):
            continue
        marker = match.group("marker")
        marker = "n°" if marker[0] in "nN" and marker[1] in "°º" else marker if marker == "RG" else marker.lower()
        start, end = match.span("number")
        yield _Found(start, end, _MARKED_RANK, Category.ID_NUMBER, f"number after {marker}")


# -- words ---------------------------------------------------------------------------------------

# A word token: letters, hyphenated parts, and an elided French article or "O'" in front
# ("d'Estaing", "L'État", "O'Brien"). Not a piece of a token with digits ("KD4471902").
_WORD = re.compile(
    r"(?<!\w)(?P<elision>[dDlLO]['’](?=[^\W\d_]))?[^\W\d_]+(?:[-\u2010\u2011][^\W\d_]+)*(?!\w)"
)
# What may stand between two words of one name: a few spaces; after an initial, its full stop;
# after a title or a first name, a line break (a name wrapped at the end of a line).
_NAME_GAP = re.compile(rf"{_HSPACE}{{1,3}}")
_INITIAL_GAP = re.compile(rf"\.{_HSPACE}{{1,2}}")
_LINE_BREAK = re.compile(rf"{_HSPACE}{{0,3}}\n{_HSPACE}{{0,3}}")
_TITLE_GAP = re.compile(rf"\.?(?:{_HSPACE}{{1,3}}|{_HSPACE}{{0,3}}\n{_HSPACE}{{0,3}})")

_PARTICLES = frozenset("de du des d la le van von der den ter ten da di dos das del della ben bin ibn al el".split())
# "al-Assad", "ben-Gourion": a lower-case prefix does not stop a surname being capitalised
_PREFIXED_SURNAME = re.compile(r"(?:al|el|ben|bin|ibn|abu|bou|ould)-[^\W\d_]")
_ARTICLES = frozenset("le la".split())  # "Le Fanal"; "LE"/"le" are particles, "A" may be an initial
# Words that are never inside a name, even capitalised: they end a run ("ÉMET UN AVIS", "The
# Court", "Selon Ostrelis SAS").
_NOT_IN_NAMES = frozenset(
    "les un une ce cet cette ces et ou mais donc puis à au aux en dans par pour sur sous avec sans selon "
    "comme depuis chez vers contre entre après avant pendant quand si est il elle ils elles je tu nous vous "
    "the an of and or but to in on at by for with from into about after before since when while if as is "
    "this that these those he she it we you they".split()
)

# Abbreviated titles are case-sensitive ("Me" is a title, "me" a pronoun); the value is how the
# reason spells the title and whether it needs its full stop ("M." but "Mme").
_ABBREVIATED_TITLES = {
    "M": ("M.", True), "Mme": ("Mme", False), "MME": ("Mme", False), "Mlle": ("Mlle", False),
    "MLLE": ("Mlle", False), "Mr": ("Mr", False), "MR": ("Mr", False), "Mrs": ("Mrs", False),
    "MRS": ("Mrs", False), "Ms": ("Ms", False), "Dr": ("Dr", False), "DR": ("Dr", False),
    "Me": ("Me", False), "Pr": ("Pr", False),
}
# Title words in any case: "le colonel Lucan ARDEVIK".
_TITLE_WORDS = {
    word.casefold(): word for word in
    "Maître Colonel Général Juge Judge Professor Professeur Monsieur Madame Mademoiselle Docteur Doctor".split()
}

# Organisations: a capitalised sequence ending with a legal form or starting with an institution
# word, or following "la société".
_LEGAL_FORMS = frozenset("SAS SA SARL GmbH Ltd LTD Inc INC LLC".split())
_ORGANISATION_WORDS = frozenset("group groupe bureau ministry ministère bank banque".split())
_ORGANISATION_CONNECTORS = frozenset("de du des d l la le les of the for pour".split())
_ORGANISATION_CUES = frozenset("société company firm entreprise compagnie".split())
# A capitalised sequence led by one of these is an institution or a place, not a person.
_INSTITUTION_HEADS = frozenset(
    "cour court tribunal chambre commission comité committee conseil council université university "
    "hôpital hospital préfecture ambassade embassy association fondation foundation institut institute "
    "observatoire agence agency service police parti party office direction".split()
)
_PLACE_HEADS = frozenset(
    "république republic royaume kingdom principauté principality province région region "
    "département canton".split()
)
_STREET_TYPES = frozenset("rue avenue boulevard quai impasse chemin allée place route square passage".split())
_STREET_TAILS = frozenset("street road avenue lane drive square boulevard place way".split())
_HOUSE_NUMBER = re.compile(rf"(?<!\d)\d{{1,4}}(?:{_HSPACE}?(?:bis|ter|[A-Za-z]))?,?\s{{1,3}}\Z")
_POSTCODE = re.compile(rf",?{_HSPACE}{{1,3}}(?:[-–—]{_HSPACE}{{1,3}})?\d{{5}}{_HSPACE}{{1,3}}")


_LOWER_CASE_KEPT = _PARTICLES | _ORGANISATION_CONNECTORS | _ORGANISATION_CUES | _STREET_TYPES | set(_TITLE_WORDS)


@dataclass(frozen=True, slots=True)
class _Word:
    start: int  # including an elided article: "d'Estaing"
    core: int  # where the word proper starts: "Estaing"
    end: int
    text: str  # the word proper
    capitalised: bool
    particle: bool
    upper: bool
    registered: bool  # overlaps a registered span: a name never runs across one


def _words(text: str, registered: _Spans) -> list[_Word]:
    """The words that can take part in a name, an organisation or an address.

    Other lower-case words are left out, which keeps a 1 MB text to a few thousand objects: no
    rule needs them, since two words belong together only if nothing but spaces (or an
    initial's full stop) stands between them in the text itself.
    """
    words = []
    for match in _WORD.finditer(text):
        start, end = match.span()
        _count("word tokens", 1)
        elision = match.group("elision")
        core = match.end("elision") if elision and elision[0] != "O" else start  # "O'Brien" is all name
        word = text[core:end]
        if not word[0].isupper() and word.lower() not in _LOWER_CASE_KEPT and not _PREFIXED_SURNAME.match(word):
            continue
        particle = word.lower() in _PARTICLES and (word.islower() or word.isupper())
        capitalised = not particle and word.lower() not in _NOT_IN_NAMES \
            and (word[0].isupper() or bool(_PREFIXED_SURNAME.match(word)))
        words.append(_Word(start, core, end, word, capitalised, particle, word.isupper(),
                           registered.overlaps(start, end)))
    return words


def _zipf(word: str) -> float:
    # wordfreq splits a word at its hyphens and looks up every part: a 100 KB "Ab-Ab-..." cost
    # about 0.3 s, and the cache would keep it
    if len(word) > MAX_LOOKED_UP:
        return 0.0
    _count("characters looked up", len(word))
    return _cached_zipf(word)


@functools.lru_cache(maxsize=65_536)
def _cached_zipf(word: str) -> float:
    from wordfreq import zipf_frequency  # loads its lists on first use, not at import

    return max(zipf_frequency(word, "en"), zipf_frequency(word, "fr"))


def _everyday(word: _Word) -> bool:
    """Whether a word is common in English or French ("Court", "Attendu", "Lyon", "Paul")."""
    return _zipf(word.text.lower()) >= COMMON_WORD_ZIPF


def _rare(word: _Word) -> bool:
    return _zipf(word.text.lower()) < RARE_WORD_ZIPF


def _title(text: str, words: list[_Word], i: int) -> str | None:
    """How the reason names the title at ``words[i]``, if it is one."""
    word = words[i]
    if word.core != word.start:
        return None
    if word.text in _ABBREVIATED_TITLES:
        spelled, needs_stop = _ABBREVIATED_TITLES[word.text]
        if needs_stop and not text.startswith(".", word.end):
            return None
        return spelled
    return _TITLE_WORDS.get(word.text.casefold())


def _joined(text: str, before: _Word, after: _Word, *, across_lines: bool = False) -> bool:
    """Whether two consecutive words may belong to one name."""
    _count("gap characters", after.start - before.end)
    gap = text[before.end:after.start]
    if gap == " " or _NAME_GAP.fullmatch(gap):
        return True
    if across_lines and _LINE_BREAK.fullmatch(gap):
        # "Mme Sophie\nArnault-Diallo" is a name wrapped at a line end; "Hadrien Mercadier\nLE
        # PRÉSIDENT" a name over a heading.
        return before.upper == after.upper
    return len(before.text) == 1 and before.upper and bool(_INITIAL_GAP.fullmatch(gap))


def _run(text: str, words: list[_Word], i: int, limit: int | None, *, wraps: bool = False) -> tuple[list[int], int]:
    """The name words of the capitalised run starting at ``words[i]`` and the index after it.

    Particles are kept inside a run ("Jean de la Fontaine") but never at its ends; a title, a
    registered span or anything else than a few spaces between two words ends the run. With
    ``wraps`` (after a title), the line may break after the first name word. Elsewhere a line
    break ends the run: at the end of a line, a capitalised word is as often a heading or a page
    footer ("Rapprochée\nPage 3/4") as a name that goes on.
    """
    names: list[int] = []
    particles = 0
    j = i
    while j < len(words):
        _count("name run steps", 1)
        word = words[j]
        across_lines = wraps and len(names) == 1 and names[0] == j - 1
        if word.registered or (j > i and not _joined(text, words[j - 1], word, across_lines=across_lines)):
            break
        if word.particle and names and particles < 2:
            particles += 1
        elif word.capitalised and _title(text, words, j) is None:
            names.append(j)
            particles = 0
            if limit is not None and len(names) == limit:
                return names, j + 1
        else:
            break
        j += 1
    return names, (names[-1] + 1 if names else i + 1)


_SENTENCE_OPENERS = frozenset(" \t\u00a0\u202f«“\"'‘([—–-")
_SENTENCE_ENDS = frozenset(".!?…:;\n\r>]|")


def _starts_sentence(text: str, position: int) -> bool:
    i = position - 1
    stop = max(-1, position - 12)
    while i > stop and text[i] in _SENTENCE_OPENERS:
        i -= 1
    # a long run of spaces separates columns ("Chloé Vidalenc          Laurence Oyelaran-Petit")
    return i < 0 or i == stop or text[i] in _SENTENCE_ENDS


# -- person names --------------------------------------------------------------------------------

def _names(text: str, words: list[_Word]) -> Iterator[_Found]:
    i = 0
    while i < len(words):
        word = words[i]
        title = None if word.registered else _title(text, words, i)
        if title is not None:
            names, after = _titled(text, words, i)
            if names:
                yield _Found(words[names[0]].core, words[names[-1]].end, _TITLED_RANK, Category.PERSON,
                             f"title {title}")
                i = after
                continue
        elif word.capitalised and not word.registered:
            names, after = _run(text, words, i, None)
            yield from _capitalised(text, words, names)
            i = after
            continue
        i += 1


def _titled(text: str, words: list[_Word], i: int) -> tuple[list[int], int]:
    if i + 1 >= len(words):
        return [], i + 1
    gap = text[words[i].end:words[i + 1].start]
    # only an abbreviation takes a full stop: "M. Quillon", but "d'intérêt général. Dans le"
    if not _TITLE_GAP.fullmatch(gap) or (gap.startswith(".") and words[i].text not in _ABBREVIATED_TITLES):
        return [], i + 1
    if not words[i + 1].capitalised:
        return [], i + 1
    # After a title even an everyday word is a name ("Mme Rose", "Dr Martin").
    return _run(text, words, i + 1, MAX_TITLED_WORDS, wraps=True)


def _capitalised(text: str, words: list[_Word], names: list[int]) -> Iterator[_Found]:
    if len(names) > MAX_NAME_WORDS:
        return  # a heading in capitals, a title in title case: too long for one name
    # An article is not part of a name ("Le Fanal"); at a sentence start the first word's capital
    # says nothing, so an everyday word there is dropped ("The Court", "Attendu que").
    if names and words[names[0]].text.lower() in _ARTICLES:
        names = names[1:]
    if names and len(words[names[0]].text) > 1 and _starts_sentence(text, words[names[0]].start) \
            and _everyday(words[names[0]]):
        names = names[1:]  # (an initial keeps its capital: "H. Quillon a signé")
    if len(names) < 2 or all(_everyday(words[n]) or is_role_word(words[n].text) for n in names):
        return  # ordinary words, or roles only ("Témoin Inconnu", "Greffier Adjoint" is not)
    if all(words[n].upper for n in names) and not any(_rare(words[n]) for n in names):
        # Text in capitals is mostly headings and the operative part of a judgment ("PERSONNE
        # RÉCLAMÉE", "AVIS DÉFAVORABLE"), whose words are uncommon but still vocabulary; a name
        # there must have a word that is hardly vocabulary at all ("QUILLON", "KALVANO").
        return
    first, last = words[names[0]], words[names[-1]]
    head, tail = first.text.casefold(), last.text.casefold()
    if head in _PLACE_HEADS or is_known_place(text[first.core:last.end]):
        category, reason = Category.PLACE, "place name"
    elif head in _INSTITUTION_HEADS or head in _ORGANISATION_WORDS:
        category, reason = Category.ORGANISATION, "institution name"
    elif tail in _STREET_TAILS:
        category, reason = Category.PLACE, "street name"
    else:
        category, reason = Category.PERSON, "capitalised name"
    yield _Found(first.core, last.end, _NAME_RANK, category, reason)


# -- first names after a kinship word -------------------------------------------------------------

# "votre sœur Clémence", "sa mère, Odile", "his brother Wen": a relative is named by a first
# name alone, often an everyday word ("Rose"), which no other rule takes as a name. The kinship
# word is looked for only in the few characters before a capitalised word, never across the text.
_KINSHIP_WORDS = (
    "mère père sœur soeur frère fils fille tante oncle cousin cousine neveu nièce épouse époux mari femme "
    "grand-mère grand-père belle-mère beau-père belle-sœur belle-soeur beau-frère petit-fils petite-fille "
    "fiancé fiancée compagnon compagne maman papa "
    "mother father sister brother son daughter aunt uncle nephew niece wife husband grandmother "
    "grandfather grandson granddaughter stepmother stepfather stepson stepdaughter fiance mum mom dad"
).split()
_KINSHIP = frozenset(_KINSHIP_WORDS)
_LONGEST_KINSHIP_WORD = max(map(len, _KINSHIP_WORDS))
_GAP_CHARACTERS = frozenset(" \t\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000")
# "son" is a kinship word in English only; in French it is "his" ("son Excellence"), so it needs
# an English word before it ("his son Paul").
_ENGLISH_SON = re.compile(rf"(?<![^\W\d_])(?i:my|his|her|your|our|their|the|a|whose){_HSPACE}{{1,3}}\Z")
_KINSHIP_RANK = _TITLED_RANK  # as specific as a title: the word before says it is a person


def _kin_names(text: str, words: list[_Word]) -> Iterator[_Found]:
    for i, word in enumerate(words):
        if not word.capitalised or word.registered or word.core != word.start:
            continue
        kin = _kinship_word_before(text, word.start)
        if kin is None or word.text.lower() in _ARTICLES or _title(text, words, i) is not None:
            continue
        start, name = kin
        if name == "son" and not _ENGLISH_SON.search(text, max(0, start - 12), start):
            continue
        names, _ = _run(text, words, i, MAX_TITLED_WORDS)
        if names and names[0] == i:
            yield _Found(word.core, words[names[-1]].end, _KINSHIP_RANK, Category.PERSON, f"after {name}")


def _kinship_word_before(text: str, position: int) -> tuple[int, str] | None:
    """The kinship word (where it starts, lower-cased) that ends a few spaces, or a comma and a
    few spaces, before ``position``. Read backwards character by character: a pattern of every
    kinship word tried at each position would cost more than all the rest of detection."""
    end = position
    while end > position - 3 and end > 0 and text[end - 1] in _GAP_CHARACTERS:
        end -= 1
    if end == position:
        return None
    if end > 0 and text[end - 1] == ",":
        end -= 1
    start = end
    while start > 0 and end - start <= _LONGEST_KINSHIP_WORD and (text[start - 1].isalpha() or text[start - 1] == "-"):
        start -= 1
    word = text[start:end].lower()
    if word not in _KINSHIP or (start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_")):
        return None
    return start, word


# -- organisations -------------------------------------------------------------------------------

def _organisation_words(word: _Word) -> tuple[bool, bool]:
    """(is a legal form, is an institution word) for a token."""
    return word.text in _LEGAL_FORMS, word.capitalised and word.text.casefold() in _ORGANISATION_WORDS


def _organisations(text: str, words: list[_Word]) -> Iterator[_Found]:
    for i, word in enumerate(words):
        if word.registered:
            continue
        legal_form, institution = _organisation_words(word)
        if legal_form or institution:
            yield from _around_keyword(text, words, i, legal_form)
        elif word.text.casefold() in _ORGANISATION_CUES and i + 1 < len(words):
            names, _ = _run(text, words, i + 1, MAX_NAME_WORDS)
            if names and names[0] == i + 1 and _on_one_line(text, word, words[i + 1]):
                yield _Found(words[names[0]].core, words[names[-1]].end, _ORGANISATION_RANK,
                             Category.ORGANISATION, f"after {word.text.casefold()}")


def _on_one_line(text: str, before: _Word, after: _Word) -> bool:
    return _joined(text, before, after) and "\n" not in text[before.end:after.start]


def _around_keyword(text: str, words: list[_Word], k: int, legal_form: bool) -> Iterator[_Found]:
    # Backwards: "Ostrelis SAS", "Groupe Malaure SAS", "Crédit du Nord SA".
    first = k
    j = k - 1
    while j >= 0 and k - j <= MAX_NAME_WORDS and not words[j].registered and _on_one_line(text, words[j], words[j + 1]):
        _count("organisation steps", 1)
        if words[j].capitalised and _title(text, words, j) is None:
            first = j
        elif not words[j].particle:
            break
        j -= 1
    # Forwards, from an institution word: "Bureau of State Integrity", "Banque de France".
    last = k
    if not legal_form:
        j, count = k + 1, 0
        while j < len(words) and count < MAX_NAME_WORDS and not words[j].registered \
                and _on_one_line(text, words[j - 1], words[j]):
            _count("organisation steps", 1)
            if words[j].capitalised and _title(text, words, j) is None:
                last, count = j, count + 1
            elif words[j].text.lower() not in _ORGANISATION_CONNECTORS:
                break
            j += 1
    # Unlike a person's, an organisation's name is often everyday words ("Crédit Agricole SA"),
    # so a sentence start drops nothing here but an article.
    while first < k and (words[first].text.lower() in _ARTICLES or not words[first].capitalised):
        first += 1
    others = [w for w in words[first:last + 1] if w is not words[k] and w.capitalised]
    if not others:
        return  # "le Bureau", "Ministère public"
    # "REFUS DE SA FAMILLE": in a text in capitals, "SA" (or "BANQUE") after everyday words is
    # ordinary language; in ordinary case, "World Bank" is an organisation all the same.
    if all(w.upper for w in others) and all(_everyday(w) for w in others):
        return
    reason = f"organisation {'suffix' if legal_form else 'word'} {words[k].text}"
    yield _Found(words[first].core, words[last].end, _ORGANISATION_RANK, Category.ORGANISATION, reason)


# -- street addresses ----------------------------------------------------------------------------

def _addresses(text: str, words: list[_Word]) -> Iterator[_Found]:
    # French order, "14, rue des Tanneurs-Vieux, 69006 Lyon": the street type comes first, in
    # lower case, so the capitalised-name rules never see it.
    for i, word in enumerate(words):
        if word.registered or word.text.casefold() not in _STREET_TYPES or i + 1 >= len(words):
            continue
        j = i + 1
        while j < len(words) and words[j].particle and j - i <= 2 and _on_one_line(text, words[j - 1], words[j]):
            j += 1
        if j >= len(words) or not _on_one_line(text, words[j - 1], words[j]) or words[j].particle:
            continue
        names, _ = _run(text, words, j, MAX_NAME_WORDS)
        if not names or names[0] != j:
            continue
        start, end = word.start, words[names[-1]].end
        number = _HOUSE_NUMBER.search(text, max(0, start - 16), start)
        if number:
            start = number.start()
        postcode = _POSTCODE.match(text, end)
        if postcode:
            city = bisect.bisect_left(words, postcode.end(), key=lambda w: w.start)
            if city < len(words) and words[city].start == postcode.end() and words[city].capitalised:
                end = words[city].end
        yield _Found(start, end, _ADDRESS_RANK, Category.PLACE, "street address")
