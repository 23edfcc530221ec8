"""The harnesses' and benchmarks' convergence check: every position where a channel shows something other than the
ledger's projection, over every location the channel shows."""

from __future__ import annotations

from datetime import UTC, datetime

from omnibridge.demo.catalog import POS_LOCATIONS, WEB_LOCATIONS
from omnibridge.demo.settings import POS, WEB
from omnibridge.models import MovementKind, StockMovement
from omnibridge.store import Store
from omnibridge.testing.agreement import DEMO_SKUS, Mismatch, disagreements


class Shown:
    """What each channel shows: the ledger's figure everywhere except at ``odd`` positions."""

    def __init__(self, store: Store, odd: dict[tuple[str, str, str], int]) -> None:
        self.store, self.odd, self.reads = store, odd, 0

    def shows(self, channel: str, sku: str, location_id: str) -> int:
        self.reads += 1
        if (channel, sku, location_id) in self.odd:
            return self.odd[(channel, sku, location_id)]
        return max(0, self.store.position(sku, location_id).available)


def receive(store: Store, sku: str, location_id: str, quantity: int) -> None:
    store.apply(
        StockMovement(
            idempotency_key=f"test:{sku}:{location_id}",
            source="manual",
            kind=MovementKind.RECEIPT,
            sku=sku,
            location_id=location_id,
            quantity=quantity,
            occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
    )


def test_every_position_showing_something_else_is_named_with_both_figures(store: Store) -> None:
    sku, other = DEMO_SKUS[:2]
    receive(store, sku, WEB_LOCATIONS[0], 5)
    shown = Shown(store, {(WEB, sku, WEB_LOCATIONS[0]): 4, (POS, other, POS_LOCATIONS[-1]): 2})

    assert disagreements(store, shown) == [
        Mismatch(WEB, sku, WEB_LOCATIONS[0], 4, 5),
        Mismatch(POS, other, POS_LOCATIONS[-1], 2, 0),
    ]
    assert shown.reads == len(DEMO_SKUS) * (len(WEB_LOCATIONS) + len(POS_LOCATIONS))
    assert disagreements(store, shown, (POS,)) == [Mismatch(POS, other, POS_LOCATIONS[-1], 2, 0)]


def test_first_only_stops_at_the_first_and_agreement_is_an_empty_list(store: Store) -> None:
    sku = DEMO_SKUS[0]
    shown = Shown(store, {(WEB, sku, loc): 1 for loc in WEB_LOCATIONS})

    assert disagreements(store, shown, first_only=True) == [Mismatch(WEB, sku, WEB_LOCATIONS[0], 1, 0)]
    assert shown.reads == 1
    assert disagreements(store, Shown(store, {})) == []
