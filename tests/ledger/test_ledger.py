"""The ledger through the store API, on SQLite and PostgreSQL (the ``store`` fixture)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from omnibridge.errors import ConflictError, IdempotencyKeyReusedError, InsufficientStockError
from omnibridge.ledger.apply import apply_movement
from omnibridge.models import (
    InventoryPosition,
    MovementKind,
    MovementResult,
    MovementStatus,
    Product,
    StockMovement,
    Variant,
)
from omnibridge.store import Store
from omnibridge.store.engine import write_session

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SKU = "TEE-M"
WH = "wh"
_keys = itertools.count()


def mv(
    kind: MovementKind,
    quantity: int,
    *,
    at: datetime = T0,
    key: str | None = None,
    sku: str = SKU,
    location: str = WH,
    reference: str | None = None,
    note: str | None = None,
) -> StockMovement:
    return StockMovement(
        idempotency_key=key or f"test:{next(_keys)}",
        source="test",
        kind=kind,
        sku=sku,
        location_id=location,
        quantity=quantity,
        occurred_at=at,
        reference=reference,
        note=note,
    )


def buckets(position: InventoryPosition) -> tuple[int, int, int, int, int]:
    return (position.on_hand, position.committed, position.reserved, position.safety_stock, position.incoming)


def allow_backorders(store: Store, sku: str) -> None:
    store.upsert_product(
        Product(id=f"p-{sku}", title=sku, variants=[Variant(sku=sku, product_id=f"p-{sku}", allow_backorder=True)])
    )


# -- per-kind effects ------------------------------------------------------------------------------------------

# (kind, quantity, expected (on_hand, committed, reserved, incoming) deltas) from a position of
# on_hand 10, committed 3, reserved 2, incoming 4.
EFFECTS = [
    (MovementKind.RECEIPT, 2, (2, 0, 0, -2)),
    (MovementKind.RECEIPT, 6, (6, 0, 0, -4)),
    (MovementKind.EXPECTED, 2, (0, 0, 0, 2)),
    (MovementKind.SALE, 2, (-2, 0, 0, 0)),
    (MovementKind.COMMITMENT, 2, (0, 2, 0, 0)),
    (MovementKind.COMMITMENT_RELEASE, 2, (0, -2, 0, 0)),
    (MovementKind.FULFILMENT, 2, (-2, -2, 0, 0)),
    (MovementKind.RETURN, 2, (2, 0, 0, 0)),
    (MovementKind.ADJUSTMENT, -2, (-2, 0, 0, 0)),
    (MovementKind.ADJUSTMENT, 5, (5, 0, 0, 0)),
    (MovementKind.COUNT, 7, (-3, 0, 0, 0)),
    (MovementKind.COUNT, 12, (2, 0, 0, 0)),
    (MovementKind.TRANSFER_OUT, 2, (-2, 0, 0, 0)),
    (MovementKind.TRANSFER_IN, 2, (2, 0, 0, 0)),
    (MovementKind.RESERVATION, 2, (0, 0, 2, 0)),
    (MovementKind.RELEASE, 2, (0, 0, -2, 0)),
]


@pytest.mark.parametrize(("kind", "quantity", "expected"), EFFECTS, ids=[f"{k.value}{q}" for k, q, _ in EFFECTS])
def test_each_kind_changes_exactly_its_buckets(
    store: Store, kind: MovementKind, quantity: int, expected: tuple[int, int, int, int]
) -> None:
    for setup in (
        mv(MovementKind.RECEIPT, 10),
        mv(MovementKind.COMMITMENT, 3),
        mv(MovementKind.RESERVATION, 2),
        mv(MovementKind.EXPECTED, 4),
    ):
        store.apply(setup)
    before = store.position(SKU, WH)
    assert buckets(before) == (10, 3, 2, 0, 4)

    result = store.apply(mv(kind, quantity, at=T0 + timedelta(hours=1)))

    recorded = result.recorded
    assert result.status is MovementStatus.APPLIED
    assert (
        recorded.delta_on_hand,
        recorded.delta_committed,
        recorded.delta_reserved,
        recorded.delta_incoming,
    ) == expected
    assert not recorded.superseded_by_count
    d_on_hand, d_committed, d_reserved, d_incoming = expected
    after = (
        before.on_hand + d_on_hand,
        before.committed + d_committed,
        before.reserved + d_reserved,
        0,
        before.incoming + d_incoming,
    )
    assert buckets(result.position) == after
    assert buckets(store.position(SKU, WH)) == after
    assert store.movements(SKU)[-1] == recorded


def test_recorded_movements_keep_what_was_submitted(store: Store, clock: Callable[[], datetime]) -> None:
    submitted = mv(
        MovementKind.RECEIPT,
        3,
        at=datetime(2026, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))),
        reference="PO-7",
        note="dock 2",
    )
    result = store.apply(submitted)
    assert result.recorded.movement == submitted
    assert result.recorded.recorded_at.utcoffset() == timedelta(0)
    assert result.position.updated_at == result.recorded.recorded_at
    assert store.movements(SKU) == [result.recorded]


# -- idempotency -------------------------------------------------------------------------------------------------


def test_a_redelivered_movement_is_a_duplicate_and_changes_nothing(store: Store) -> None:
    first = store.apply(mv(MovementKind.RECEIPT, 5, key="shopify:webhook:1", note="first"))
    # Same content; a different note and the same instant written in another offset are still the same event.
    again = mv(
        MovementKind.RECEIPT, 5, key="shopify:webhook:1", note="retry", at=T0.astimezone(timezone(timedelta(hours=-5)))
    )

    second = store.apply(again)

    assert second.status is MovementStatus.DUPLICATE
    assert second.duplicate
    assert second.recorded == first.recorded
    assert second.position == first.position
    assert store.position(SKU, WH) == first.position
    assert store.movements(SKU) == [first.recorded]


def test_a_reused_key_with_different_content_is_refused(store: Store) -> None:
    first = store.apply(mv(MovementKind.RECEIPT, 5, key="k1"))
    for other in (
        mv(MovementKind.RECEIPT, 6, key="k1"),
        mv(MovementKind.RECEIPT, 5, key="k1", location="store-2"),
        mv(MovementKind.RECEIPT, 5, key="k1", at=T0 + timedelta(seconds=1)),
    ):
        with pytest.raises(
            IdempotencyKeyReusedError, match="idempotency key 'k1' already recorded a different movement"
        ):
            store.apply(other)
    assert store.movements(SKU) == [first.recorded]
    assert store.positions(SKU) == [first.position]


# -- counts and late events ------------------------------------------------------------------------------------------


def test_a_count_is_a_delta_against_the_ledger_at_the_counts_time(store: Store) -> None:
    store.apply(mv(MovementKind.RECEIPT, 10, at=T0))
    store.apply(mv(MovementKind.SALE, 2, at=T0 + timedelta(hours=2)))  # after the count, recorded before it

    count = store.apply(mv(MovementKind.COUNT, 7, at=T0 + timedelta(hours=1)))

    assert count.recorded.delta_on_hand == 7 - 10
    assert count.position.on_hand == 5  # the count's 7, minus the later sale
    assert sum(m.delta_on_hand for m in store.movements(SKU)) == 5


def test_physical_movements_older_than_the_latest_count_are_superseded(store: Store) -> None:
    store.apply(mv(MovementKind.RECEIPT, 10, at=T0))
    store.apply(mv(MovementKind.COMMITMENT, 2, at=T0))
    store.apply(mv(MovementKind.EXPECTED, 5, at=T0))
    store.apply(mv(MovementKind.COUNT, 8, at=T0 + timedelta(hours=3)))

    late_sale = store.apply(mv(MovementKind.SALE, 1, at=T0 + timedelta(hours=1)))  # the POS was offline
    late_fulfilment = store.apply(mv(MovementKind.FULFILMENT, 2, at=T0 + timedelta(hours=2)))
    late_receipt = store.apply(mv(MovementKind.RECEIPT, 3, at=T0 + timedelta(hours=2)))
    older_count = store.apply(mv(MovementKind.COUNT, 1, at=T0 + timedelta(hours=2)))
    later_sale = store.apply(mv(MovementKind.SALE, 1, at=T0 + timedelta(hours=4)))

    for result in (late_sale, late_fulfilment, late_receipt, older_count):
        assert result.recorded.superseded_by_count
        assert result.recorded.delta_on_hand == 0
    assert late_fulfilment.recorded.delta_committed == -2  # the commitment still ends
    assert late_receipt.recorded.delta_incoming == -3  # the expected goods did arrive
    assert not later_sale.recorded.superseded_by_count
    assert buckets(store.position(SKU, WH)) == (7, 0, 0, 0, 2)


def test_a_recount_at_the_same_instant_replaces_the_count(store: Store) -> None:
    store.apply(mv(MovementKind.RECEIPT, 10, at=T0))
    store.apply(mv(MovementKind.COUNT, 8, at=T0 + timedelta(hours=1)))
    recount = store.apply(mv(MovementKind.COUNT, 9, at=T0 + timedelta(hours=1)))
    assert not recount.recorded.superseded_by_count
    assert recount.position.on_hand == 9


# -- refusals --------------------------------------------------------------------------------------------------------


def test_insufficient_stock_is_refused_and_nothing_is_written(store: Store) -> None:
    store.apply(mv(MovementKind.RECEIPT, 3))
    store.apply(mv(MovementKind.RESERVATION, 1))
    before = store.position(SKU, WH)
    commitment = mv(MovementKind.COMMITMENT, 3, key="order:1:line:1")

    with pytest.raises(InsufficientStockError) as caught:
        store.apply(commitment)

    assert (caught.value.sku, caught.value.location_id, caught.value.requested, caught.value.available) == (
        SKU,
        WH,
        3,
        2,
    )
    assert caught.value.shortfall == 1
    assert store.position(SKU, WH) == before
    assert len(store.movements(SKU)) == 2
    # Nothing was recorded under the key, so the same event succeeds once stock has arrived.
    store.apply(mv(MovementKind.RECEIPT, 1))
    assert store.apply(commitment).status is MovementStatus.APPLIED


def test_unknown_skus_and_new_positions_get_no_backorders(store: Store) -> None:
    with pytest.raises(InsufficientStockError):
        store.apply(mv(MovementKind.SALE, 1, sku="NEVER-SEEN", location="nowhere"))
    assert store.positions("NEVER-SEEN") == []
    assert store.position("NEVER-SEEN", "nowhere") == InventoryPosition(sku="NEVER-SEEN", location_id="nowhere")


def test_a_backorder_sku_may_go_below_zero(store: Store) -> None:
    allow_backorders(store, "PREORDER")
    result = store.apply(mv(MovementKind.COMMITMENT, 4, sku="PREORDER"))
    assert result.status is MovementStatus.APPLIED
    assert result.position.available == -4
    assert result.shortfall == 0


def test_allow_shortfall_applies_a_physical_fact_and_reports_the_shortfall(store: Store) -> None:
    store.apply(mv(MovementKind.RECEIPT, 1))
    result = store.apply(mv(MovementKind.SALE, 3), allow_shortfall=True)
    assert result.status is MovementStatus.APPLIED
    assert result.position.on_hand == -2
    assert result.shortfall == 2
    assert store.apply(mv(MovementKind.RECEIPT, 1), allow_shortfall=True).shortfall == 1


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (MovementKind.RELEASE, "cannot release 3 of 'TEE-M' at 'wh': only 2 reserved"),
        (MovementKind.COMMITMENT_RELEASE, "cannot commitment release 3 of 'TEE-M' at 'wh': only 2 committed"),
        (MovementKind.FULFILMENT, "cannot fulfilment 3 of 'TEE-M' at 'wh': only 2 committed"),
    ],
)
def test_releasing_more_than_is_held_is_refused(store: Store, kind: MovementKind, message: str) -> None:
    allow_backorders(store, SKU)  # the bucket checks hold even where backorders are allowed
    for setup in (mv(MovementKind.RECEIPT, 10), mv(MovementKind.COMMITMENT, 2), mv(MovementKind.RESERVATION, 2)):
        store.apply(setup)
    before = store.position(SKU, WH)
    with pytest.raises(ConflictError) as caught:
        store.apply(mv(kind, 3))
    assert str(caught.value) == message
    assert store.position(SKU, WH) == before
    assert len(store.movements(SKU)) == 3


def test_safety_stock_cannot_take_available_below_zero(store: Store) -> None:
    store.apply(mv(MovementKind.RECEIPT, 5))
    store.apply(mv(MovementKind.COMMITMENT, 2))
    assert store.set_safety_stock(SKU, WH, 3).available == 0
    with pytest.raises(InsufficientStockError):
        store.set_safety_stock(SKU, WH, 4)
    assert store.position(SKU, WH).safety_stock == 3
    assert store.set_safety_stock(SKU, WH, 1).available == 2
    with pytest.raises(InsufficientStockError):
        store.apply(mv(MovementKind.RESERVATION, 3))
    allow_backorders(store, "PREORDER")
    assert store.set_safety_stock("PREORDER", WH, 2).available == -2


# -- reading ---------------------------------------------------------------------------------------------------------


def test_positions_and_movements_by_location(store: Store) -> None:
    b = store.apply(mv(MovementKind.RECEIPT, 2, location="b"))
    a = store.apply(mv(MovementKind.RECEIPT, 1, location="a"))
    b2 = store.apply(mv(MovementKind.SALE, 1, location="b"))
    store.apply(mv(MovementKind.RECEIPT, 9, sku="OTHER", location="a"))
    assert [(p.location_id, p.on_hand) for p in store.positions(SKU)] == [("a", 1), ("b", 1)]
    assert store.movements(SKU) == [b.recorded, a.recorded, b2.recorded]
    assert store.movements(SKU, "b") == [b.recorded, b2.recorded]
    assert store.position(SKU, "c") == InventoryPosition(sku=SKU, location_id="c")


# -- concurrency -----------------------------------------------------------------------------------------------------


def run_together(*calls: Callable[[], MovementResult]) -> list[MovementResult | BaseException]:
    """Start every call at once (a barrier) in its own thread; return each result or exception."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[MovementResult | BaseException] = [RuntimeError("did not run")] * len(calls)

    def run(index: int, call: Callable[[], MovementResult]) -> None:
        barrier.wait()
        try:
            outcomes[index] = call()
        except BaseException as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.parametrize("round_", range(5))
def test_two_orders_for_the_last_unit_exactly_one_wins(store: Store, round_: int) -> None:
    sku = f"LAST-{round_}"
    store.apply(mv(MovementKind.RECEIPT, 1, sku=sku))

    outcomes = run_together(
        lambda: store.apply(mv(MovementKind.COMMITMENT, 1, sku=sku, key=f"order-a-{round_}")),
        lambda: store.apply(mv(MovementKind.COMMITMENT, 1, sku=sku, key=f"order-b-{round_}")),
    )

    applied = [o for o in outcomes if isinstance(o, MovementResult)]
    refused = [o for o in outcomes if isinstance(o, InsufficientStockError)]
    assert len(applied) == 1, outcomes
    assert len(refused) == 1, outcomes
    assert buckets(store.position(sku, WH)) == (1, 1, 0, 0, 0)
    assert len(store.movements(sku)) == 2


@pytest.mark.parametrize("round_", range(5))
def test_one_event_delivered_twice_at_once_applies_once(store: Store, round_: int) -> None:
    sku = f"TWICE-{round_}"
    event = mv(MovementKind.RECEIPT, 4, sku=sku, key=f"webhook-{round_}")

    outcomes = run_together(lambda: store.apply(event), lambda: store.apply(event))

    statuses = sorted(o.status.value for o in outcomes if isinstance(o, MovementResult))
    assert statuses == ["applied", "duplicate"], outcomes
    assert store.position(sku, WH).on_hand == 4
    assert len(store.movements(sku)) == 1


def test_a_writer_waiting_on_an_open_transaction_sees_its_effect(store: Store) -> None:
    """The second order is submitted while the first one's transaction is still open (holding the position
    lock): it must wait and then decide on the committed state, never on a stale snapshot."""
    store.apply(mv(MovementKind.RECEIPT, 1, sku="HELD"))
    outcome: list[MovementResult | BaseException] = []

    def second_order() -> None:
        try:
            outcome.append(store.apply(mv(MovementKind.COMMITMENT, 1, sku="HELD", key="order-b")))
        except BaseException as exc:
            outcome.append(exc)

    with write_session(store.engine) as session:
        first = apply_movement(
            session, mv(MovementKind.COMMITMENT, 1, sku="HELD", key="order-a"), allow_shortfall=False, now=T0
        )
        waiting = threading.Thread(target=second_order)
        waiting.start()
    waiting.join()

    assert first.status is MovementStatus.APPLIED
    assert len(outcome) == 1
    assert isinstance(outcome[0], InsufficientStockError)
    assert buckets(store.position("HELD", WH)) == (1, 1, 0, 0, 0)
