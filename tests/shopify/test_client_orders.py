"""pull_events: the orders query, paging, full re-reads, bookmarks and mapping into channel events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.shopify import queries
from connectors.shopify.client import ShopifyClient
from omnibridge.sdk import FatalConnectorError, MapLevel
from omnibridge.sdk.channel import (
    OrderEvent,
    OrderEventKind,
    OrderLineEvent,
    PullResult,
    RefundEvent,
    RefundLineEvent,
    RestockType,
)

from .client_support import STORE, WAREHOUSE, ScriptedShop, data, fixture, run_client

EMPTY_PAGE = data({"orders": {"nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}})


def pull(shop: ScriptedShop, bookmark: str | None, **options: Any) -> PullResult:
    async def call(client: ShopifyClient) -> PullResult:
        return await client.pull_events(bookmark)

    result, _ = run_client(shop.version, call, shop, **options)
    return result


def test_pull_events_queries_since_the_bookmark_minus_the_overlap_and_maps_orders() -> None:
    shop = ScriptedShop("2025-01")
    shop.reply("OrdersSince", fixture("orders_page.json"))
    shop.reply("Order", fixture("order_refunded.json"))

    result = pull(shop, "2026-11-23T18:00:00Z")

    (sent,) = shop.of("OrdersSince")
    assert sent.query == queries.ORDERS_QUERY
    assert "sortKey: UPDATED_AT" in sent.query
    assert sent.variables == {
        "first": queries.ORDERS_PAGE_SIZE,
        "after": None,
        "query": "updated_at:>='2026-11-23T17:55:00Z'",
    }
    # Order #1044 has a refund: the lean page only carries its id, so the order is read whole.
    (full,) = shop.of("Order")
    assert full.query == queries.ORDER_QUERY
    assert full.variables == {"id": "gid://shopify/Order/5829485936691"}

    at = datetime.fromisoformat
    assert result.events == [
        OrderEvent(
            "gid://shopify/Order/5829485871155",
            OrderEventKind.PLACED,
            at("2026-11-23T17:58:40+00:00"),
            (
                OrderLineEvent("gid://shopify/LineItem/14820539187251", "TEE-BLK-M", 2, WAREHOUSE),
                OrderLineEvent("gid://shopify/LineItem/14820539220019", "MUG-WHT", 1, STORE),
            ),
            name="#1042",
            currency="EUR",
            total="64.90",
            status="open",
        ),
        OrderEvent(
            "gid://shopify/Order/5829485903923",
            OrderEventKind.PLACED,
            at("2026-11-23T18:05:12+00:00"),
            (OrderLineEvent("gid://shopify/LineItem/14820539252787", "TEE-BLK-M", 1, WAREHOUSE),),
            name="#1043",
            currency="EUR",
            total="19.90",
            status="open",
        ),
        OrderEvent(
            "gid://shopify/Order/5829485903923",
            OrderEventKind.CANCELLED,
            at("2026-11-23T18:31:08+00:00"),
            (OrderLineEvent("gid://shopify/LineItem/14820539252787", "TEE-BLK-M", 1, WAREHOUSE),),
            name="#1043",
            currency="EUR",
            total="19.90",
            status="cancelled",
        ),
        OrderEvent(
            "gid://shopify/Order/5829485936691",
            OrderEventKind.PLACED,
            at("2026-11-23T18:10:00+00:00"),
            (OrderLineEvent("gid://shopify/LineItem/14820539285555", "TEE-BLK-M", 2, WAREHOUSE),),
            name="#1044",
            currency="EUR",
            total="39.80",
            status="open",
        ),
        RefundEvent(
            "gid://shopify/Refund/998877665544",
            "gid://shopify/Order/5829485936691",
            at("2026-11-23T18:45:29+00:00"),
            (RefundLineEvent("gid://shopify/LineItem/14820539285555", "TEE-BLK-M", 1, RestockType.RETURN, STORE),),
        ),
    ]
    assert result.bookmark == "2026-11-23T18:45:30Z"
    assert result.messages == []


def test_first_pull_looks_back_the_configured_minutes() -> None:
    shop = ScriptedShop("2026-04")
    shop.reply("OrdersSince", EMPTY_PAGE)

    result = pull(shop, None)

    assert shop.of("OrdersSince")[0].variables["query"] == "updated_at:>='2026-11-22T19:00:00Z'"
    assert result.events == []
    assert result.bookmark == "2026-11-22T19:00:00Z"


def test_bookmark_never_moves_backwards() -> None:
    shop = ScriptedShop("2025-01")
    shop.reply("OrdersSince", fixture("orders_page.json"))
    shop.reply("Order", fixture("order_refunded.json"))

    result = pull(shop, "2026-11-23T18:48:00+00:00")

    # The overlap window returned orders updated before the bookmark; the bookmark stays where it was.
    assert result.bookmark == "2026-11-23T18:48:00Z"
    assert shop.of("OrdersSince")[0].variables["query"] == "updated_at:>='2026-11-23T18:43:00Z'"


def test_pull_follows_the_cursor_and_skips_a_bad_order_with_a_message() -> None:
    page = fixture("orders_page.json")
    nodes = page["data"]["orders"]["nodes"]
    first_page = data({"orders": {"nodes": [nodes[0]], "pageInfo": {"hasNextPage": True, "endCursor": "c1"}}})
    broken = dict(nodes[1], createdAt=None)
    second_page = data({"orders": {"nodes": [broken], "pageInfo": {"hasNextPage": False, "endCursor": "c2"}}})
    shop = ScriptedShop("2025-01")
    shop.reply("OrdersSince", first_page, second_page)

    result = pull(shop, "2026-11-23T18:00:00Z")

    assert [sent.variables["after"] for sent in shop.of("OrdersSince")] == [None, "c1"]
    assert len(result.events) == 1
    assert [e.ref for e in result.events if isinstance(e, OrderEvent)] == ["gid://shopify/Order/5829485871155"]
    (message,) = result.messages
    assert message.level is MapLevel.ERROR
    assert message.record_id == "gid://shopify/Order/5829485903923"
    assert "createdAt" in message.message
    # The skipped order was still seen: the bookmark covers it (the engine dead-letters it from the messages).
    assert result.bookmark == "2026-11-23T18:31:09Z"


def test_a_bookmark_that_is_not_a_time_is_fatal() -> None:
    with pytest.raises(FatalConnectorError, match="bookmark"):
        pull(ScriptedShop("2025-01"), "yesterday")


def test_iso_bookmark_is_utc() -> None:
    shop = ScriptedShop("2025-01")
    shop.reply("OrdersSince", EMPTY_PAGE)

    result = pull(shop, "2026-11-23T20:00:00+02:00")

    assert result.bookmark == "2026-11-23T18:00:00Z"
    assert datetime.fromisoformat(result.bookmark.replace("Z", "+00:00")) == datetime(2026, 11, 23, 18, tzinfo=UTC)
