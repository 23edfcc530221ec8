"""The order's ``shippingAddress``: the emulator models it, the connector reads it into ``OrderEvent.ship_to``."""

from __future__ import annotations

import pytest
from graphql import ExecutionResult, execute, parse

from connectors.shopify import queries
from connectors.shopify.client import ShopifyClient
from connectors.shopify.mapper import map_shipping_address
from omnibridge.sdk.channel import OrderEvent, ShipTo

from .client_support import OFFICIAL_SCHEMAS, official_schema, schema_errors
from .emulator_support import SKU as SHOP_SKU
from .emulator_support import client, make_shop
from .test_client_emulator import VERSIONS, World

SKU = "TENT-2P"


@pytest.mark.parametrize("version", [*OFFICIAL_SCHEMAS, "2025-04", "2025-10", "2026-07"])
def test_the_order_reads_fit_the_schema_of_every_version(version: str) -> None:
    for document, variables in (
        (queries.ORDER_QUERY, {"id": "gid://shopify/Order/1"}),
        (queries.ORDER_LEAN_QUERY, {"id": "gid://shopify/Order/1"}),
        (queries.ORDERS_QUERY, {"first": 1, "query": "updated_at:>='2026-01-01T00:00:00Z'"}),
    ):
        assert schema_errors(version, document, variables) == []


def test_the_emulator_answers_shipping_address_with_the_official_types() -> None:
    shop = make_shop()
    order = shop.emu.place_order([(SHOP_SKU, 1)], location_id=shop.location)
    result = execute(
        official_schema("2026-04"),
        parse(queries.ORDER_QUERY),
        root_value=shop.emu._root_value(),
        variable_values={"id": order["admin_graphql_api_id"]},
    )
    assert isinstance(result, ExecutionResult)
    assert result.errors is None, result.errors
    assert result.data is not None
    assert result.data["order"]["shippingAddress"] == {
        "name": "Ada Lovelace",
        "address1": "1 Market St",
        "address2": None,
        "city": "San Francisco",
        "provinceCode": "CA",
        "zip": "94105",
        "countryCodeV2": "US",
        "phone": None,
        "latitude": None,
        "longitude": None,
    }
    assert order["shipping_address"]["zip"] == "94105"  # the REST webhook payload carries the same address


@pytest.mark.parametrize("version", VERSIONS)
def test_a_pulled_order_carries_its_ship_to(version: str) -> None:
    world = World(version)

    async def scenario(shopify: ShopifyClient) -> list[OrderEvent]:
        async with client(world.emu) as http:
            placed = await http.post(
                "/_emulator/orders",
                json={
                    "lines": [[SKU, 1]],
                    "location_id": world.main,
                    "shipping_address": {
                        "first_name": "Jordan",
                        "last_name": "Rivera",
                        "address1": "1200 Pearl St",
                        "city": "Boulder",
                        "province_code": "CO",
                        "zip": "80302",
                        "country_code": "us",
                        "phone": "+1 303 555 0100",
                        "latitude": 40.0176,
                        "longitude": -105.2797,
                    },
                },
            )
            assert placed.status_code == 200, placed.text
            nowhere = await http.post(
                "/_emulator/orders", json={"lines": [[SKU, 1]], "location_id": world.main, "shipping_address": None}
            )
            assert nowhere.status_code == 200, nowhere.text
            bad = await http.post(
                "/_emulator/orders",
                json={"lines": [[SKU, 1]], "location_id": world.main, "shipping_address": {"city": "Boulder"}},
            )
            assert bad.status_code == 422
            assert "country_code" in bad.text
        world.time.now += 5
        pulled = await shopify.pull_events(None)
        return [event for event in pulled.events if isinstance(event, OrderEvent)]

    shipped, digital = world.run(scenario)
    assert shipped.ship_to == ShipTo(
        country="US",
        name="Jordan Rivera",
        line1="1200 Pearl St",
        city="Boulder",
        region="CO",
        postal_code="80302",
        phone="+1 303 555 0100",
        latitude=40.0176,
        longitude=-105.2797,
    )
    assert digital.ship_to is None
    # routing's value rules read each line's unit price (the lean order read asks for it)
    assert [line.unit_price for line in shipped.lines] == [world.emu.state.variant_by_sku(SKU).price]


def test_an_address_without_a_country_is_no_ship_to() -> None:
    assert map_shipping_address({"city": "Boulder", "countryCodeV2": None}) is None
    assert map_shipping_address(None) is None
    assert map_shipping_address({"countryCodeV2": "DE", "city": " Berlin "}) == ShipTo(country="DE", city="Berlin")
    # coordinates come both or not at all
    half = {"countryCodeV2": "US", "latitude": 40.0, "longitude": None}
    assert map_shipping_address(half) == ShipTo(country="US")


def test_the_emulator_keeps_no_address_when_told() -> None:
    shop = make_shop()
    order = shop.emu.place_order([(SHOP_SKU, 1)], location_id=shop.location, shipping_address=None)
    assert order["shipping_address"] is None
    node = shop.emu.state.order(order["id"])
    assert node.shipping_address is None
