"""Field paths and the line each one was written on.

A *field path* is a tuple of mapping keys and sequence indexes, e.g. ``("channels", 0, "connector")``; it is
rendered for people as ``channels[0].connector``. A :class:`LineMap` remembers, for every path in a parsed YAML
file, the 1-based line of its key (or of the item, for sequence items), so any error found later -- by pydantic or
by a cross-field check -- can be reported at the right line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

PathItem = str | int
FieldPath = tuple[PathItem, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]*$")


def format_path(path: Iterable[PathItem]) -> str:
    """Render ``path`` as ``channels[0].mappings[1]``; keys that are not plain words are quoted."""
    text = ""
    for item in path:
        if isinstance(item, int):
            text += f"[{item}]"
        elif _PLAIN_KEY.match(item):
            text += f".{item}" if text else item
        else:
            text += f"[{item!r}]"
    return text


@dataclass
class LineMap:
    """The line of every field path of one file. ``root_line`` is used when nothing closer is known."""

    root_line: int = 1
    lines: dict[FieldPath, int] = field(default_factory=dict)

    def record(self, path: FieldPath, line: int) -> None:
        """Remember that ``path`` was written on ``line`` (the first record wins)."""
        self.lines.setdefault(path, line)

    def line_of(self, path: Sequence[PathItem]) -> int:
        """The line of ``path``, or of its closest recorded ancestor (e.g. the mapping a missing key belongs in)."""
        probe = tuple(path)
        while probe:
            line = self.lines.get(probe)
            if line is not None:
                return line
            probe = probe[:-1]
        return self.root_line
