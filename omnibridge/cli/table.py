"""Plain-text tables for the CLI: a header row and aligned columns, nothing else (safe to pipe and grep)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def render_table(headers: Sequence[str], rows: Iterable[Sequence[object]], *, right: Iterable[int] = ()) -> str:
    """``headers`` then one line per row, columns separated by two spaces and padded to the widest cell;
    column indexes in ``right`` are right-aligned (numbers). Trailing spaces are trimmed."""
    cells = [[str(cell) for cell in row] for row in rows]
    table = [list(headers), *cells]
    widths = [max(len(line[i]) for line in table) for i in range(len(headers))]
    align_right = set(right)

    def line(values: list[str]) -> str:
        padded = [
            value.rjust(width) if index in align_right else value.ljust(width)
            for index, (value, width) in enumerate(zip(values, widths, strict=True))
        ]
        return "  ".join(padded).rstrip()

    return "\n".join(line(values) for values in table)
