"""Retiring old case key versions: what each version still protects, and destroying a version
once nothing does.

A case key version protects four kinds of thing: the document keys wrapped under it, the files
encrypted under document keys made while it was current, the unmask justifications and the
case's name and search index key encrypted or wrapped under it. ``keys rewrap`` moves the wrapped
keys, the names and the justifications to the newest version without reading a file;
``keys reencrypt`` gives documents new keys and re-encrypts their files. Only then can a version
be retired: its wrapped key is deleted (a tombstone row remains), so a copy of anything still
under it, kept aside or in a backup, can never be decrypted again and says why
(``KeyVersionRetired``). Versions go oldest first: retiring 2 retires 1 too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from keys import token_version
from vault._models import BlobRow, CaseKeyRetiredRow, CaseKeyVersion, CaseRow, DocumentRow, UnmaskRequestRow
from vault._store import Store
from vault._views import CaseInfo, CaseKeyUse
from vault.errors import Conflict, InvalidInput, NotFound

_WHAT = ("documents", "blobs", "justifications", "case_names", "index_keys")
_SAYS = {"documents": ("document key", "document keys"), "blobs": ("file", "files"),
         "justifications": ("unmask justification", "unmask justifications"),
         "case_names": ("the case name", "the case name"), "index_keys": ("the search index key", "the search index key")}


def uses_by_case(session: Session, case_ids: Iterable[str] | None = None) -> dict[tuple[str, int], Counter[str]]:
    """(case, version) -> how many of each kind of thing that case key version still protects."""
    ids = None if case_ids is None else list(case_ids)

    def only(query, column):  # type: ignore[no-untyped-def]
        return query if ids is None else query.where(column.in_(ids))

    uses: dict[tuple[str, int], Counter[str]] = {}

    def add(case_id: str, version: int, what: str, count: int = 1) -> None:
        uses.setdefault((case_id, version), Counter())[what] += count

    for case_id, version, count in session.execute(only(
            select(DocumentRow.case_id, DocumentRow.case_key_version, func.count())
            .group_by(DocumentRow.case_id, DocumentRow.case_key_version), DocumentRow.case_id)):
        add(case_id, version, "documents", count)
    for case_id, version, count in session.execute(only(
            select(DocumentRow.case_id, BlobRow.key_version, func.count()).join(DocumentRow, DocumentRow.id == BlobRow.document_id)
            .group_by(DocumentRow.case_id, BlobRow.key_version), DocumentRow.case_id)):
        add(case_id, version, "blobs", count)
    for case_id, token in session.execute(only(select(UnmaskRequestRow.case_id, UnmaskRequestRow.justification_ct),
                                               UnmaskRequestRow.case_id)):
        add(case_id, token_version(token), "justifications")
    for case_id, name_ct, index_key_ct in session.execute(only(select(CaseRow.id, CaseRow.name_ct, CaseRow.index_key_ct),
                                                               CaseRow.id)):
        add(case_id, token_version(name_ct), "case_names")
        add(case_id, token_version(index_key_ct), "index_keys")
    return uses


def case_key_uses(session: Session) -> tuple[CaseKeyUse, ...]:
    """Per case key version, over every case: how many cases hold it or retired it, and what it
    still protects."""
    live = Counter(v for (v,) in session.execute(select(CaseKeyVersion.version)))
    retired = Counter(v for (v,) in session.execute(select(CaseKeyRetiredRow.version)))
    totals: dict[int, Counter[str]] = {}
    for (_, version), counts in uses_by_case(session).items():
        totals.setdefault(version, Counter()).update(counts)
    return tuple(CaseKeyUse(version, live[version], retired[version], **{w: totals.get(version, Counter())[w] for w in _WHAT})
                 for version in sorted(set(live) | set(retired) | set(totals)))


def _describe(counts: Counter[str]) -> str:
    parts = []
    for what in _WHAT:
        if counts[what]:
            one, many = _SAYS[what]
            parts.append(one if what in ("case_names", "index_keys") else f"{counts[what]} {one if counts[what] == 1 else many}")
    return ", ".join(parts)


class Retirement:
    """Destroying case key versions that nothing needs any more."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def retire_case_key_version(self, version: int, *, actor: str, case: CaseInfo | None = None) -> list[str]:
        """Retire ``version`` (and every older live version) of each case key, or of ``case``'s:
        their wrapped keys are deleted and a tombstone row is kept, in one transaction, audited.
        Refused with a Conflict naming what still depends on them and the command that moves it,
        or when a case's newest key is not newer (it would leave the case without a key).
        Returns the ids of the cases whose versions were retired."""
        if version < 1:
            raise InvalidInput("a case key version is a number from 1")
        with self.store.write() as work:
            session = work.session
            query = select(CaseKeyVersion.case_id, func.min(CaseKeyVersion.version), func.max(CaseKeyVersion.version)).group_by(CaseKeyVersion.case_id)
            if case is not None:
                query = query.where(CaseKeyVersion.case_id == case.id)
            spans = {case_id: (low, high) for case_id, low, high in session.execute(query)}
            if case is not None and not spans:
                raise NotFound("no such case")
            targets = sorted(case_id for case_id, (low, _) in spans.items() if low <= version)
            if not any(low <= version <= high for low, high in spans.values()):
                retired = session.scalar(select(func.count()).select_from(CaseKeyRetiredRow)
                                         .where(CaseKeyRetiredRow.version == version))
                raise NotFound(f"case key version {version} is already retired" if retired
                               else f"no case key has version {version}; `casevault keys status` lists them")
            names = {row.id: work.case_info(row).name for row in session.scalars(select(CaseRow).where(CaseRow.id.in_(targets)))}
            newest_too = [names[c] for c in targets if spans[c][1] <= version]
            if newest_too:
                raise Conflict(f"case key version {version} is the newest key of {', '.join(sorted(newest_too))}; "
                               "run `casevault keys rotate`, `keys rewrap` and `keys reencrypt` first")
            blocking, needed = [], Counter[str]()
            for (case_id, held), counts in sorted(uses_by_case(session, targets).items()):
                if held <= version and +counts:
                    blocking.append(f'{_describe(counts)} of case "{names[case_id]}" (version {held})')
                    needed.update(+counts)
            if blocking:
                commands = [command for command, moves in (("`casevault keys rewrap`", set(_WHAT) - {"blobs"}),
                                                           ("`casevault keys reencrypt`", {"blobs"}))
                            if moves & set(needed)]
                raise Conflict(f"case key version {version} still protects {'; '.join(blocking)}; "
                               f"run {' then '.join(commands)}, then retire again")
            for case_id in targets:
                gone = list(session.scalars(select(CaseKeyVersion.version).where(
                    CaseKeyVersion.case_id == case_id, CaseKeyVersion.version <= version)))
                session.execute(delete(CaseKeyVersion).where(CaseKeyVersion.case_id == case_id,
                                                             CaseKeyVersion.version <= version))
                session.add_all(CaseKeyRetiredRow(case_id=case_id, version=v, retired_by=actor) for v in gone)
            session.flush()
            work.audit(actor=actor, action="keys.retire-case-key", target=case.id if case else None,
                       details={"case_key_version": version, "cases": targets})
        self.store.keys.forget_cases(targets)
        return targets
