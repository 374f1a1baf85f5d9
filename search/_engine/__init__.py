"""The search engine: Whoosh, behind one door.

This package is the only one that imports ``whoosh`` (a test walks the sources and says so).
What the rest of ``search`` gets from it is plain: an encrypted per-case index it can open,
write documents into and follow by a mark (``CaseIndex``, ``replace_documents``), a checked
query (``parse`` -> ``ParsedQuery``, carried as it is), one query asked of one index
(``IndexQuery`` -> ``answer`` -> ``IndexAnswer`` of ``IndexHit``), and the terms of a text,
for snippets (``term_spans``).

Inside: ``_analysis`` (the analyzer and the schema), ``_storage`` (files encrypted at rest),
``_writer`` (segments written in one pass, by forked processes for a large batch), ``_index``
(one index: its searcher, its writes, its mark), ``_columns`` (what a search reads of every unit
of a segment), ``_parse`` (the Whoosh side of the query language), ``_bulk`` (answers from whole
posting lists) and ``_walk`` (Whoosh's matcher walk, counted), which ``_answer`` chooses between.
"""

from search._engine._analysis import NO_YEAR, term_spans
from search._engine._answer import IndexAnswer, IndexHit, IndexQuery, answer
from search._engine._columns import NO_DAY
from search._engine._index import CaseIndex, replace_documents
from search._engine._parse import ParsedQuery, parse
from search._engine._storage import DEFAULT_CACHE_BYTES, EncryptedStorage

__all__ = [
    "DEFAULT_CACHE_BYTES",
    "NO_DAY",
    "NO_YEAR",
    "CaseIndex",
    "EncryptedStorage",
    "IndexAnswer",
    "IndexHit",
    "IndexQuery",
    "ParsedQuery",
    "answer",
    "parse",
    "replace_documents",
    "term_spans",
]
