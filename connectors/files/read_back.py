"""The read-back of a file feed: the latest count per (SKU, location) among the processed files, kept folded.

Only what the read-back needs is kept: one entry per (SKU, location) ever counted (the files' rows are not): its
time, quantity and the file it came from. Each processed file is read once, as a stream, when it first appears;
a file that changes or leaves ``processed/`` makes the next read-back fold every file again from scratch. So
memory grows with the catalog (a file reaches ``processed/`` only when every SKU and location in it is known),
not with the number or size of the files.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

__all__ = ["FileVersion", "LatestCounts"]

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class FileVersion:
    """A processed file as last seen: its size and modification time."""

    size: int
    mtime_ns: int


Rows = Callable[[Path, FileVersion], Iterable[tuple[datetime, str, str, int]]]
"""Reads one processed file: ``(counted_at, sku, location, quantity)`` per row (nothing for a bad file)."""


class LatestCounts:
    """The latest count per (SKU, location) among the files of a folder, updated by :meth:`refresh`.

    Ties (two files counting the same position at the same time) go to the file whose name sorts last, whatever
    the order the files were folded in.
    """

    def __init__(self, skip: Callable[[str], bool]) -> None:
        self._skip = skip
        self._files: dict[str, FileVersion] = {}
        self._latest: dict[Key, tuple[datetime, str, int]] = {}

    def refresh(self, folder: Path, rows: Rows) -> dict[Key, tuple[datetime, int]]:
        """Fold the files of ``folder`` that are new since the last refresh (all of them again if one changed or
        left); returns ``{(sku, location): (counted_at, quantity)}``."""
        present = self._present(folder)
        if any(present.get(name) != version for name, version in self._files.items()):
            self._files, self._latest = {}, {}
        for name in sorted(set(present) - set(self._files)):
            self._fold(name, rows(folder / name, present[name]))
            self._files[name] = present[name]
        return {key: (at, quantity) for key, (at, _, quantity) in self._latest.items()}

    @property
    def files(self) -> int:
        """How many files are folded in (for figures)."""
        return len(self._files)

    @property
    def positions(self) -> int:
        """How many (SKU, location) positions are kept (for figures)."""
        return len(self._latest)

    def _present(self, folder: Path) -> dict[str, FileVersion]:
        if not folder.is_dir():
            return {}
        present: dict[str, FileVersion] = {}
        for entry in os.scandir(folder):
            if not entry.is_file(follow_symlinks=False) or self._skip(entry.name):
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            present[entry.name] = FileVersion(info.st_size, info.st_mtime_ns)
        return present

    def _fold(self, name: str, rows: Iterable[tuple[datetime, str, str, int]]) -> None:
        latest = self._latest
        times: dict[datetime, datetime] = {}  # a file's rows mostly share a few times: keep one object of each
        for counted_at, sku, code, quantity in rows:
            at, key = times.setdefault(counted_at, counted_at), (sku, sys.intern(code))
            current = latest.get(key)
            if current is None or (current[0], current[1]) <= (at, name):
                latest[key] = (at, name, quantity)
