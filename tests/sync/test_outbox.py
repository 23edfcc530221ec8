"""Writes are recorded before they are sent; a write whose outcome is not known is re-read, never mistaken for a
change made on the channel; and what a stopped process left pending is re-planned, never replayed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal

import pytest
from support import ManualMonotonic

from omnibridge.errors import RetriableConnectorError
from omnibridge.models import MovementKind, StockMovement
from omnibridge.sdk.channel import (
    OrderEvent,
    OrderEventKind,
    OrderLineEvent,
    PushResult,
    PushStatus,
    StockChangeEvent,
    StockChangeKind,
    StockTarget,
)
from omnibridge.store import Store
from omnibridge.sync import SyncEngine

from .fake_channel import NOW, TOKEN, FakeChannel, receive, runtime, seed_store

pytestmark = pytest.mark.anyio


class ProcessDied(BaseException):
    """Stands for the process being killed while a write is on the wire (not an error the engine handles)."""


class Recording(FakeChannel):
    """A fake that records every quantity it is sent and can 'die' (once) before or after applying a push."""

    def __init__(self, locations: list[str], *, absolute: bool = False) -> None:
        super().__init__(locations)
        self.absolute = absolute
        self.die: Literal["before", "after"] | None = None
        self.references: list[set[str]] = []
        self.sent: list[tuple[str, int]] = []

    async def push_levels(self, targets: Sequence[StockTarget]) -> list[PushResult]:
        die, self.die = self.die, None
        if die == "before":
            raise ProcessDied
        self.references.append({target.reference for target in targets})
        self.sent += [(target.sku, target.quantity) for target in targets]
        if self.absolute:  # sets the number whatever it was (Clover, Amazon): no compare-and-set
            targets = [StockTarget(t.sku, t.location_ref, t.quantity, reference=t.reference) for t in targets]
        results = await super().push_levels(targets)
        if die == "after":
            raise ProcessDied
        return results


class BreaksHalfway(FakeChannel):
    """A fake whose next push lands its first target, then fails: it raises for the batch (``raises``), or — as a
    connector keeping the contract does — reports the rest UNKNOWN after landing them anyway (``reports``)."""

    def __init__(self, locations: list[str], mode: Literal["raises", "reports"]) -> None:
        super().__init__(locations)
        self.mode = mode
        self.break_next = False

    async def push_levels(self, targets: Sequence[StockTarget]) -> list[PushResult]:
        if not self.break_next:
            return await super().push_levels(targets)
        self.break_next = False
        if self.mode == "raises":
            await super().push_levels(targets[:1])
            raise RetriableConnectorError("read timed out after the first chunk", connector="fake", op="push_levels")
        landed = await super().push_levels(targets)  # the answers for all but the first were lost
        return [landed[0], *(PushResult(t, PushStatus.UNKNOWN, message="answer lost") for t in targets[1:])]


def delivery(delivery_id: str) -> bytes:
    return json.dumps({"delivery": delivery_id, "event": delivery_id}).encode()


@pytest.mark.parametrize("mode", ["raises", "reports"])
@pytest.mark.parametrize("compare_and_set", [True, False], ids=["cas", "no-cas"])
async def test_a_batch_failing_halfway_is_re_read_and_never_lowers_the_other_channels(
    store: Store, mode: Literal["raises", "reports"], compare_and_set: bool
) -> None:
    seed_store(store, ["A", "B"], ["shop"])
    receive(store, "A", "shop", 10)
    receive(store, "B", "shop", 10)
    web, pos = BreaksHalfway(["W-SHOP"], mode), FakeChannel(["P-SHOP"])
    web.levels.update({("A", "W-SHOP"): 10, ("B", "W-SHOP"): 10})
    pos.levels.update({("A", "P-SHOP"): 10, ("B", "P-SHOP"): 10})
    clock = ManualMonotonic()
    engine = SyncEngine(
        store,
        [
            runtime("web", web, {"W-SHOP": "shop"}, compare_and_set=compare_and_set),
            runtime("pos", pos, {"P-SHOP": "shop"}),
        ],
        clock=clock,
    )
    assert (await engine.sync_once()).ok

    # A POS sale of 3 of each: available 7. The web store's write of 7 and 7 lands for A, then the batch fails.
    pos.webhook_payloads["d-1"] = [
        OrderEvent("s-1", OrderEventKind.COMPLETED, NOW, (OrderLineEvent("1", "A", 3, "P-SHOP"),)),
        OrderEvent("s-2", OrderEventKind.COMPLETED, NOW, (OrderLineEvent("1", "B", 3, "P-SHOP"),)),
    ]
    pos.levels.update({("A", "P-SHOP"): 7, ("B", "P-SHOP"): 7})
    web.break_next = True
    assert engine.receive("pos", delivery("d-1"), {"x-token": TOKEN}, "").http_status == 200
    await engine.process_pending()

    assert web.levels[("A", "W-SHOP")] == 7
    assert store.pending_pushes("web") == []  # every write of the batch was finished, none left pending
    counts = store.push_counts()
    assert counts[("web", "unknown")] == (2 if mode == "raises" else 1)
    assert not engine.available("web")  # backed off, its SKUs still to do

    clock.value += 60  # the back-off is over: the next pass reads the web store before it writes
    await engine.flush()

    # Our own landed write was not taken for a sale on the web store: nothing was subtracted anywhere.
    assert web.levels == {("A", "W-SHOP"): 7, ("B", "W-SHOP"): 7}
    assert pos.levels == {("A", "P-SHOP"): 7, ("B", "P-SHOP"): 7}
    assert store.pending_decreases(["A", "B"]) == {}
    assert store.incidents(kind="drift") == []
    assert engine.available("web")


async def test_a_write_cut_off_by_a_crash_is_not_sent_again_but_re_read(store: Store) -> None:
    seed_store(store, ["A", "B"], ["shop"])
    receive(store, "A", "shop", 4)
    receive(store, "B", "shop", 4)
    web = Recording(["W-SHOP"])
    web.levels.update({("A", "W-SHOP"): 0, ("B", "W-SHOP"): 0})
    web.die = "after"  # the channel applied the write; the process died before it heard back

    with pytest.raises(ProcessDied):
        await SyncEngine(store, [runtime("web", web, {"W-SHOP": "shop"})]).sync_once()
    pending = store.pending_pushes("web")
    assert sorted((item.sku, item.quantity, item.expected) for item in pending) == [("A", 4, 0), ("B", 4, 0)]

    restarted = SyncEngine(store, [runtime("web", web, {"W-SHOP": "shop"})])
    report = await restarted.sync_once()
    assert report.ok
    assert len(web.references) == 1  # nothing was sent again: the read found the write had landed
    assert store.pending_pushes("web") == []
    assert store.push_counts() == {("web", "abandoned"): 2}
    assert restarted.counters.pushes_resumed == 2
    assert web.levels == {("A", "W-SHOP"): 4, ("B", "W-SHOP"): 4}


async def test_a_stale_absolute_write_left_pending_is_never_sent_after_a_restart(store: Store) -> None:
    seed_store(store, ["A", "B"], ["shop"])
    receive(store, "A", "shop", 7)
    receive(store, "B", "shop", 7)
    clover = Recording(["C-SHOP"], absolute=True)
    clover.levels.update({("A", "C-SHOP"): 0, ("B", "C-SHOP"): 7})
    clover.die = "before"  # the process recorded "A: 7" and stopped before sending it

    with pytest.raises(ProcessDied):
        await SyncEngine(store, [runtime("clover", clover, {"C-SHOP": "shop"})]).sync_once()
    assert [(item.sku, item.quantity) for item in store.pending_pushes("clover")] == [("A", 7)]
    # While it was down, all 7 of A were sold somewhere omnibridge was told about.
    sale = StockMovement(
        idempotency_key="sale:A",
        source="manual",
        kind=MovementKind.SALE,
        sku="A",
        location_id="shop",
        quantity=7,
        occurred_at=NOW,
    )
    store.apply(sale)

    # The restarted daemon's first pass is for something else: 2 of B received on the Clover POS.
    restarted = SyncEngine(store, [runtime("clover", clover, {"C-SHOP": "shop"})])
    clover.webhook_payloads["d-1"] = [StockChangeEvent("r-1", StockChangeKind.RECEIPT, "B", "C-SHOP", 2, NOW)]
    clover.levels[("B", "C-SHOP")] = 9
    assert restarted.receive("clover", delivery("d-1"), {"x-token": TOKEN}, "").http_status == 200
    await restarted.process_pending()

    # The stale 7 never reaches Clover: A is re-read and re-planned from the ledger as it is now (0).
    assert ("A", 7) not in clover.sent
    assert clover.levels == {("A", "C-SHOP"): 0, ("B", "C-SHOP"): 9}
    assert store.pending_pushes("clover") == []
    assert store.push_counts()[("clover", "abandoned")] == 1
