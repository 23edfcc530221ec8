"""Connector memory: what a connector learned about its channel and keeps across restarts.

Item ids per SKU (one catalogue read each, not one per start) and feeds submitted but not yet read back are the
examples: without them a restart re-reads a whole catalogue, or re-sends a feed whose result was never read. A
connector that implements :class:`RemembersChannel` gets a :class:`ChannelMemory` from whoever builds it (the sync
runtime gives it one backed by the store's ``channel_memory`` table) and loads what it needs from it; without one
it keeps :class:`InMemoryChannelMemory`, which forgets on restart.

Entries are grouped by ``kind`` (a short name the connector chooses, e.g. ``item_id``) and are ``key -> value``
strings in the connector's own format. Memory is a cache of the vendor's truth, never the truth: a connector must
cope with an entry that went stale (an item deleted or re-keyed on the channel) by looking it up again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol, runtime_checkable

__all__ = ["ChannelMemory", "InMemoryChannelMemory", "RemembersChannel"]


class ChannelMemory(Protocol):
    """A per-channel ``kind -> {key: value}`` store that outlives the connector instance."""

    def load(self, kind: str) -> dict[str, str]:
        """Everything remembered of ``kind``."""
        ...

    def remember(self, kind: str, entries: Mapping[str, str]) -> None:
        """Set each ``key -> value`` of ``entries``."""
        ...

    def forget(self, kind: str, keys: Iterable[str]) -> None:
        """Drop these keys of ``kind`` (absent ones are ignored)."""
        ...


@runtime_checkable
class RemembersChannel(Protocol):
    """A connector that keeps what it learns in a :class:`ChannelMemory` (call before its first request)."""

    def attach_memory(self, memory: ChannelMemory) -> None:
        """Use ``memory`` from now on and load what it holds."""
        ...


class InMemoryChannelMemory:
    """A :class:`ChannelMemory` in a dict: the default (forgotten on restart), and for tests."""

    def __init__(self) -> None:
        self.kinds: dict[str, dict[str, str]] = {}

    def load(self, kind: str) -> dict[str, str]:
        """Everything remembered of ``kind``."""
        return dict(self.kinds.get(kind, {}))

    def remember(self, kind: str, entries: Mapping[str, str]) -> None:
        """Set each ``key -> value`` of ``entries``."""
        if entries:
            self.kinds.setdefault(kind, {}).update(entries)

    def forget(self, kind: str, keys: Iterable[str]) -> None:
        """Drop these keys of ``kind``."""
        known = self.kinds.get(kind, {})
        for key in keys:
            known.pop(key, None)
