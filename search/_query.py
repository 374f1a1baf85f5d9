"""The query language: a safe subset of Whoosh's, checked before and after parsing.

Allowed: words, "phrases", AND / OR / NOT, parentheses, the fields ``speaker:``,
``kind:`` and ``date:`` (a year, a day, or ``date:[2023-01-01 TO 2023-06-30]``; ``text:``, where
words are searched anyway, is let through), trailing wildcards after at least three letters
(``tight*``), and fuzzy words up to two edits away (``Quilon~`` or ``Quilon~2``). Everything
else is refused with an error that names the rule: leading or inner wildcards, ``?``, regular
expressions, other fields, too long, too deep, too many clauses. Whoosh's own parser never
refuses anything (it turns mistakes into words, and a field it does not know, ``status:``, into
more words) and recurses on nesting, so the raw text is checked first and the parsed tree is
walked after. Whoosh's ``ANDNOT`` and ``REQUIRE`` are read as ``AND NOT`` and ``AND``: its
AndNotMatcher let through units holding the excluded word.

Before parsing, what the user may type for an identity (its pseudonym label; for users who may
see it, its real name and aliases) is replaced by the identity's token, the only form in which
an identity is indexed. A real name typed by anyone else stays an ordinary word: it was never
indexed, so it matches nothing, like any word that does not occur. In ``speaker:`` the label typed
is searched as well as the token: a turn whose speaker the reviewer did not link to the identity
is indexed, and shown, under the plain label (what the reviewer let through; no name is added).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass

from whoosh import query as q
from whoosh.qparser import QueryParser, plugins
from whoosh.reading import IndexReader
from whoosh.support.charset import accent_map

from redaction import Alias, AliasMatcher
from search._analysis import case_schema, pair_term
from search.errors import QueryNotAllowed, QueryTooComplex, QueryTooLong

MAX_QUERY_BYTES = 1024
MAX_DEPTH = 16
MAX_CLAUSES = 64
MIN_PREFIX = 3
MAX_EXPANSIONS = 128
MAX_FUZZY_EDITS = 2
KINDS = ("court_record", "transcript")
SEARCHABLE_FIELDS = {"text": "text", "pairs": "text", "speaker": "speaker", "kind": "kind", "date": "date"}
OFFERED_FIELDS = ("speaker", "kind", "date", "text")  # what a user may type before a colon
_OPERATORS = {"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "REQUIRE"}
_REGEX = re.compile(r"(?:^|[\s:(])(?:r\"|/[^/\s]+/)")
_QUOTED = re.compile(r'"[^"]*"')
# a field as Whoosh's FieldsPlugin reads one: a name and a colon (a time, "10:30", is no field)
_FIELD = re.compile(r"(?<![\w:])([^\W\d]\w*):")


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """A checked query, still holding prefixes and fuzzy words: they are expanded per index
    (``expand``), against that index's own terms and within a bound."""

    query: q.Query
    highlight: frozenset[str]  # analysed words of the text field, for snippets


def _parser() -> QueryParser:
    parser = QueryParser("text", case_schema(), plugins=[
        plugins.WhitespacePlugin(), plugins.FieldsPlugin(), plugins.WildcardPlugin(), plugins.PhrasePlugin(),
        plugins.RangePlugin(), plugins.GroupPlugin(), plugins.OperatorsPlugin(), plugins.FuzzyTermPlugin(),
    ])
    return parser


_PARSER = _parser()
_SPEAKER_ANALYZER = case_schema()["speaker"].analyzer


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower().translate(accent_map)


def check_text(text: str) -> str:
    """The checks on the raw text, before anything else is done for a query."""
    text = unicodedata.normalize("NFC", text).strip()
    if not text:
        raise QueryNotAllowed("EMPTY_QUERY", "type something to search for")
    if len(text.encode()) > MAX_QUERY_BYTES:
        raise QueryTooLong(f"a query holds at most {MAX_QUERY_BYTES} bytes; shorten it")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in text):
        raise QueryNotAllowed("QUERY_INVALID", "the query contains control or invisible characters; retype it")
    depth = deepest = 0
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif not quoted and char == ")":
            depth -= 1
            if depth < 0:
                raise QueryNotAllowed("QUERY_INVALID", "a ')' has no '(' before it")
        if deepest > MAX_DEPTH:
            raise QueryTooComplex(f"parentheses nest at most {MAX_DEPTH} deep")
    if quoted:
        raise QueryNotAllowed("QUERY_INVALID", 'a quotation mark (") is not closed')
    if depth:
        raise QueryNotAllowed("QUERY_INVALID", "a '(' is not closed")
    if _REGEX.search(text):
        raise QueryNotAllowed("QUERY_NOT_ALLOWED", "regular expressions are not supported; use words, phrases and a trailing *")
    for word in re.findall(r'"[^"]*"|\S+', text):
        if word.startswith('"'):
            continue
        bare = word.split(":", 1)[-1].lstrip("(").rstrip(")")
        if bare.startswith("*") or (bare.startswith("?")):
            raise QueryNotAllowed("QUERY_NOT_ALLOWED", "a word cannot start with a wildcard; type at least "
                                                       f"{MIN_PREFIX} letters before the *")
        if "?" in bare:
            raise QueryNotAllowed("QUERY_NOT_ALLOWED", "'?' wildcards are not supported; use a trailing *")
    for field in _FIELD.finditer(_QUOTED.sub(" ", text)):
        if field.group(1) not in OFFERED_FIELDS:
            raise QueryNotAllowed("QUERY_NOT_ALLOWED", f"the field {field.group(1)!r} cannot be searched; "
                                                       "use speaker:, kind: or date:")
    return text


def vocabulary_matcher(vocabulary: tuple[tuple[str, str], ...]) -> AliasMatcher | None:
    """A matcher of what may be typed for each identity, pointing at its token."""
    if not vocabulary:
        return None
    return AliasMatcher(Alias(token, phrase) for phrase, token in vocabulary)


def _rewrite(text: str, vocabulary: AliasMatcher | None) -> tuple[str, dict[str, set[str]]]:
    """The text with every identity typed replaced by its token, and what was typed for each token."""
    typed_for: dict[str, set[str]] = {}
    if vocabulary is None:
        return text, typed_for
    out = []
    cursor = 0
    for mention in vocabulary.find(text):
        typed = text[mention.start:mention.end]
        if typed in _OPERATORS or text[mention.end:mention.end + 1] == ":":
            continue  # an operator or a field name, not an identity
        out.append(text[cursor:mention.start])
        out.append(mention.identity_id)  # the token
        typed_for.setdefault(mention.identity_id.lower(), set()).add(typed)
        cursor = mention.end
    out.append(text[cursor:])
    return "".join(out), typed_for


def _with_typed_speakers(node: q.Query, typed_for: dict[str, set[str]]) -> q.Query:
    """``speaker:`` terms of a token, widened to the labels typed for it (module docstring)."""
    if isinstance(node, (q.And, q.Or, q.DisjunctionMax)):
        return type(node)([_with_typed_speakers(child, typed_for) for child in node.subqueries])
    if isinstance(node, (q.AndMaybe, q.Otherwise)):  # (_check rewrote AndNot and Require)
        return type(node)(_with_typed_speakers(node.a, typed_for), _with_typed_speakers(node.b, typed_for))
    if isinstance(node, q.Not):
        return q.Not(_with_typed_speakers(node.query, typed_for))
    if not (isinstance(node, q.Term) and node.fieldname == "speaker" and node.text in typed_for):
        return node
    labels = []
    for typed in sorted(typed_for[node.text]):
        words = [token.text for token in _SPEAKER_ANALYZER(typed)]
        if words:
            labels.append(q.Term("speaker", words[0]) if len(words) == 1 else q.And([q.Term("speaker", w) for w in words]))
    return q.Or([node, *labels])


def parse(text: str, vocabulary: AliasMatcher | None = None) -> ParsedQuery:
    """Check and parse a query; QueryNotAllowed, QueryTooLong or QueryTooComplex say why not."""
    text, typed_for = _rewrite(check_text(text), vocabulary)
    try:
        parsed = _PARSER.parse(text)
    except RecursionError:
        raise QueryTooComplex(f"parentheses nest at most {MAX_DEPTH} deep") from None
    except Exception:  # Whoosh's parser raises bare exceptions on some inputs
        raise QueryNotAllowed("QUERY_INVALID", "the query could not be read; check its quotes, brackets and fields") from None
    highlight: set[str] = set()
    checked = _check(parsed, 0, itertools.count(1), highlight)
    if typed_for:
        checked = _with_typed_speakers(checked, typed_for)
    return ParsedQuery(checked, frozenset(highlight))


def _check(node: q.Query, depth: int, clauses: itertools.count, highlight: set[str]) -> q.Query:
    if depth > MAX_DEPTH:
        raise QueryTooComplex(f"the query nests at most {MAX_DEPTH} deep")
    if getattr(node, "error", None):  # Whoosh marks what a field could not parse (a bad date)
        raise QueryNotAllowed("QUERY_INVALID", "part of the query could not be read; date: takes a year "
                                               "(date:2023), a day (date:2023-05-14) or a range (date:[2023-01-01 TO 2023-06-30])")
    if isinstance(node, type(q.NullQuery)):
        return node
    if isinstance(node, (q.And, q.Or, q.DisjunctionMax)):
        return type(node)([_check(child, depth + 1, clauses, highlight) for child in node.subqueries])
    if isinstance(node, q.AndNot):  # module docstring: Whoosh's walk lets units holding b through
        return q.And([_check(node.a, depth + 1, clauses, highlight), q.Not(_check(node.b, depth + 1, clauses, highlight))])
    if isinstance(node, q.Require):  # the same matches as AND; one meaning, one answer on both paths
        return q.And([_check(node.a, depth + 1, clauses, highlight), _check(node.b, depth + 1, clauses, highlight)])
    if isinstance(node, (q.AndMaybe, q.Otherwise)):
        return type(node)(_check(node.a, depth + 1, clauses, highlight), _check(node.b, depth + 1, clauses, highlight))
    if isinstance(node, q.Not):
        return q.Not(_check(node.query, depth + 1, clauses, highlight))
    if next(clauses) > MAX_CLAUSES:
        raise QueryTooComplex(f"a query has at most {MAX_CLAUSES} words and phrases")
    field = getattr(node, "fieldname", None)
    if field not in SEARCHABLE_FIELDS or field == "pairs":
        raise QueryNotAllowed("QUERY_NOT_ALLOWED", f"the field {field!r} cannot be searched; use speaker:, kind: or date:")
    if isinstance(node, q.NumericRange) and field == "date":  # what the date field makes of date:...
        return node
    if isinstance(node, q.NumericRange):
        if field != "date":
            raise QueryNotAllowed("QUERY_NOT_ALLOWED", "ranges work on date: only")
        return node
    if isinstance(node, (q.Regex, q.Every, q.TermRange, q.NumericRange, q.Variations)):
        raise QueryNotAllowed("QUERY_NOT_ALLOWED", "that kind of query is not supported; use words, phrases and a trailing *")
    if field == "date":
        raise QueryNotAllowed("QUERY_INVALID", "date: takes a year (date:2023), a day (date:2023-05-14) or a range "
                                               "(date:[2023-01-01 TO 2023-06-30])")
    if isinstance(node, q.FuzzyTerm):
        if node.maxdist > MAX_FUZZY_EDITS:
            raise QueryNotAllowed("QUERY_NOT_ALLOWED", f"a fuzzy word allows at most {MAX_FUZZY_EDITS} edits (word~2)")
        return q.FuzzyTerm(field, _fold(node.text), maxdist=int(node.maxdist), prefixlength=max(node.prefixlength, 1))
    if isinstance(node, (q.Wildcard, q.Prefix)):
        pattern = node.text if isinstance(node, q.Wildcard) else node.text + "*"
        prefix = _fold(pattern[:-1])
        if not pattern.endswith("*") or "*" in pattern[:-1] or len(prefix) < MIN_PREFIX:
            raise QueryNotAllowed("QUERY_NOT_ALLOWED", f"a wildcard goes at the end of a word, after at least {MIN_PREFIX} letters")
        return q.Prefix(field, prefix)
    if isinstance(node, q.Phrase):
        words = list(node.words)
        if field != "text" or len(words) < 2:
            return _check(q.Term(field, " ".join(words)), depth, clauses, highlight) if words else q.NullQuery
        highlight.update(words)
        return q.And([q.Term("pairs", pair_term(a, b)) for a, b in itertools.pairwise(words)])
    if isinstance(node, q.Term):
        if field == "kind" and node.text not in KINDS:
            raise QueryNotAllowed("QUERY_INVALID", f"kind: is one of {', '.join(KINDS)}")
        if field == "text":
            highlight.add(node.text)
        return node
    raise QueryNotAllowed("QUERY_NOT_ALLOWED", "that kind of query is not supported; use words, phrases and a trailing *")


def expand(node: q.Query, reader: IndexReader, highlight: set[str] | None = None) -> q.Query:
    """Replace prefixes and fuzzy words by the index's own matching terms, at most
    MAX_EXPANSIONS each (QueryNotAllowed beyond: a broad prefix is slow and says little)."""
    if isinstance(node, (q.And, q.Or, q.DisjunctionMax)):
        return type(node)([expand(child, reader, highlight) for child in node.subqueries])
    if isinstance(node, (q.AndNot, q.AndMaybe, q.Require, q.Otherwise)):
        return type(node)(expand(node.a, reader, highlight), expand(node.b, reader, highlight))
    if isinstance(node, q.Not):
        return q.Not(expand(node.query, reader, highlight))
    if isinstance(node, q.Prefix):
        terms = reader.expand_prefix(node.fieldname, node.text)
        shown = f"{node.text}*"
    elif isinstance(node, q.FuzzyTerm):
        terms = reader.terms_within(node.fieldname, node.text, node.maxdist, prefix=node.prefixlength)
        shown = f"{node.text}~{node.maxdist}"
    else:
        return node
    found = [t.decode() if isinstance(t, bytes) else t for t in itertools.islice(terms, MAX_EXPANSIONS + 1)]
    if len(found) > MAX_EXPANSIONS:
        raise QueryNotAllowed("QUERY_TOO_BROAD", f"{shown} matches too many words; type more letters")
    if highlight is not None and node.fieldname == "text":
        highlight.update(found)
    return q.Or([q.Term(node.fieldname, t) for t in found]) if found else q.NullQuery
