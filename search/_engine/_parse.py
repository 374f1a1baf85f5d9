"""The Whoosh side of the query language: parsing, the checks on the parsed tree, expansion.

Whoosh's parser never refuses anything (it turns mistakes into words, and a field it does not
know, ``status:``, into more words) and recurses on nesting, so the raw text is checked first
(``search._query.check_text``) and the parsed tree is walked after (``_check``). Whoosh's
``ANDNOT`` and ``REQUIRE`` are read as ``AND NOT`` and ``AND``: its AndNotMatcher let through
units holding the excluded word. In ``speaker:`` the label typed is searched as well as the
token: a turn whose speaker the reviewer did not link to the identity is indexed, and shown,
under the plain label (what the reviewer let through; no name is added).
"""

from __future__ import annotations

import itertools
import unicodedata
from dataclasses import dataclass

from whoosh import query as q
from whoosh.qparser import QueryParser, plugins
from whoosh.reading import IndexReader
from whoosh.support.charset import accent_map

from redaction import AliasMatcher
from search._engine._analysis import case_schema, pair_term
from search._query import (
    KINDS,
    MAX_CLAUSES,
    MAX_DEPTH,
    MAX_EXPANSIONS,
    MAX_FUZZY_EDITS,
    MIN_PREFIX,
    DATE_FIELDS,
    FIELDS_HINT,
    SEARCHABLE_FIELDS,
    check_text,
    rewrite,
)
from search.errors import QueryNotAllowed, QueryTooComplex


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
_DATES_HINT = ("date: (the document's own date) and uploaded: (the day it came in) take a year (date:2023), "
               "a day (date:2023-05-14) or a range (date:[2023-01-01 TO 2023-06-30])")
_SPEAKER_ANALYZER = case_schema()["speaker"].analyzer


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower().translate(accent_map)


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
    text, typed_for = rewrite(check_text(text), vocabulary)
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
        raise QueryNotAllowed("QUERY_INVALID", "part of the query could not be read; " + _DATES_HINT)
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
        raise QueryNotAllowed("QUERY_NOT_ALLOWED", f"the field {field!r} cannot be searched; {FIELDS_HINT}")
    if isinstance(node, q.NumericRange) and field in DATE_FIELDS:  # what a date field makes of date:...
        return node
    if isinstance(node, q.NumericRange):
        raise QueryNotAllowed("QUERY_NOT_ALLOWED", "ranges work on date: and uploaded: only")
    if isinstance(node, (q.Regex, q.Every, q.TermRange, q.NumericRange, q.Variations)):
        raise QueryNotAllowed("QUERY_NOT_ALLOWED", "that kind of query is not supported; use words, phrases and a trailing *")
    if field in DATE_FIELDS:
        raise QueryNotAllowed("QUERY_INVALID", _DATES_HINT)
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


def expand(node: q.Query, reader: IndexReader) -> q.Query:
    """Replace prefixes and fuzzy words by the index's own matching terms, at most
    MAX_EXPANSIONS each (QueryNotAllowed beyond: a broad prefix is slow and says little)."""
    if isinstance(node, (q.And, q.Or, q.DisjunctionMax)):
        return type(node)([expand(child, reader) for child in node.subqueries])
    if isinstance(node, (q.AndNot, q.AndMaybe, q.Require, q.Otherwise)):
        return type(node)(expand(node.a, reader), expand(node.b, reader))
    if isinstance(node, q.Not):
        return q.Not(expand(node.query, reader))
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
    return q.Or([q.Term(node.fieldname, t) for t in found]) if found else q.NullQuery


def text_terms(node: q.Query) -> frozenset[str]:
    """The words of the text field in a query: after ``expand``, the words a snippet highlights
    (``parse`` gathered those typed; the expansion of a prefix or a fuzzy word adds its own)."""
    if isinstance(node, q.Term):
        return frozenset((node.text,)) if node.fieldname == "text" else frozenset()
    return frozenset().union(*(text_terms(child) for child in node.children()))
