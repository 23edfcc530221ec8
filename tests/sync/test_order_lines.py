"""Order lines as records (issue 12): shipments, moves, resolver decisions and counts keep the ledger right, and
``verify`` finds nothing wrong — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import pytest

from omnibridge.errors import StoreError
from omnibridge.models import LineStatus, MovementKind, StockMovement
from omnibridge.sdk.channel import (
    FulfilmentEvent,
    FulfilmentLineEvent,
    OrderEvent,
    OrderEventKind,
    OrderLineEvent,
    StockChangeEvent,
    StockChangeKind,
)
from omnibridge.store import Store
from omnibridge.store.tables import POSITIONS
from omnibridge.sync import EventApplier, SyncEngine

from .fake_channel import NOW, TOKEN, FakeChannel, receive, runtime, seed_store

SKU = "TENT-1"


def web_applier(store: Store, *, stock: int = 10) -> EventApplier:
    seed_store(store, [SKU], ["wh", "shop"])
    receive(store, SKU, "wh", stock)
    channel = runtime("web", FakeChannel(["L-WH", "L-SHOP"]), {"L-WH": "wh", "L-SHOP": "shop"})
    asyncio.run(channel.resolve_locations())
    return EventApplier(store, channel)


def placed(ref: str, quantity: int, where: str = "L-WH", at: int = 0) -> OrderEvent:
    line = OrderLineEvent("1", SKU, quantity, where)
    return OrderEvent(ref, OrderEventKind.PLACED, NOW + timedelta(seconds=at), (line,))


def shipped(ref: str, fulfilment: str, quantity: int, where: str = "L-WH", at: int = 60) -> FulfilmentEvent:
    line = FulfilmentLineEvent("1", SKU, quantity)
    return FulfilmentEvent(fulfilment, ref, NOW + timedelta(seconds=at), (line,), where)


def count(quantity: int, where: str = "L-WH", at: int = 120, ref: str = "count-1") -> StockChangeEvent:
    return StockChangeEvent(ref, StockChangeKind.COUNT, SKU, where, quantity, NOW + timedelta(seconds=at))


def test_shipped_web_orders_leave_nothing_committed_and_a_later_count_keeps_available_right(store: Store) -> None:
    # 10 units, two web orders of 3 shipped through fulfilments, the shelf counted at 4: available is 4.
    apply = web_applier(store)
    apply.apply_all([placed("o1", 3), placed("o2", 3)])
    apply.apply_all([shipped("o1", "f1", 3), shipped("o2", "f2", 3)])
    apply.apply_all([shipped("o1", "f1", 3)])  # the same fulfilment again: nothing
    position = store.position(SKU, "wh")
    assert (position.on_hand, position.committed) == (4, 0)
    apply.apply_all([count(4)])
    position = store.position(SKU, "wh")
    assert (position.on_hand, position.committed, position.available) == (4, 0, 4)
    lines = store.all_order_lines()
    assert [(line.status, line.shipped, line.committed) for line in lines] == [(LineStatus.SHIPPED, 3, 0)] * 2
    assert store.verify() == []


def test_a_partial_shipment_from_another_location_moves_only_what_left(store: Store) -> None:
    apply = web_applier(store)
    receive(store, SKU, "shop", 5)
    apply.apply_all([placed("o1", 3)])
    apply.apply_all([shipped("o1", "f1", 2, where="L-SHOP")])
    wh, shop = store.position(SKU, "wh"), store.position(SKU, "shop")
    assert (wh.on_hand, wh.committed, shop.on_hand, shop.committed) == (10, 1, 3, 0)
    line = store.order_line("web:order:o1:1")
    assert line is not None
    assert (line.status, line.location_id, line.committed, line.shipped) == (LineStatus.OPEN, "wh", 1, 2)
    assert store.verify() == []


def test_a_line_the_channel_moves_is_released_where_it_was_and_committed_where_it_is_each_time(store: Store) -> None:
    apply = web_applier(store)
    receive(store, SKU, "shop", 5)
    apply.apply_all([placed("o1", 2, "L-WH")])
    moved = apply.apply_all([placed("o1", 2, "L-SHOP", at=10)])
    assert moved.messages == []
    assert (store.position(SKU, "wh").committed, store.position(SKU, "shop").committed) == (0, 2)
    apply.apply_all([placed("o1", 2, "L-WH", at=20)])  # moved back: a new version, new movements
    assert (store.position(SKU, "wh").committed, store.position(SKU, "shop").committed) == (2, 0)
    apply.apply_all([placed("o1", 3, "L-WH", at=30)])  # an order edit: one more unit
    assert store.position(SKU, "wh").committed == 3
    line = store.order_line("web:order:o1:1")
    assert line is not None
    assert (line.version, line.location_id, line.quantity) == (4, "wh", 3)
    apply.apply_all([OrderEvent("o1", OrderEventKind.CANCELLED, NOW, (OrderLineEvent("1", SKU, 3, "L-WH"),))])
    assert (store.position(SKU, "wh").committed, store.position(SKU, "shop").committed) == (0, 0)
    assert store.verify() == []


def test_a_line_moved_by_the_resolver_keeps_its_channel_and_can_move_again(store: Store) -> None:
    # The web store sells 2 at the shop that has 1: the resolver moves the line to the warehouse. Then the
    # warehouse runs short too: the same line (still the web store's) is decided again, not forgotten.
    seed_store(store, [SKU], ["wh", "shop", "outlet"])
    receive(store, SKU, "shop", 1)
    receive(store, SKU, "wh", 2)
    web = runtime("web", FakeChannel(["L-SHOP"]), {"L-SHOP": "shop"}, priority=10)
    pos = runtime("pos", FakeChannel(["P-WH"]), {"P-WH": "wh"}, priority=20)
    engine = SyncEngine(store, [web, pos])
    asyncio.run(engine.resolve_locations())
    web_events = [OrderEvent("w1", OrderEventKind.PLACED, NOW, (OrderLineEvent("1", SKU, 2, "L-SHOP"),))]
    with store.unit_of_work() as uow:
        outcome = EventApplier(store, web).apply_all(web_events, uow=uow)
        engine._resolve_oversells(uow, outcome)
    line = store.order_line("web:order:w1:1")
    assert line is not None
    assert (line.channel, line.location_id, line.committed) == ("web", "wh", 2)

    receive(store, SKU, "outlet", 5)
    sale = [OrderEvent("p1", OrderEventKind.PLACED, NOW, (OrderLineEvent("1", SKU, 1, "P-WH"),))]
    with store.unit_of_work() as uow:
        outcome = EventApplier(store, pos).apply_all(sale, uow=uow)
        decisions = engine._resolve_oversells(uow, outcome)
    assert [(d.line.id, d.decision, d.moved_to) for d in decisions] == [("web:order:w1:1", "reallocated", "outlet")]
    assert [i.channel for i in store.incidents(kind="oversell")] == ["web", "web"]
    line = store.order_line("web:order:w1:1")
    assert line is not None
    assert (line.location_id, line.committed, line.version) == ("outlet", 2, 3)
    # its completion on the web store is applied where its units are now
    EventApplier(store, web).apply_all(
        [OrderEvent("w1", OrderEventKind.COMPLETED, NOW, (OrderLineEvent("1", SKU, 2, "L-SHOP"),))]
    )
    assert (store.position(SKU, "outlet").on_hand, store.position(SKU, "outlet").committed) == (3, 0)
    assert store.verify() == []


def test_a_pos_sale_line_is_one_lookup_not_a_scan_of_the_history(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    apply = web_applier(store)
    apply.apply_all([placed("o1", 2)])

    def scan(*_: object, **__: object) -> None:
        raise AssertionError("the location's whole history was read to apply one line")

    monkeypatch.setattr(Store, "movements", scan)
    done = OrderEvent("o1", OrderEventKind.COMPLETED, NOW, (OrderLineEvent("1", SKU, 2, "L-WH"),))
    sale = OrderEvent("s1", OrderEventKind.COMPLETED, NOW, (OrderLineEvent("1", SKU, 1, "L-WH"),))
    outcome = apply.apply_all([done, sale])
    assert (outcome.applied, outcome.messages) == (2, [])
    assert store.position(SKU, "wh").on_hand == 7


@pytest.mark.anyio
async def test_a_reused_key_dead_letters_the_delivery_and_skipped_lines_are_counted(store: Store) -> None:
    seed_store(store, [SKU], ["wh"])
    web = FakeChannel(["L-WH"])
    engine = SyncEngine(store, [runtime("web", web, {"L-WH": "wh"})])
    store.apply(
        StockMovement(
            idempotency_key="web:stock:adj-1",
            source="web",
            kind=MovementKind.RECEIPT,
            sku=SKU,
            location_id="wh",
            quantity=4,
            occurred_at=NOW,
        )
    )
    web.webhook_payloads["d-1"] = [StockChangeEvent("adj-1", StockChangeKind.RECEIPT, SKU, "L-WH", 5, NOW)]
    web.webhook_payloads["d-2"] = [
        OrderEvent("o-9", OrderEventKind.PLACED, NOW, (OrderLineEvent("1", "NOT-IN-CATALOG", 1, "L-WH"),))
    ]
    for delivery_id in ("d-1", "d-2"):
        body = f'{{"delivery": "{delivery_id}", "event": "{delivery_id}"}}'.encode()
        assert engine.receive("web", body, {"x-token": TOKEN}, "").http_status == 200
    await engine.process_pending()
    entries = {entry.delivery.delivery_id: entry for entry in store.inbox()}
    assert entries["d-1"].status == "dead"
    assert "already recorded a different movement" in (entries["d-1"].error or "")
    assert entries["d-2"].status == "done"
    assert (engine.counters.dead, engine.counters.skipped) == (1, 1)
    assert store.position(SKU, "wh").on_hand == 4


@pytest.mark.anyio
async def test_pending_work_survives_a_database_error_and_a_restart(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_store(store, [SKU], ["wh"])
    receive(store, SKU, "wh", 6)
    web, slow = FakeChannel(["L-WH"]), FakeChannel(["S-WH"])
    web.levels[(SKU, "L-WH")] = 0
    slow.levels[(SKU, "S-WH")] = 0
    channels = [runtime("web", web, {"L-WH": "wh"}), runtime("slow", slow, {"S-WH": "wh"})]
    engine = SyncEngine(store, channels)
    await engine.resolve_locations()
    engine.mark_dirty({SKU})
    finished: list[str] = []
    original_push = slow.push_levels
    sending = threading.Event()

    async def slow_push(targets: object) -> object:
        sending.set()
        try:
            await asyncio.sleep(0.5)
            return await original_push(targets)  # type: ignore[arg-type]
        finally:
            finished.append("slow")

    monkeypatch.setattr(slow, "push_levels", slow_push)
    original_known = Store.known_levels

    def failing_known(self: Store, channel: str, skus: object) -> object:
        if channel == "web":
            sending.wait(timeout=5)  # (on a store thread) fail while the other channel's write is being sent
            raise StoreError("database error: disk full; nothing was read")
        return original_known(self, channel, skus)  # type: ignore[arg-type]

    monkeypatch.setattr(Store, "known_levels", failing_known)
    with pytest.raises(ExceptionGroup):
        await engine.flush()
    assert finished == ["slow"]  # the other channel's write did not keep running after flush returned
    assert ("web", SKU) in store.pending_work()

    monkeypatch.setattr(Store, "known_levels", original_known)
    monkeypatch.setattr(slow, "push_levels", original_push)
    restarted = SyncEngine(store, [runtime("web", web, {"L-WH": "wh"}), runtime("slow", slow, {"S-WH": "wh"})])
    await restarted.resolve_locations()
    await restarted.flush()
    assert (web.levels[(SKU, "L-WH")], slow.levels[(SKU, "S-WH")]) == (6, 6)
    assert store.pending_work() == {}


def test_verify_names_each_inconsistency(store: Store) -> None:
    apply = web_applier(store)
    apply.apply_all([placed("o1", 2)])
    assert store.verify() == []
    with store.unit_of_work() as uow:
        uow.session.execute(POSITIONS.update().where(POSITIONS.c.sku == SKU).values(on_hand=POSITIONS.c.on_hand + 1))
        line = uow.line("web:order:o1:1")
        assert line is not None
        uow.save_line(line.model_copy(update={"status": LineStatus.SHIPPED}))
    found = {(i.check, i.subject) for i in store.verify()}
    assert found == {("position", f"{SKU} at wh"), ("closed_line", "web:order:o1:1")}


@pytest.mark.parametrize("how", ["fulfilment", "completed", "pos_sale"])
def test_placed_shipped_then_counted_keeps_available_right_for_every_kind_of_channel(store: Store, how: str) -> None:
    # 10 units; two orders of 3 leave (a web store's fulfilment, a marketplace's shipped order, a POS sale);
    # the shelf is counted at 4: available is 4, nothing is left committed.
    apply = web_applier(store)
    for ref in ("o1", "o2"):
        if how == "pos_sale":
            done = OrderEvent(ref, OrderEventKind.COMPLETED, NOW, (OrderLineEvent("1", SKU, 3, "L-WH"),))
            apply.apply_all([done])
            continue
        apply.apply_all([placed(ref, 3)])
        if how == "fulfilment":
            apply.apply_all([shipped(ref, f"f-{ref}", 3)])
        else:
            line = OrderLineEvent("1", SKU, 3, "L-WH")
            apply.apply_all([OrderEvent(ref, OrderEventKind.COMPLETED, NOW + timedelta(seconds=60), (line,))])
    apply.apply_all([count(4)])
    position = store.position(SKU, "wh")
    assert (position.on_hand, position.committed, position.available) == (4, 0, 4)
    assert store.verify() == []
