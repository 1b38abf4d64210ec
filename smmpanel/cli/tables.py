"""Plain-text tables for the operator's terminal."""

from collections.abc import Sequence
from datetime import datetime

import typer

NOTHING = "-"
MAX_CELL = 60


def printable(value: object) -> str:
    """A cell as safe text: customers type links and names, and a terminal obeys escapes."""
    if value is None:
        return NOTHING
    text = str(value)
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def moment(value: datetime | None) -> str:
    """A time as stored, in UTC (SQLite hands it back without its zone)."""
    return NOTHING if value is None else value.strftime("%Y-%m-%d %H:%M")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]], empty: str) -> None:
    """Columns padded to their widest cell; `empty` when there are no rows."""
    if not rows:
        typer.echo(empty)
        return
    cells = [[printable(cell) for cell in row] for row in rows]
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)]
    for line in [list(headers), *cells]:
        typer.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )
