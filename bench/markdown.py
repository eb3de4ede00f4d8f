"""BENCHMARKS.md is written by several runs (`make bench`, its dashboard section, `make stress`): each
replaces only its own `## ` section and keeps the others' figures, and the bench's sections share one table."""

from __future__ import annotations

import re
from pathlib import Path

from bench.stats import Row


def replace_section(path: Path, heading: str, section: str) -> None:
    """Put `section` (which starts with `heading`) in `path` in place of an earlier one, or at the end."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(heading)}[ \t]*\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def rows_table(rows: list[Row]) -> list[str]:
    """The figures as BENCHMARKS.md's table: header, then one line a row, its note in brackets after the measure."""
    lines = ["| part | measure | value | vs baseline | target | |", "| --- | --- | ---: | ---: | --- | --- |"]
    for r in rows:
        verdict = f"**{r.verdict}**" if r.verdict else ""
        measure = r.measure + (f" ({r.note})" if r.note else "")
        lines.append(f"| {r.part} | {measure} | {r.value} | {r.ratio} | {r.target} | {verdict} |")
    return lines
