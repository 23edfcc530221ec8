"""The bulk diff (:func:`omnibridge.sync.bulk_plan.diff_channels`) on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnibridge.config.availability import AvailabilityPolicy
from omnibridge.policy import AvailabilityPlanner, ChannelFeed
from omnibridge.store import Store
from omnibridge.store.engine import write_session
from omnibridge.store.tables import CHANNEL_LEVELS, POSITIONS, PRODUCTS, VARIANTS
from omnibridge.sync.bulk_plan import LevelDiff, diff_channels

NOW = datetime(2026, 11, 1, tzinfo=UTC)
LOCATIONS = ("den-wh", "boulder")
FEEDS = [
    ChannelFeed("web", 10, frozenset(LOCATIONS)),
    ChannelFeed("pos", 20, frozenset({"boulder"})),
]


def planner() -> AvailabilityPlanner:
    return AvailabilityPlanner(AvailabilityPolicy(), FEEDS)


def fill(
    store: Store,
    skus: Mapping[str, bool],
    positions: Mapping[tuple[str, str], tuple[int, int, int, int]],
    levels: Mapping[tuple[str, str, str], int],
) -> None:
    """Replace the catalog (SKU -> tracked), the positions ((sku, loc) -> on_hand, committed, reserved, safety)
    and the channel levels ((channel, sku, loc) -> quantity) with exactly these rows."""
    with write_session(store.engine) as session:
        for table in (CHANNEL_LEVELS, POSITIONS, VARIANTS, PRODUCTS):
            session.execute(sa.delete(table))
        session.execute(sa.insert(PRODUCTS), [{"id": "p", "title": "P", "attributes": {}}])
        if skus:
            session.execute(
                sa.insert(VARIANTS),
                [
                    {"sku": sku, "product_id": "p", "barcodes": [], "option_values": {}, "tracked": tracked}
                    for sku, tracked in skus.items()
                ],
            )
        if positions:
            session.execute(
                sa.insert(POSITIONS),
                [
                    {"sku": s, "location_id": loc, "on_hand": a, "committed": b, "reserved": c, "safety_stock": d}
                    for (s, loc), (a, b, c, d) in positions.items()
                ],
            )
        if levels:
            session.execute(
                sa.insert(CHANNEL_LEVELS),
                [
                    {"channel": ch, "sku": s, "location_id": loc, "quantity": q, "source": "read", "updated_at": NOW}
                    for (ch, s, loc), q in levels.items()
                ],
            )


def expected_diffs(
    skus: Mapping[str, bool],
    positions: Mapping[tuple[str, str], tuple[int, int, int, int]],
    levels: Mapping[tuple[str, str, str], int],
) -> set[LevelDiff]:
    """The diff computed the slow, obvious way."""
    out: set[LevelDiff] = set()
    for sku, tracked in skus.items():
        if not tracked:
            continue
        for feed in FEEDS:
            for loc in feed.locations:
                a, b, c, d = positions.get((sku, loc), (0, 0, 0, 0))
                target = max(0, a - b - c - d)
                shown = levels.get((feed.channel, sku, loc))
                if shown != target:
                    out.add(LevelDiff(feed.channel, sku, loc, shown, target))
    return out


def test_reports_differing_and_missing_rows_and_skips_equal_ones(store: Store) -> None:
    skus = {"A": True, "B": True, "C": True, "GIFT": False}
    positions = {
        ("A", "den-wh"): (10, 2, 1, 2),  # 5
        ("A", "boulder"): (3, 0, 0, 0),  # 3
        ("B", "den-wh"): (1, 4, 0, 0),  # -3 -> 0
        ("GIFT", "boulder"): (9, 0, 0, 0),
        ("A", "elsewhere"): (50, 0, 0, 0),  # a location no channel shows
    }
    levels = {
        ("web", "A", "den-wh"): 5,  # equal: skipped
        ("web", "A", "boulder"): 4,  # differs
        ("pos", "A", "boulder"): 3,  # equal
        ("web", "B", "den-wh"): 0,  # equal (negative available shows 0)
        ("web", "B", "boulder"): 0,  # equal (no position = 0)
        # ("pos", "B", "boulder") missing: reported with shown None
        ("web", "C", "den-wh"): 2,  # a SKU without positions shows 0
    }
    fill(store, skus, positions, levels)

    diffs = list(diff_channels(store, planner(), FEEDS))

    assert set(diffs) == {
        LevelDiff("web", "A", "boulder", 4, 3),
        LevelDiff("pos", "B", "boulder", None, 0),
        LevelDiff("web", "C", "den-wh", 2, 0),
        LevelDiff("web", "C", "boulder", None, 0),
        LevelDiff("pos", "C", "boulder", None, 0),
    }
    assert len(diffs) == len(set(diffs))
    assert [d.sku for d in diffs] == sorted(d.sku for d in diffs)


def test_nothing_to_do_when_every_channel_shows_its_target(store: Store) -> None:
    fill(
        store,
        {"A": True},
        {("A", "den-wh"): (4, 0, 0, 0)},
        {("web", "A", "den-wh"): 4, ("web", "A", "boulder"): 0, ("pos", "A", "boulder"): 0},
    )
    assert list(diff_channels(store, planner(), FEEDS)) == []


def test_no_feeds_or_empty_catalog_gives_nothing(store: Store) -> None:
    fill(store, {}, {}, {})
    assert list(diff_channels(store, planner(), FEEDS)) == []
    fill(store, {"A": True}, {}, {})
    assert list(diff_channels(store, planner(), [])) == []


def test_chunk_must_be_positive(store: Store) -> None:
    with pytest.raises(ValueError, match="chunk must be at least 1"):
        list(diff_channels(store, planner(), FEEDS, chunk=0))


_sku = st.sampled_from([f"S{i:02d}" for i in range(12)])
_loc = st.sampled_from([*LOCATIONS, "elsewhere"])
_qty = st.integers(min_value=0, max_value=4)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    skus=st.dictionaries(_sku, st.booleans(), max_size=12),
    positions=st.dictionaries(st.tuples(_sku, _loc), st.tuples(_qty, _qty, _qty, _qty), max_size=20),
    levels=st.dictionaries(st.tuples(st.sampled_from(["web", "pos", "amazon"]), _sku, _loc), _qty, max_size=30),
    chunk=st.integers(min_value=1, max_value=5),
)
def test_chunk_boundaries_lose_and_repeat_nothing(
    store: Store,
    skus: dict[str, bool],
    positions: dict[tuple[str, str], tuple[int, int, int, int]],
    levels: dict[tuple[str, str, str], int],
    chunk: int,
) -> None:
    fill(store, skus, positions, levels)

    diffs = list(diff_channels(store, planner(), FEEDS, chunk=chunk))

    assert len(diffs) == len(set(diffs))
    assert set(diffs) == expected_diffs(skus, positions, levels)
