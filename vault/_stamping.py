"""Stamping a vault made before its access state carried MACs (``vault._integrity``).

Until stamped, every such row reads as tampered (deny, never trust). ``upgrade_integrity`` gives
each row without a MAC the MAC of the values it holds, trusting them: it runs once, when the
operator upgrades (``casevault upgrade``, a format step). It stamps a batch per transaction, so an
interrupted run is resumed by running it again, and it ends by writing ``integrity.stamped`` to
the audit log: after that it stamps nothing ever again, so a row someone later strips of its MAC
stays refused instead of being laundered by a second run. ``run`` and ``remaining`` are the shape
of a format step of ``casevault upgrade`` (``FormatStep("integrity-macs", run, remaining)``).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from vault import _integrity as integrity
from vault._models import AuditEntryRow
from vault._store import Store

DONE = "integrity.stamped"


def _done(store: Store) -> bool:
    with store.read() as work:
        return work.session.scalar(select(AuditEntryRow.seq).where(AuditEntryRow.action == DONE).limit(1)) is not None


def remaining(store: Store) -> int:
    """Rows without a MAC that ``upgrade_integrity`` would stamp (for a progress bar)."""
    if _done(store):
        return 0
    with store.read() as work:
        return sum(work.session.scalar(select(func.count()).select_from(model).where(model.mac.is_(None))) or 0  # type: ignore[attr-defined]
                   for model in integrity.FIELDS)


def run(store: Store, advance: Callable[[int], None]) -> None:
    """The format step ``integrity-macs`` (``vault._formats``): stamp, reporting each batch."""
    upgrade_integrity(store, progress=advance)


def upgrade_integrity(store: Store, *, batch: int = 500, progress: Callable[[int], None] | None = None) -> int:
    """Stamp every row of the protected tables that has no MAC; returns how many (0 once done)."""
    if _done(store):
        return 0
    stamped = 0
    for model in integrity.FIELDS:
        while True:
            with store.write() as work:
                rows = work.session.scalars(select(model).where(model.mac.is_(None)).limit(batch)).all()  # type: ignore[attr-defined]
                for row in rows:
                    integrity.stamp_unchecked(work.session, row)
            stamped += len(rows)
            if progress is not None and rows:
                progress(len(rows))
            if len(rows) < batch:
                break
    with store.write() as work:
        work.audit(actor="vault.upgrade", action=DONE, details={"rows": stamped})
    return stamped
