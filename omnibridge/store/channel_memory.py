"""Connector memory in the store: per channel and kind, a small key -> value map (``channel_memory``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import Session

from omnibridge.store.engine import read_session, write_session
from omnibridge.store.sql import upsert
from omnibridge.store.tables import CHANNEL_MEMORY

if TYPE_CHECKING:
    from omnibridge.store.store import Store


def load(session: Session, channel: str, kind: str) -> dict[str, str]:
    """Everything ``channel`` remembers of ``kind``."""
    rows = session.execute(
        sa.select(CHANNEL_MEMORY.c.key, CHANNEL_MEMORY.c.value).where(
            CHANNEL_MEMORY.c.channel == channel, CHANNEL_MEMORY.c.kind == kind
        )
    )
    return {row.key: row.value for row in rows}


def remember(session: Session, channel: str, kind: str, entries: dict[str, str], now: datetime) -> None:
    """Set each ``key -> value`` of ``entries`` (replacing what was there)."""
    for key, value in entries.items():
        upsert(
            session,
            CHANNEL_MEMORY,
            {"channel": channel, "kind": kind, "key": key, "value": value, "updated_at": now},
            key=["channel", "kind", "key"],
        )


def forget(session: Session, channel: str, kind: str, keys: list[str]) -> None:
    """Drop these keys (absent ones are ignored)."""
    if keys:
        session.execute(
            sa.delete(CHANNEL_MEMORY).where(
                CHANNEL_MEMORY.c.channel == channel, CHANNEL_MEMORY.c.kind == kind, CHANNEL_MEMORY.c.key.in_(keys)
            )
        )


class StoreChannelMemory:
    """A :class:`~omnibridge.sdk.memory.ChannelMemory` for one channel, kept in the store's ``channel_memory``."""

    def __init__(self, store: Store, channel: str) -> None:
        self._engine = store.engine
        self.channel = channel

    def load(self, kind: str) -> dict[str, str]:
        """Everything ``channel`` remembers of ``kind``."""
        with read_session(self._engine) as session:
            return load(session, self.channel, kind)

    def remember(self, kind: str, entries: Mapping[str, str]) -> None:
        """Set each ``key -> value`` of ``entries``, in one transaction."""
        if entries:
            with write_session(self._engine) as session:
                remember(session, self.channel, kind, dict(entries), datetime.now(UTC))

    def forget(self, kind: str, keys: Iterable[str]) -> None:
        """Drop these keys of ``kind``."""
        wanted = list(dict.fromkeys(keys))
        if wanted:
            with write_session(self._engine) as session:
                forget(session, self.channel, kind, wanted)
