"""Writes are recorded before they are sent and resumed after a crash under the same batch reference."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from omnibridge.models import MovementKind, StockMovement
from omnibridge.sdk.channel import PushResult, StockTarget
from omnibridge.store import Store
from omnibridge.sync import SyncEngine

from .fake_channel import NOW, FakeChannel, runtime, seed_store

pytestmark = pytest.mark.anyio


class ProcessDied(BaseException):
    """Stands for the process being killed while a write is on the wire (not an error the engine handles)."""


class CrashAfterApplying(FakeChannel):
    """Applies a push on the channel, then 'dies' before the answer reaches the engine (once)."""

    def __init__(self, locations: list[str]) -> None:
        super().__init__(locations)
        self.crash_next = False
        self.references: list[set[str]] = []

    async def push_levels(self, targets: Sequence[StockTarget]) -> list[PushResult]:
        self.references.append({target.reference for target in targets})
        results = await super().push_levels(targets)
        if self.crash_next:
            self.crash_next = False
            raise ProcessDied
        return results


async def test_a_write_cut_off_by_a_crash_is_resent_under_its_batch_key(store: Store) -> None:
    seed_store(store, ["A", "B"], ["shop"])
    for sku in ("A", "B"):
        store.apply(
            StockMovement(
                idempotency_key=f"receipt:{sku}",
                source="manual",
                kind=MovementKind.RECEIPT,
                sku=sku,
                location_id="shop",
                quantity=4,
                occurred_at=NOW,
            )
        )
    web = CrashAfterApplying(["W-SHOP"])
    web.levels.update({("A", "W-SHOP"): 0, ("B", "W-SHOP"): 0})
    web.crash_next = True

    with pytest.raises(ProcessDied):
        await SyncEngine(store, [runtime("web", web, {"W-SHOP": "shop"})]).sync_once()
    pending = store.pending_pushes("web")
    assert sorted((item.sku, item.quantity, item.expected) for item in pending) == [("A", 4, 0), ("B", 4, 0)]
    (batch_key,) = {item.batch_key for item in pending}
    assert web.references == [{batch_key}]

    # The restarted process sends the recorded writes again, under the same key, before anything else.
    restarted = SyncEngine(store, [runtime("web", web, {"W-SHOP": "shop"})])
    report = await restarted.sync_once()
    assert report.ok
    assert web.references[1] == {batch_key}
    assert store.pending_pushes("web") == []
    assert restarted.counters.pushes_resumed == 2
    # The channel already had the write (compare-and-set refuses the repeat as stale); nothing was overwritten.
    assert web.levels == {("A", "W-SHOP"): 4, ("B", "W-SHOP"): 4}
    assert store.push_counts()[("web", "stale")] == 2
