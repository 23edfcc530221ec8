"""Channel events become ledger movements exactly once, with the rules of omnibridge.sync.apply."""

from __future__ import annotations

import asyncio

import pytest

from omnibridge.sdk.channel import (
    OrderEvent,
    OrderEventKind,
    OrderLineEvent,
    RefundEvent,
    RefundLineEvent,
    RestockType,
    StockChangeEvent,
    StockChangeKind,
    StockObservedEvent,
)
from omnibridge.store import Store
from omnibridge.sync import EventApplier

from .fake_channel import NOW, FakeChannel, receive, runtime, seed_store

SKU = "TENT-1"


def applier(store: Store) -> EventApplier:
    seed_store(store, [SKU, "BAG-1"], ["boulder", "den"])
    receive(store, SKU, "boulder", 10)
    channel = runtime("web", FakeChannel(["L-B", "L-D"]), {"L-B": "boulder", "L-D": "den"})
    asyncio.run(channel.resolve_locations())
    return EventApplier(store, channel)


def order(kind: OrderEventKind, quantity: int = 2, ref: str = "1001") -> OrderEvent:
    return OrderEvent(ref, kind, NOW, (OrderLineEvent("line-1", SKU, quantity, "L-B"),))


def test_an_online_order_commits_then_its_completion_fulfils_exactly_once(store: Store) -> None:
    apply = applier(store)
    placed = apply.apply_all([order(OrderEventKind.PLACED)])
    assert (placed.applied, placed.touched) == (1, {(SKU, "boulder")})
    assert apply.apply_all([order(OrderEventKind.PLACED)]).duplicates == 1
    position = store.position(SKU, "boulder")
    assert (position.on_hand, position.committed, position.available) == (10, 2, 8)

    assert apply.apply_all([order(OrderEventKind.COMPLETED)]).applied == 1
    again = apply.apply_all([order(OrderEventKind.COMPLETED)])
    assert (again.applied, again.duplicates) == (0, 1)
    position = store.position(SKU, "boulder")
    assert (position.on_hand, position.committed, position.available) == (8, 0, 8)


def test_a_pos_sale_is_a_sale_and_a_shortfall_is_recorded_not_refused(store: Store) -> None:
    apply = applier(store)
    outcome = apply.apply_all([order(OrderEventKind.COMPLETED, quantity=12, ref="pos-1")])
    assert outcome.applied == 1
    assert outcome.shortfalls == [((SKU, "boulder"), 2)]
    assert store.position(SKU, "boulder").on_hand == -2


def test_cancel_and_cancel_refund_release_the_commitment_once(store: Store) -> None:
    apply = applier(store)
    apply.apply_all([order(OrderEventKind.PLACED, quantity=3)])
    refund = RefundEvent("r-1", "1001", NOW, (RefundLineEvent("line-1", SKU, 1, RestockType.CANCEL, "L-B"),))
    apply.apply_all([refund, refund])
    assert store.position(SKU, "boulder").committed == 2
    apply.apply_all([order(OrderEventKind.CANCELLED, quantity=3), order(OrderEventKind.CANCELLED, quantity=3)])
    position = store.position(SKU, "boulder")
    assert (position.committed, position.available) == (0, 10)


def test_a_returned_unit_comes_back_on_hand_once(store: Store) -> None:
    apply = applier(store)
    refund = RefundEvent("r-2", "1001", NOW, (RefundLineEvent("line-1", SKU, 1, RestockType.RETURN, "L-D"),))
    no_restock = RefundEvent("r-3", "1001", NOW, (RefundLineEvent("line-1", SKU, 1, RestockType.NO_RESTOCK, "L-D"),))
    apply.apply_all([refund, refund, no_restock])
    assert store.position(SKU, "den").on_hand == 1


def test_stock_changes_on_the_channel_become_receipts_adjustments_and_counts(store: Store) -> None:
    apply = applier(store)
    apply.apply_all(
        [
            StockChangeEvent("c-1", StockChangeKind.RECEIPT, "BAG-1", "L-D", 12, NOW),
            StockChangeEvent("c-2", StockChangeKind.ADJUSTMENT, "BAG-1", "L-D", -2, NOW),
            StockChangeEvent("c-1", StockChangeKind.RECEIPT, "BAG-1", "L-D", 12, NOW),
        ]
    )
    assert store.position("BAG-1", "den").on_hand == 10
    apply.apply_all([StockChangeEvent("c-3", StockChangeKind.COUNT, "BAG-1", "L-D", 7, NOW)])
    assert store.position("BAG-1", "den").on_hand == 7


def test_bad_lines_are_skipped_with_a_reason_and_the_rest_applies(store: Store) -> None:
    apply = applier(store)
    event = OrderEvent(
        "1002",
        OrderEventKind.PLACED,
        NOW,
        (
            OrderLineEvent("a", None, 1, "L-B"),
            OrderLineEvent("b", "NOT-IN-CATALOG", 1, "L-B"),
            OrderLineEvent("c", SKU, 1, "L-UNMAPPED"),
            OrderLineEvent("d", SKU, 1, "L-B"),
        ),
    )
    outcome = apply.apply_all([event])
    assert outcome.applied == 1
    assert len(outcome.messages) == 3
    assert "no SKU" in outcome.messages[0]
    assert "'NOT-IN-CATALOG' is not in the catalog" in outcome.messages[1]
    assert "'L-UNMAPPED' is not mapped" in outcome.messages[2]


def test_an_order_looks_up_its_own_skus_not_the_whole_catalog(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    apply = applier(store)

    def whole_catalog() -> None:
        raise AssertionError("the whole catalog was read to apply one order")

    monkeypatch.setattr(store, "list_variants", whole_catalog)
    event = OrderEvent(
        "1003",
        OrderEventKind.PLACED,
        NOW,
        (OrderLineEvent("a", SKU, 1, "L-B"), OrderLineEvent("b", "NOT-IN-CATALOG", 1, "L-B")),
    )
    outcome = apply.apply_all([event])
    assert outcome.applied == 1
    assert "'NOT-IN-CATALOG' is not in the catalog" in outcome.messages[0]
    assert store.position(SKU, "boulder").committed == 1
    # a SKU added to the catalog later is found by the same applier
    seed_store(store, ["NEW-1"], ["boulder"])
    receive(store, "NEW-1", "boulder", 5)
    later = OrderEvent("1004", OrderEventKind.PLACED, NOW, (OrderLineEvent("a", "NEW-1", 2, "L-B"),))
    assert apply.apply_all([later]).applied == 1
    assert store.position("NEW-1", "boulder").committed == 2


def test_an_observed_level_moves_nothing(store: Store) -> None:
    apply = applier(store)
    outcome = apply.apply_all([StockObservedEvent(SKU, "L-B", 3, NOW)])
    assert outcome.applied == 0
    assert outcome.observed == [((SKU, "boulder"), 3, NOW)]
    assert store.position(SKU, "boulder").on_hand == 10


def test_orders_are_kept_as_records_and_a_late_event_never_rolls_them_back(store: Store) -> None:
    apply = applier(store)
    later = NOW.replace(minute=5)
    placed = OrderEvent(
        "1001",
        OrderEventKind.PLACED,
        NOW,
        (OrderLineEvent("line-1", SKU, 2, "L-B", "19.90"),),
        name="#1001",
        currency="USD",
        total="39.80",
        status="paid",
    )
    cancelled = OrderEvent("1001", OrderEventKind.CANCELLED, later, placed.lines, name="#1001", currency="USD")
    assert apply.apply_all([placed]).orders == 1
    apply.apply_all([cancelled])
    assert apply.apply_all([placed]).orders == 0  # a late re-delivery of the placement changes nothing

    order = store.find_order("web", "1001")
    assert order is not None
    assert (order.id, order.number, order.status.value) == ("web:1001", "#1001", "cancelled")
    assert (order.placed_at, order.updated_at) == (NOW, later)
    [line] = order.lines
    assert (line.sku, line.quantity, line.location_id, str(line.unit_price.amount if line.unit_price else None)) == (
        SKU,
        2,
        "boulder",
        "19.90",
    )


def test_an_order_with_no_line_in_the_catalog_is_not_recorded(store: Store) -> None:
    apply = applier(store)
    event = OrderEvent("2002", OrderEventKind.PLACED, NOW, (OrderLineEvent("x", "GIFT-CARD", 1, "L-B"),))
    outcome = apply.apply_all([event])
    assert outcome.orders == 0
    assert store.find_order("web", "2002") is None
