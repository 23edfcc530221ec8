"""The demo's shipment scene ships the Amazon order to the ship-to the ledger holds for it, and fails (instead of
shipping to a made-up address) when the ledger has none."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest

from omnibridge.demo import scenes
from omnibridge.demo.report import DemoReport
from omnibridge.demo.world import DemoWorld
from omnibridge.errors import OmnibridgeError
from omnibridge.models import Address, Order, OrderLine, OrderStatus
from omnibridge.store import Store, open_store

pytestmark = pytest.mark.anyio
PLACED = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
BUYER = Address(name="Sam Okafor", line1="42 Elm St", city="Golden", region="CO", postal_code="80401", country="US")


@dataclass
class RefusingShipping:
    """Records the address it is asked to ship to, then refuses (the scene stops before tracking)."""

    asked: list[Address] = field(default_factory=list)

    async def ship(self, order_id: str, location: str, lines: Any, to_address: Address, parcel: Any) -> Any:
        self.asked.append(to_address)
        raise OmnibridgeError("no carrier in this test")


@dataclass
class SceneWorld:
    store: Store
    shipping: RefusingShipping = field(default_factory=RefusingShipping)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path / 'scene.db'}") as opened:
        yield opened


def _order(ref: str, ship_to: Address | None) -> Order:
    return Order(
        id=f"amazon:{ref}",
        channel="amazon",
        external_id=ref,
        number=ref,
        status=OrderStatus.ACCEPTED,
        lines=[OrderLine(line_id=f"{ref}-1", sku="TENT-4P-ORG", quantity=2, location_id="den-wh")],
        ship_to=ship_to,
        placed_at=PLACED,
        updated_at=PLACED,
    )


async def test_the_shipment_ships_to_the_ledgers_ship_to(store: Store) -> None:
    store.save_order(_order("111-1", BUYER))
    world = SceneWorld(store)
    record = await scenes.shipment(cast(DemoWorld, world), "111-1")
    assert world.shipping.asked == [BUYER]
    assert record.detail["ship_to"] == {"city": "Golden", "region": "CO", "postal_code": "80401"}


async def test_an_order_without_ship_to_fails_the_scene(store: Store) -> None:
    store.save_order(_order("111-2", None))
    world = SceneWorld(store)
    record = await scenes.shipment(cast(DemoWorld, world), "111-2")
    assert world.shipping.asked == []
    assert record.outcome == "order amazon:111-2 has no ship-to address in the ledger"
    assert not DemoReport.event_ok(record)
