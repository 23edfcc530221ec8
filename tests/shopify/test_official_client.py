"""Shopify's ``ShopifyAPI`` library (its GraphQL client) against the Shopify emulator on a loopback port.

Locations, a variant's inventory levels by SKU and an order, read the way a merchant's script reads them. The
library runs in a child process (see tests/official_clients.py).
"""

from __future__ import annotations

from pathlib import Path

from official_clients import drive, served

from .emulator_support import SKU, TOKEN, make_shop

DRIVER = Path(__file__).with_name("official_client_driver.py")


def test_locations_levels_and_an_order_through_shopifyapi() -> None:
    shop = make_shop()
    placed = shop.emu.place_order([(SKU, 2)], shop.location)
    with served(shop.emu.app) as url:
        got = drive(
            DRIVER,
            "read",
            base_url=url,
            version="2025-01",
            token=TOKEN,
            sku=SKU,
            order_id=placed["admin_graphql_api_id"],
        )
    names = [n["name"] for n in got["locations"]["data"]["locations"]["nodes"]]
    assert sorted(names) == ["Downtown store", "Main warehouse"]
    [variant] = got["levels"]["data"]["productVariants"]["nodes"]
    levels = {
        n["location"]["id"]: n["quantities"][0]["quantity"]
        for n in variant["inventoryItem"]["inventoryLevels"]["nodes"]
    }
    assert variant["sku"] == SKU
    assert sorted(levels.values()) == [3, 8]
    order = got["order"]["data"]["order"]
    assert order["name"] == placed["name"]
    assert order["lineItems"]["nodes"] == [{"sku": SKU, "quantity": 2}]
    assert "errors" not in got["order"]
