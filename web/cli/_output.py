"""What the commands print besides their own lines: JSON, clock times, progress bars."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click


def print_json(value: object) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def clock(ms: int | None) -> str:
    if ms is None:
        return "--:--:--"
    seconds = ms // 1000
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


@contextmanager
def progress(label: str, length: int = 0, *, counts: bool = False) -> Iterator[Callable[[int], None]]:
    """A progress bar on a terminal (counts of documents, out of ``length`` when known); otherwise
    silent, or with ``counts`` a line on stderr at every tenth of ``length``."""
    if counts and length and not sys.stderr.isatty():
        done = 0

        def count(step: int) -> None:
            nonlocal done
            before, done = done, done + step
            if done * 10 // length > before * 10 // length:
                click.echo(f"{label}: {done}/{length}", err=True)

        yield count
        return
    with click.progressbar(length=length, label=label, file=sys.stderr, show_pos=True,
                           hidden=not sys.stderr.isatty()) as bar:
        yield bar.update


@contextmanager
def counted(label: str) -> Iterator[Callable[[int, int], None]]:
    """Progress of a job that knows its total: a bar on a terminal, else a line of counts on
    stderr at each step (``done`` of ``total``)."""
    terminal = sys.stderr.isatty()
    with click.progressbar(length=1, label=label, file=sys.stderr, show_pos=True, hidden=not terminal) as bar:
        def advance(done: int, total: int) -> None:
            if terminal:
                bar.length = max(total, 1)
                bar.update(done - bar.pos)
            elif done:
                click.echo(f"{label}: {done} of {total}", err=True)
        yield advance
