"""The bulk diff: every (channel, SKU, location) whose planned quantity differs from what the channel shows.

:func:`diff_channels` walks the whole tracked catalog in SKU order, a chunk of SKUs at a time, with two queries
per chunk (the chunk's positions, then its ``channel_levels`` rows) and keyset pagination on the SKU, so memory
stays bounded by the chunk size whatever the size of the catalog, and a SKU added or removed behind the cursor
never shifts a page. It is what a full read-back or an initial push runs on; single SKUs go through the engine.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa

from omnibridge.store import Store
from omnibridge.store.engine import read_session
from omnibridge.store.tables import CHANNEL_LEVELS, POSITIONS, VARIANTS

__all__ = ["DEFAULT_CHUNK", "Feed", "LevelDiff", "Planner", "diff_channels"]

DEFAULT_CHUNK = 5000
"""SKUs per chunk: about 60,000 level rows for four channels at three locations."""


@dataclass(frozen=True, slots=True)
class LevelDiff:
    """One position where a channel should show ``target`` but shows ``shown`` (None: no row recorded)."""

    channel: str
    sku: str
    location_id: str
    shown: int | None
    target: int


class Planner(Protocol):
    """What :func:`diff_channels` needs of :class:`omnibridge.policy.AvailabilityPlanner`."""

    def quantities(self, sku: str, available: Mapping[str, int]) -> Mapping[tuple[str, str], int]:
        """``(channel, location_id) -> quantity`` for every feed location; ``available`` may omit locations."""
        ...


class Feed(Protocol):
    """What :func:`diff_channels` needs of :class:`omnibridge.policy.ChannelFeed`."""

    @property
    def channel(self) -> str: ...

    @property
    def locations(self) -> frozenset[str]: ...


def diff_channels(
    store: Store, planner: Planner, feeds: Sequence[Feed], *, chunk: int = DEFAULT_CHUNK
) -> Iterator[LevelDiff]:
    """Stream every ``(channel, SKU, location)`` of ``feeds`` whose target differs from its ``channel_levels`` row.

    The SKUs are the tracked variants of the catalog, in SKU order; a SKU's ``available`` per location is the
    ledger's ``on_hand - committed - reserved - safety_stock`` (a location without a position is left out, which
    the planner reads as 0). Targets are ``planner.quantities(sku, available)``; a position without a row in
    ``channel_levels`` is reported with ``shown=None``. Diffs come in SKU order (within a SKU, in no set order).

    Each chunk of ``chunk`` SKUs is read in its own read transaction (both queries see one snapshot), so a long
    walk never holds the database; changes committed between chunks are seen by the chunks not yet read. Raises
    :class:`~omnibridge.errors.StoreError` when the database fails, and ``ValueError`` for ``chunk < 1``.
    """
    if chunk < 1:
        raise ValueError(f"chunk must be at least 1, got {chunk}")
    channels = sorted({feed.channel for feed in feeds})
    locations = sorted({location for feed in feeds for location in feed.locations})
    if not channels:
        return
    after = ""
    while True:
        with read_session(store.engine) as session:
            conn = session.connection()
            positions = _fetch(conn, _positions_query(after, chunk, locations))
            if not positions:
                return
            last = positions[-1][0]
            levels = _fetch(conn, _levels_query(after, last, channels))
        yield from _diff_chunk(planner, positions, levels)
        after = last


def _fetch(conn: sa.Connection, query: sa.Select[Any]) -> Sequence[tuple[Any, ...]]:
    """All rows of ``query`` as the driver's plain tuples: building SQLAlchemy rows for a million level rows
    would cost more than reading them."""
    result = conn.execute(query)
    try:
        rows: Sequence[tuple[Any, ...]] = result.cursor.fetchall() if result.cursor is not None else []
    finally:
        result.close()
    return rows


def _positions_query(after: str, chunk: int, locations: list[str]) -> sa.Select[tuple[str, str | None, int | None]]:
    """The next ``chunk`` tracked SKUs after ``after``, each with its positions at ``locations`` (or one row of
    NULLs when it has none), ordered by SKU."""
    tracked = sa.and_(VARIANTS.c.tracked == sa.true(), VARIANTS.c.sku > after)
    page = sa.select(VARIANTS.c.sku).where(tracked).order_by(VARIANTS.c.sku).limit(chunk).subquery()
    upto = sa.select(sa.func.max(page.c.sku)).scalar_subquery()
    available = POSITIONS.c.on_hand - POSITIONS.c.committed - POSITIONS.c.reserved - POSITIONS.c.safety_stock
    joined = VARIANTS.outerjoin(
        POSITIONS, sa.and_(POSITIONS.c.sku == VARIANTS.c.sku, POSITIONS.c.location_id.in_(locations))
    )
    return (
        sa.select(VARIANTS.c.sku, POSITIONS.c.location_id, available)
        .select_from(joined)
        .where(tracked, VARIANTS.c.sku <= upto)
        .order_by(VARIANTS.c.sku)
    )


def _levels_query(after: str, last: str, channels: list[str]) -> sa.Select[tuple[str, str, str, int]]:
    """``channel_levels`` rows of ``channels`` for SKUs in ``(after, last]``."""
    return sa.select(
        CHANNEL_LEVELS.c.sku, CHANNEL_LEVELS.c.channel, CHANNEL_LEVELS.c.location_id, CHANNEL_LEVELS.c.quantity
    ).where(CHANNEL_LEVELS.c.channel.in_(channels), CHANNEL_LEVELS.c.sku > after, CHANNEL_LEVELS.c.sku <= last)


def _diff_chunk(
    planner: Planner, positions: Sequence[tuple[Any, ...]], levels: Sequence[tuple[Any, ...]]
) -> list[LevelDiff]:
    """The diffs of one chunk, in SKU order: ``positions`` are (sku, location, available) ordered by SKU (location
    and available NULL for a SKU without positions), ``levels`` are (sku, channel, location, quantity) in any order.

    Every target is checked off as its level row is met; the targets left over have no row at all.
    """
    unseen: dict[str, dict[tuple[str, str], int]] = {}
    current: str | None = None
    available: dict[str, int] = {}
    for sku, location_id, quantity in positions:
        if sku != current:
            if current is not None:
                unseen[current] = dict(planner.quantities(current, available))
            current, available = sku, {}
        if location_id is not None and quantity is not None:
            available[location_id] = quantity
    if current is not None:
        unseen[current] = dict(planner.quantities(current, available))
    diffs: list[LevelDiff] = []
    targets_of = unseen.get
    for sku, channel, location_id, quantity in levels:
        targets = targets_of(sku)
        if targets is None:
            continue
        target = targets.pop((channel, location_id), None)
        if target is not None and target != quantity:
            diffs.append(LevelDiff(channel, sku, location_id, quantity, target))
    for sku, targets in unseen.items():
        diffs.extend(
            LevelDiff(channel, sku, location_id, None, target) for (channel, location_id), target in targets.items()
        )
    diffs.sort(key=_by_sku)
    return diffs


def _by_sku(diff: LevelDiff) -> str:
    return diff.sku
