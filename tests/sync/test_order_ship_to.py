"""``record_order`` keeps the ship-to address a channel gives with an order (``OrderEvent.ship_to``)."""

from __future__ import annotations

from datetime import timedelta

from omnibridge.models import Address
from omnibridge.sdk.channel import OrderEvent, OrderEventKind, OrderLineEvent, ShipTo
from omnibridge.store import Store

from .fake_channel import NOW
from .test_order_lines import SKU, web_applier

BUYER = ShipTo(country="us", name="Jordan Rivera", line1="1200 Pearl St", city="Boulder", postal_code="80302")


def test_the_ship_to_is_stored_and_kept_by_an_update_without_one(store: Store) -> None:
    apply = web_applier(store)
    line = (OrderLineEvent("1", SKU, 1, "L-WH"),)
    apply.apply_all([OrderEvent("o1", OrderEventKind.PLACED, NOW, line, name="#1001", ship_to=BUYER)])
    order = store.get_order("web:o1")
    assert order is not None
    assert order.number == "#1001"
    assert order.ship_to == Address(
        name="Jordan Rivera", line1="1200 Pearl St", city="Boulder", postal_code="80302", country="US"
    )
    apply.apply_all([OrderEvent("o1", OrderEventKind.UPDATED, NOW + timedelta(seconds=5), line, name="#1001")])
    later = store.get_order("web:o1")
    assert later is not None
    assert later.ship_to == order.ship_to
    assert [o.id for o in store.find_orders_by_number("web", "1001")] == ["web:o1"]


def test_a_ship_to_without_a_valid_country_is_not_kept(store: Store) -> None:
    apply = web_applier(store)
    line = (OrderLineEvent("1", SKU, 1, "L-WH"),)
    apply.apply_all([OrderEvent("o2", OrderEventKind.PLACED, NOW, line, ship_to=ShipTo(country="USA"))])
    order = store.get_order("web:o2")
    assert order is not None
    assert order.ship_to is None
