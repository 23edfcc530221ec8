"""Square's official Python SDK (``squareup``) against the Square emulator on a loopback port.

The calls our connector and a merchant's own scripts make: list locations, search and retrieve the catalog,
update a variation's price, write and read inventory counts, read orders, create an order to ship. Whatever the
SDK sends must be accepted (the emulator validates it against Square's OpenAPI spec) and whatever the emulator
answers must parse into the SDK's models. The SDK runs in a child process (see tests/official_clients.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from official_clients import drive, served

from .emulator_support import SKU, TOKEN, Shop, make_shop

DRIVER = Path(__file__).with_name("official_client_driver.py")


@pytest.fixture
def shop() -> Iterator[tuple[Shop, str]]:
    shop = make_shop(requests_per_second=1000.0, burst=1000)
    with served(shop.emu.app) as url:
        yield shop, url


def _drive(shop: tuple[Shop, str], scenario: str, **arguments: Any) -> Any:
    return drive(DRIVER, scenario, token=TOKEN, base_url=shop[1], **arguments)


def test_locations_and_catalog_search(shop: tuple[Shop, str]) -> None:
    emulated, _ = shop
    emulated.emu.add_variation(sku="TENT-4P-GRN", name="Family tent", price_cents=29900)
    got = _drive(shop, "locations_and_search", sku=SKU, partial="tent")
    assert got["locations"] == [emulated.location_id]
    assert got["exact"] == [emulated.variation_id]
    # Square matches an exact_query value partially and case-insensitively ("sma" finds "Small").
    assert got["partial"] == [SKU, "TENT-4P-GRN"]


def test_retrieve_catalog_object_with_its_item(shop: tuple[Shop, str]) -> None:
    emulated, _ = shop
    got = _drive(shop, "retrieve", object_id=emulated.variation_id)
    assert got == {"id": emulated.variation_id, "type": "ITEM_VARIATION", "sku": SKU, "related": ["ITEM"]}


def test_retrieve_unknown_catalog_object_is_a_404_in_squares_shape(shop: tuple[Shop, str]) -> None:
    got = _drive(shop, "retrieve", object_id="NOPE")
    assert got["status"] == 404
    assert [e["code"] for e in got["body"]["errors"]] == ["NOT_FOUND"]


def test_price_update_through_upsert(shop: tuple[Shop, str]) -> None:
    emulated, _ = shop
    assert _drive(shop, "set_price", object_id=emulated.variation_id, amount=24900) == {"amount": 24900}
    assert emulated.emu.listing(SKU) == ("Trail tent", "249.00")


def test_physical_count_and_counts(shop: tuple[Shop, str]) -> None:
    emulated, _ = shop
    got = _drive(
        shop,
        "count",
        object_id=emulated.variation_id,
        location_id=emulated.location_id,
        quantity="7",
        occurred_at=emulated.iso(),
    )
    assert got == {"counts": [["IN_STOCK", "7"]]}
    assert emulated.emu.quantity(SKU, emulated.location_id) == 7


def test_orders_search_and_get(shop: tuple[Shop, str]) -> None:
    emulated, _ = shop
    sale = emulated.emu.pos_sale(emulated.location_id, [(SKU, 2)])
    got = _drive(shop, "orders", location_id=emulated.location_id, order_id=sale["id"])
    assert got == {"found": [sale["id"]], "state": "COMPLETED", "quantities": ["2"]}


def test_create_order_with_a_shipment(shop: tuple[Shop, str]) -> None:
    emulated, _ = shop
    got = _drive(shop, "create_order", location_id=emulated.location_id, object_id=emulated.variation_id)
    assert got == {"state": "OPEN", "fulfillment": "PROPOSED", "city": "Boulder"}
    assert [e["type"] for e in emulated.emu.events] == ["order.created"]


def test_update_order_moves_the_shipment_to_completed_with_tracking(shop: tuple[Shop, str]) -> None:
    emulated, _ = shop
    recipient = {"display_name": "Jaiden Urie", "address": {"locality": "Boulder", "country": "US"}}
    order = emulated.emu.online_order(emulated.location_id, [(SKU, 1)], recipient)
    got = _drive(shop, "ship_order", order_id=order["id"], tracking_number="1Z999AA10123456784", key="ship-1")
    assert got == {
        "versions": [1, 2, 3],
        "stale": ["VERSION_MISMATCH"],
        "state": "COMPLETED",
        "tracking": "1Z999AA10123456784",
        "shipped_at": True,
    }
    assert emulated.emu.state.orders[order["id"]]["fulfillments"][0]["state"] == "COMPLETED"
