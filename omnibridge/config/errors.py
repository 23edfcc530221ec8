"""The exception :func:`~omnibridge.config.load_profile` raises: every problem found, not just the first."""

from __future__ import annotations

from collections.abc import Sequence

from omnibridge.errors import ConfigError, ConfigErrors


class ProfileErrors(ConfigErrors):
    """All the problems found while loading a profile and the files it references.

    ``errors`` holds one :class:`~omnibridge.errors.ConfigError` per problem, grouped by file (the profile first)
    and ordered by line within a file. Each renders on one line as ``file:line: field: message (expected ...)``;
    ``str()`` of this exception is those lines joined by newlines.
    """

    def __init__(self, errors: Sequence[ConfigError]) -> None:
        super().__init__(_ordered(errors))


def _ordered(errors: Sequence[ConfigError]) -> list[ConfigError]:
    file_rank: dict[str | None, int] = {}
    for error in errors:
        file_rank.setdefault(error.file, len(file_rank))
    return sorted(errors, key=lambda e: (file_rank[e.file], e.line if e.line is not None else 0))
