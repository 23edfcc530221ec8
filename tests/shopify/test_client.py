"""ShopifyClient transport, locations and levels: request building, paging, throttling and errors."""

from __future__ import annotations

import httpx
import pytest

from connectors.shopify import connector, create_client, queries
from connectors.shopify.client import READ_MAX_COST, ShopifyClient, is_throttled
from omnibridge.sdk import Capability, ConnectorKind, FatalConnectorError, HttpFatalError, HttpRetriableError
from omnibridge.sdk.channel import ChannelConnector, ChannelLocation, StockLevel

from .client_support import NOW, TOKEN, FakeTime, ScriptedShop, data, fixture, run_client, settings


def test_spec_declares_the_connector() -> None:
    assert connector.id == "shopify"
    assert connector.kind is ConnectorKind.STOREFRONT
    assert connector.capabilities == {
        Capability.INVENTORY_READ,
        Capability.INVENTORY_WRITE,
        Capability.INVENTORY_COMPARE_AND_SET,
        Capability.ORDERS_READ,
        Capability.ORDERS_CANCEL,
        Capability.FULFILLMENT_WRITE,
        Capability.RETURNS_WRITE,
        Capability.WEBHOOKS,
        Capability.LISTINGS_WRITE,
        Capability.PRICES_WRITE,
    }
    assert connector.settings_model is type(settings())


def test_factory_builds_a_channel_connector() -> None:
    client = create_client(settings())
    assert isinstance(client, ShopifyClient)
    assert isinstance(client, ChannelConnector)
    assert client.endpoint == "/admin/api/2026-04/graphql.json"


def test_settings_validate_the_api_version() -> None:
    assert settings("2025-01").api_version == "2025-01"
    for bad in ("2026-02", "2026-4", "latest", "unstable"):
        with pytest.raises(ValueError, match="api_version"):
            settings(bad)
    with pytest.raises(ValueError, match="extra"):
        settings(shop="demo")
    assert TOKEN not in repr(settings())


def test_list_locations_pages_with_the_cursor_and_sends_the_token() -> None:
    shop = ScriptedShop("2025-01")
    shop.reply("Locations", fixture("locations_page1.json"), fixture("locations_page2.json"))

    locations, _ = run_client("2025-01", lambda c: c.list_locations(), shop)

    assert locations == [
        ChannelLocation("gid://shopify/Location/64224165939", "Main Warehouse", True),
        ChannelLocation("gid://shopify/Location/64224198707", "Downtown Store", True),
        ChannelLocation("gid://shopify/Location/64224231475", "Old Pop-up", False),
    ]
    first, second = shop.of("Locations")
    assert first.query == queries.LOCATIONS_QUERY
    assert first.variables == {"first": 250, "after": None}
    assert second.variables["after"] == fixture("locations_page1.json")["data"]["locations"]["pageInfo"]["endCursor"]
    assert first.headers["X-Shopify-Access-Token"] == TOKEN
    assert first.headers["content-type"] == "application/json"


def test_read_levels_searches_skus_exactly_and_pages_extra_levels() -> None:
    shop = ScriptedShop("2026-04")
    shop.reply("InventoryItemsBySku", fixture("inventory_items.json"))
    shop.reply("InventoryItem", fixture("inventory_item_more_levels.json"))

    async def call(client: ShopifyClient) -> tuple[list[StockLevel], dict[str, str]]:
        return await client.read_levels(["TEE-BLK-M", "MUG-WHT", "NOPE's", "TEE-BLK-M"]), client._item_by_sku

    (levels, cache), _ = run_client("2026-04", call, shop)

    warehouse, store = "gid://shopify/Location/64224165939", "gid://shopify/Location/64224198707"
    # TEE-BLK-M-2PACK matched Shopify's prefix search but is not one of the SKUs asked for.
    assert levels == [
        StockLevel("TEE-BLK-M", warehouse, 12, NOW),
        StockLevel("TEE-BLK-M", store, 3, NOW),
        StockLevel("MUG-WHT", warehouse, 0, NOW),
        StockLevel("MUG-WHT", store, 7, NOW),
    ]
    assert cache == {
        "TEE-BLK-M": "gid://shopify/InventoryItem/43729076",
        "MUG-WHT": "gid://shopify/InventoryItem/43729080",
    }
    search = shop.of("InventoryItemsBySku")[0]
    assert search.query == queries.INVENTORY_ITEMS_QUERY
    assert search.variables == {
        "first": 3,  # as many items as SKUs searched: the requested cost stays proportional
        "after": None,
        "query": "sku:'TEE-BLK-M' OR sku:'MUG-WHT' OR sku:'NOPE\\'s'",
        "levels": queries.LEVELS_PER_ITEM,
        "levelsAfter": None,
    }
    more = shop.of("InventoryItem")[0]
    assert more.variables == {
        "id": "gid://shopify/InventoryItem/43729080",
        "levels": queries.LEVELS_PER_ITEM,
        "levelsAfter": "eyJsYXN0X2lkIjo2NDIyNDE2NTkzOX0=",
    }


def test_read_levels_chunks_skus_to_stay_under_the_read_cost_cap() -> None:
    size = queries.inventory_items_page_size(queries.LEVELS_PER_ITEM, READ_MAX_COST)
    skus = [f"SKU-{n}" for n in range(size + 1)]
    empty = data({"inventoryItems": {"nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}})
    shop = ScriptedShop("2025-01")
    shop.reply("InventoryItemsBySku", empty, empty)

    levels, _ = run_client("2025-01", lambda c: c.read_levels(skus), shop)

    assert levels == []
    calls = shop.of("InventoryItemsBySku")
    assert [c.variables["query"].count("sku:") for c in calls] == [size, 1]
    for sent in calls:
        assert queries.estimate_cost(sent.query, sent.variables) <= READ_MAX_COST


def test_every_query_stays_under_the_cost_cap() -> None:
    assert queries.estimate_cost(queries.ORDERS_QUERY, {"first": queries.ORDERS_PAGE_SIZE}) <= 1000
    assert queries.estimate_cost(queries.ORDER_QUERY, {}) <= 1000
    assert queries.estimate_cost(queries.LOCATIONS_QUERY, {"first": 250}) == 252
    assert queries.estimate_cost(queries.set_quantities_mutation("2025-01", None), {}) == 10


def test_throttled_answer_is_retried_after_the_bucket_refills() -> None:
    shop = ScriptedShop("2025-01")
    shop.reply("Locations", fixture("throttled.json"), fixture("locations_page2.json"))
    time = FakeTime()

    locations, _ = run_client("2025-01", lambda c: c.list_locations(), shop, time)

    assert [loc.name for loc in locations] == ["Old Pop-up"]
    assert len(shop.of("Locations")) == 2
    # Throttled with 52 of 1000 points left at 50/s; the query requests 252: wait (252 - 52) / 50 = 4 s in all
    # (the 0.1 s retry backoff refills 5 points, the bucket waits for the rest).
    assert sum(time.sleeps) == pytest.approx((252 - 52) / 50)


def test_bucket_waits_before_a_query_it_cannot_pay() -> None:
    low = fixture("locations_page1.json")
    low["extensions"]["cost"]["throttleStatus"] = {"maximumAvailable": 1000, "currentlyAvailable": 2, "restoreRate": 50}
    shop = ScriptedShop("2025-01")
    shop.reply("Locations", low, fixture("locations_page2.json"))
    time = FakeTime()

    run_client("2025-01", lambda c: c.list_locations(), shop, time)

    assert time.sleeps == [pytest.approx((252 - 2) / 50)]


def test_is_throttled_only_flags_the_throttled_code() -> None:
    assert is_throttled(httpx.Response(200, json=fixture("throttled.json")))
    assert not is_throttled(httpx.Response(200, json=fixture("access_denied.json")))
    assert not is_throttled(httpx.Response(200, json=fixture("locations_page1.json")))
    assert not is_throttled(httpx.Response(200, text="<html>"))


def test_top_level_errors_are_fatal_and_name_operation_and_message() -> None:
    shop = ScriptedShop("2025-01")
    shop.reply("Locations", fixture("access_denied.json"))

    with pytest.raises(FatalConnectorError) as caught:
        run_client("2025-01", lambda c: c.list_locations(), shop)

    text = str(caught.value)
    assert "list_locations" in text
    assert "ACCESS_DENIED" in text
    assert "read_locations" in text


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures_are_fatal_without_retry(status: int) -> None:
    shop = ScriptedShop("2025-01")
    shop.reply("Locations", httpx.Response(status, json={"errors": "[API] Invalid API key or access token"}))

    with pytest.raises(HttpFatalError) as caught:
        run_client("2025-01", lambda c: c.list_locations(), shop)

    assert caught.value.status_code == status
    assert len(shop.sent) == 1
    assert TOKEN not in str(caught.value)


def test_server_errors_on_reads_are_retried_then_raised_as_retriable() -> None:
    shop = ScriptedShop("2025-01")
    shop.reply("Locations", httpx.Response(502), httpx.Response(503), fixture("locations_page2.json"))

    locations, _ = run_client("2025-01", lambda c: c.list_locations(), shop)
    assert len(locations) == 1

    failing = ScriptedShop("2025-01")
    failing.reply("Locations", *[httpx.Response(500) for _ in range(4)])
    with pytest.raises(HttpRetriableError):
        run_client("2025-01", lambda c: c.list_locations(), failing)
    assert len(failing.sent) == 4


def test_emulator_shop_url_keeps_its_port() -> None:
    client = ShopifyClient(settings(shop_url="http://127.0.0.1:8801"))
    assert str(client.http._client.base_url).startswith("http://127.0.0.1:8801")
