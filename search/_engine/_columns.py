"""What a search reads of every unit of one segment, once per segment: a segment never changes.

The facet values and the day of each unit (``SegmentColumns``), and the field lengths that BM25F
scores with (``SegmentLengths``). The index keeps them per segment id; the bulk path and the
counting collector read them. Both sides import this module, and it imports neither.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.reading import SegmentReader
from whoosh.util.numeric import byte_to_length

from search._engine._analysis import DAY_MICROSECONDS

FACETS = {"kind": "kind", "year": "year", "upload_year": "upload_year", "speaker": "speaker_facet"}  # facet: column
NO_DAY = 0  # the day of a unit whose document has no date of its own: before every day
_LENGTHS = [byte_to_length(b) for b in range(256)]


@dataclass(frozen=True, slots=True)
class SegmentColumns:
    """What a search reads of every unit of one segment, read once per segment."""

    facets: dict[str, list[object]]  # facet: the value of each unit
    days: Sequence[int]  # the document date of each unit, as ``date.toordinal()``, or NO_DAY

    @classmethod
    def read(cls, reader: object) -> SegmentColumns:
        """The facet values and the day of every unit of the segment of ``reader`` (a deleted
        unit keeps its values but never matches)."""
        if not isinstance(reader, SegmentReader):  # an empty index: nothing matches
            return cls({name: [] for name in FACETS}, ())
        facets = {name: list(reader.column_reader(column)) for name, column in FACETS.items()}
        raw = reader.column_reader("date", translate=False)  # whole days: see units_of
        missing = reader.schema["date"].default  # the column's value for a unit without a date
        return cls(facets, array("i", (NO_DAY if value == missing else value // DAY_MICROSECONDS + 1 for value in raw)))


def segment_id(reader: object) -> str:
    segment = reader.segment() if isinstance(reader, SegmentReader) else None
    return segment.segment_id() if segment is not None else ""  # "": an empty index


class SegmentLengths:
    """The field lengths of every document of one segment, read once per field (a segment never
    changes), as BM25F needs them."""

    def __init__(self, reader: SegmentReader) -> None:
        self._reader = reader
        self._fields: dict[str, list[int]] = {}

    def of(self, fieldname: str) -> list[int]:
        lengths = self._fields.get(fieldname)
        if lengths is None:
            reader = self._reader
            count = reader.doc_count_all()
            column = _length_column(reader, fieldname)
            if column is not None:
                lengths = [_LENGTHS[b] or 1 for b in column]
            else:
                lengths = [reader.doc_field_length(d, fieldname, 1) or 1 for d in range(count)]
            self._fields[fieldname] = lengths
        return lengths


def _length_column(reader: SegmentReader, fieldname: str) -> list[int] | None:
    """The raw length bytes of a field, or None where Whoosh keeps them some other way."""
    perdoc = getattr(reader, "_perdoc", None)
    cached = getattr(perdoc, "_cached_reader", None)
    if cached is None:
        return None
    column = cached(_lenfield(fieldname), LENGTHS_COLUMN)
    return None if column is None else list(column)
