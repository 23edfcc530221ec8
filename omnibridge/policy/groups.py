"""Which SKU group a SKU belongs to: the first ``sku_groups`` entry with a matching glob, else ``default``."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from fnmatch import translate

from omnibridge.config.availability import DEFAULT_GROUP

_CACHE_LIMIT = 1_000_000


class SkuGroups:
    """Matches SKUs against the ``sku_groups`` globs (case-sensitive, ``*``, ``?`` and ``[...]`` as in fnmatch).

    ``index(sku)`` is the position of the SKU's group in :attr:`names` (``default`` is position 0). Results are
    cached, so a SKU is matched against the globs once.
    """

    def __init__(self, sku_groups: Mapping[str, Sequence[str]]) -> None:
        self.names: tuple[str, ...] = (DEFAULT_GROUP, *sku_groups)
        self._patterns = [
            (position, re.compile("|".join(f"(?:{translate(glob)})" for glob in globs)))
            for position, globs in enumerate(sku_groups.values(), start=1)
        ]
        self._cache: dict[str, int] = {}

    def index(self, sku: str) -> int:
        """The position in :attr:`names` of the group ``sku`` belongs to."""
        if not self._patterns:
            return 0
        found = self._cache.get(sku)
        if found is not None:
            return found
        found = next((position for position, pattern in self._patterns if pattern.match(sku)), 0)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[sku] = found
        return found

    def name(self, sku: str) -> str:
        """The name of the group ``sku`` belongs to."""
        return self.names[self.index(sku)]
