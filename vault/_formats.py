"""Format steps: conversions of stored data that need the keys (MACs over rows, re-sealing), run
by ``casevault upgrade`` after the schema migrations, once the vault is unsealed.

A step converts what is left to convert, committing in batches, so a process killed inside it is
resumed by the next run and nothing is done twice: it must find by itself what is already done
(a row that has its MAC, a blob sealed the new way). When it returns, its name is written to the
``vault_format`` table; a vault missing the name of any step of this release is behind, and
every command but ``casevault upgrade`` refuses it. New vaults are made in the current format:
``create`` records every step as finished.

To add one: write ``def run(store, advance) -> None`` (``advance(n)`` after each committed
batch of n items) and ``def remaining(store) -> int`` in the module of its topic, and list it in
``release_steps`` below, under a name that never changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, select

from vault._models import FormatStepRow, utcnow

if TYPE_CHECKING:
    from vault._store import Store


@dataclass(frozen=True, slots=True)
class FormatStep:
    name: str  # recorded in vault_format once the step has finished: never rename one
    run: Callable[[Store, Callable[[int], None]], None]
    remaining: Callable[[Store], int] = lambda store: 0  # items left, for the progress bar


def release_steps() -> tuple[FormatStep, ...]:
    """Every format step of this release, in the order they run (imported here, when asked, so
    that a step's module may import anything of the vault)."""
    from vault import _document_dates as document_dates
    from vault import _stamping as stamping

    return (FormatStep("integrity-macs", stamping.run, stamping.remaining),
            FormatStep("document-dates", document_dates.run, document_dates.remaining))


_added: list[FormatStep] = []


def add(step: FormatStep) -> Callable[[], None]:
    """Register a step besides this release's (tests do, with a step of their own); the function
    returned removes it again."""
    if step.name in {s.name for s in registered()}:
        raise ValueError(f"a format step named {step.name!r} is registered already")
    _added.append(step)
    return lambda: _added.remove(step)


def registered() -> tuple[FormatStep, ...]:
    return (*release_steps(), *_added)


def finished(connection: Connection) -> set[str]:
    if not inspect(connection).has_table(FormatStepRow.__tablename__):
        return set()
    return set(connection.scalars(select(FormatStepRow.name)))


def pending(connection: Connection) -> list[FormatStep]:
    """The registered steps that have not finished on this vault, in order."""
    steps = registered()
    if not steps:  # no step in this release: nothing to read on every opening
        return []
    done = finished(connection)
    return [step for step in steps if step.name not in done]


def mark_finished(connection: Connection, steps: list[FormatStep] | tuple[FormatStep, ...]) -> None:
    done = finished(connection)
    rows = [{"name": s.name, "finished_at": utcnow()} for s in steps if s.name not in done]
    if rows:
        connection.execute(FormatStepRow.__table__.insert(), rows)
