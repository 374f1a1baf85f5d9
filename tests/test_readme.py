"""The project's markdown renders: every table has a header, a separator row and one column count.

A GitHub-flavoured table starts after a blank line with a header row and a separator row
(`|---|---|`); a blank line ends it, so a table cut in two renders its second half as a paragraph
of pipes. Cells are split on unescaped pipes (a pipe inside a code span splits a cell too, unless
written `\\|`). Also: the README's test command is the one `.ci/run` runs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted(p.relative_to(ROOT).as_posix() for p in [ROOT / "README.md", *ROOT.glob("*/**/README.md")]
                   if ".venv" not in p.parts and "node_modules" not in p.parts)
SEPARATOR = re.compile(r"\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?")


def cells(line: str) -> list[str]:
    row = line.strip()
    row = row[1:] if row.startswith("|") else row
    row = row[:-1] if row.endswith("|") and not row.endswith("\\|") else row
    return re.split(r"(?<!\\)\|", row)


def tables(text: str) -> list[tuple[int, list[str]]]:
    """Each run of table lines outside code fences, with the number of its first line."""
    found: list[tuple[int, list[str]]] = []
    fenced = False
    current: list[str] = []
    start = 0
    for number, line in enumerate([*text.splitlines(), ""], start=1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not fenced and line.lstrip().startswith("|"):
            if not current:
                start = number
            current.append(line)
            continue
        if current:
            found.append((start, current))
            current = []
    return found


def problems(text: str) -> list[str]:
    lines = text.splitlines()
    found = []
    for start, rows in tables(text):
        if start > 1 and lines[start - 2].strip():
            found.append(f"line {start}: a table must follow a blank line")
        if len(rows) < 2 or not SEPARATOR.fullmatch(rows[1].strip()):
            found.append(f"line {start}: no header separator row (|---|---|) under the first row: "
                         "a table cut by a blank line?")
            continue
        width = len(cells(rows[0]))
        if len(cells(rows[1])) != width:
            found.append(f"line {start + 1}: the separator has {len(cells(rows[1]))} columns, the header {width}")
        found += [f"line {start + i}: {len(cells(row))} columns, the header has {width}"
                  for i, row in enumerate(rows[2:], start=2) if len(cells(row)) != width]
    return found


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_table_renders(document):
    assert problems((ROOT / document).read_text()) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("| a | b |\n|---|---|\n| 1 | 2 |\n", []),
    ("| a | b |\n|---|---|\n| `x\\|y` | 2 |\n", []),  # an escaped pipe stays in its cell
    ("| a | b |\n|---|---|\n| 1 | 2 |\n\n| 3 | 4 |\n", ["line 5: no header separator row"]),
    ("| a | b |\n|---|---|\n| 1 | 2 | 3 |\n", ["line 3: 3 columns, the header has 2"]),
    ("| a | b |\n| 1 | 2 |\n", ["line 1: no header separator row"]),
    ("text\n| a | b |\n|---|---|\n", ["line 2: a table must follow a blank line"]),
    ("```\n| not | a | table\n```\n", []),
])
def test_the_table_check_finds_what_breaks_a_table(text, expected):
    found = problems(text)
    assert len(found) == len(expected) and all(f.startswith(e) for f, e in zip(found, expected)), found


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"# 2\. [^\n]*\n(.+)\n", readme).group(1).strip()
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1].strip() == command, f".ci/run ends with {ci[-1]!r}, the README's test command is {command!r}"
