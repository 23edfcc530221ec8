"""Orders v0 polling: window, overlap, paging, items, mapping, bookmark (respx, fake clock)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import respx

from connectors.amazon import mapper
from omnibridge.errors import FatalConnectorError
from omnibridge.sdk.channel import OrderEvent, OrderEventKind, OrderLineEvent

from .test_client_support import ENDPOINT, MARKETPLACE, NOW, connector, lwa_route


@pytest.fixture
def amazon() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=ENDPOINT, assert_all_called=False) as router:
        lwa_route(router)
        yield router


def order(order_id: str, status: str, updated: str, **extra: Any) -> dict[str, Any]:
    return {
        "AmazonOrderId": order_id,
        "PurchaseDate": "2026-03-02T10:00:00Z",
        "LastUpdateDate": updated,
        "OrderStatus": status,
        "FulfillmentChannel": "MFN",
        "MarketplaceId": MARKETPLACE,
        "OrderTotal": {"CurrencyCode": "USD", "Amount": "39.98"},
        **extra,
    }


def item(item_id: str, sku: str, quantity: int, amount: str = "39.98") -> dict[str, Any]:
    return {
        "ASIN": "B000TEST01",
        "SellerSKU": sku,
        "OrderItemId": item_id,
        "QuantityOrdered": quantity,
        "ItemPrice": {"CurrencyCode": "USD", "Amount": amount},
    }


def items_route(router: respx.MockRouter, by_order: dict[str, list[dict[str, Any]]]) -> respx.Route:
    def answer(request: httpx.Request) -> httpx.Response:
        order_id = request.url.path.split("/")[-2]
        return httpx.Response(200, json={"payload": {"AmazonOrderId": order_id, "OrderItems": by_order[order_id]}})

    return router.get(url__regex=r"/orders/v0/orders/[^/]+/orderItems").mock(side_effect=answer)


@pytest.mark.anyio
async def test_first_poll_looks_back_pages_and_maps_statuses(amazon: respx.MockRouter) -> None:
    pages = [
        {
            "payload": {
                "Orders": [
                    order("111-0000001-0000001", "Unshipped", "2026-03-02T11:00:00Z"),
                    order("111-0000002-0000002", "Shipped", "2026-03-02T11:10:00Z"),
                ],
                "NextToken": "page-2",
                "LastUpdatedBefore": "2026-03-02T11:58:00Z",
            }
        },
        {"payload": {"Orders": [order("111-0000003-0000003", "Canceled", "2026-03-02T11:20:00Z")]}},
    ]
    orders = amazon.get("/orders/v0/orders").mock(side_effect=[httpx.Response(200, json=p) for p in pages])
    items_route(
        amazon,
        {
            "111-0000001-0000001": [item("OI-1", "SKU-A", 2), item("OI-2", "SKU-B", 1, "5.00")],
            "111-0000002-0000002": [item("OI-3", "SKU-A", 1, "19.99")],
            "111-0000003-0000003": [item("OI-4", "SKU-B", 0, "0.00")],
        },
    )
    client, _ = connector(order_lookback_minutes=120)
    try:
        result = await client.pull_events(None)
    finally:
        await client.aclose()
    first, second = orders.calls[0].request.url.params, orders.calls[1].request.url.params
    assert dict(first) == {
        "MarketplaceIds": MARKETPLACE,
        "LastUpdatedAfter": mapper.format_time(NOW - timedelta(minutes=120)),
        "FulfillmentChannels": "MFN",
    }
    assert dict(second) == {"MarketplaceIds": MARKETPLACE, "NextToken": "page-2"}
    events = [e for e in result.events if isinstance(e, OrderEvent)]
    assert [(e.ref, e.kind) for e in events] == [
        ("111-0000001-0000001", OrderEventKind.PLACED),
        ("111-0000002-0000002", OrderEventKind.COMPLETED),
        ("111-0000003-0000003", OrderEventKind.CANCELLED),
    ]
    assert events[0].lines == (
        OrderLineEvent("OI-1", "SKU-A", 2, "DEFAULT", "19.99"),
        OrderLineEvent("OI-2", "SKU-B", 1, "DEFAULT", "5.00"),
    )
    assert events[0].total == "39.98"
    assert events[0].currency == "USD"
    assert events[0].occurred_at == mapper.parse_time("2026-03-02T11:00:00Z")
    assert result.messages == []
    # The window Amazon answered for ended at LastUpdatedBefore: that is the new bookmark.
    assert json.loads(result.bookmark or "")["orders"] == "2026-03-02T11:58:00Z"


@pytest.mark.anyio
async def test_next_poll_overlaps_and_the_bookmark_never_moves_back(amazon: respx.MockRouter) -> None:
    orders = amazon.get("/orders/v0/orders").respond(
        json={"payload": {"Orders": [], "LastUpdatedBefore": "2026-03-02T09:00:00Z"}}
    )
    client, _ = connector(poll_overlap_seconds=300)
    bookmark = json.dumps({"v": 1, "orders": "2026-03-02T11:58:00Z"})
    try:
        result = await client.pull_events(bookmark)
    finally:
        await client.aclose()
    assert orders.calls.last.request.url.params["LastUpdatedAfter"] == "2026-03-02T11:53:00Z"
    assert json.loads(result.bookmark or "")["orders"] == "2026-03-02T11:58:00Z"


@pytest.mark.anyio
async def test_items_of_an_unchanged_order_are_fetched_once(amazon: respx.MockRouter) -> None:
    same = order("111-0000001-0000001", "Unshipped", "2026-03-02T11:00:00Z")
    amazon.get("/orders/v0/orders").respond(
        json={"payload": {"Orders": [same], "LastUpdatedBefore": "2026-03-02T11:58:00Z"}}
    )
    items = items_route(amazon, {"111-0000001-0000001": [item("OI-1", "SKU-A", 2)]})
    client, _ = connector()
    try:
        first = await client.pull_events(None)
        second = await client.pull_events(first.bookmark)
    finally:
        await client.aclose()
    assert items.call_count == 1
    assert first.events == second.events


@pytest.mark.anyio
async def test_order_items_follow_next_token(amazon: respx.MockRouter) -> None:
    amazon.get("/orders/v0/orders").respond(
        json={"payload": {"Orders": [order("111-1", "Pending", "2026-03-02T11:00:00Z")]}}
    )
    items = amazon.get("/orders/v0/orders/111-1/orderItems").mock(
        side_effect=[
            httpx.Response(200, json={"payload": {"OrderItems": [item("OI-1", "SKU-A", 1)], "NextToken": "n2"}}),
            httpx.Response(200, json={"payload": {"OrderItems": [item("OI-2", "SKU-B", 3)]}}),
        ]
    )
    client, _ = connector()
    try:
        result = await client.pull_events(None)
    finally:
        await client.aclose()
    assert items.calls[1].request.url.params["NextToken"] == "n2"
    [event] = result.events
    assert isinstance(event, OrderEvent)
    assert [(line.line_ref, line.quantity) for line in event.lines] == [("OI-1", 1), ("OI-2", 3)]
    # Without LastUpdatedBefore the latest LastUpdateDate seen is the bookmark.
    assert json.loads(result.bookmark or "")["orders"] == "2026-03-02T11:00:00Z"


@pytest.mark.anyio
async def test_unknown_status_and_fba_orders_are_reported_not_fetched(amazon: respx.MockRouter) -> None:
    amazon.get("/orders/v0/orders").respond(
        json={
            "payload": {
                "Orders": [
                    order("111-9", "Teleported", "2026-03-02T11:00:00Z"),
                    order("111-8", "Unshipped", "2026-03-02T11:00:00Z", FulfillmentChannel="AFN"),
                ],
                "LastUpdatedBefore": "2026-03-02T11:58:00Z",
            }
        }
    )
    items = items_route(amazon, {})
    client, _ = connector()
    try:
        result = await client.pull_events(None)
    finally:
        await client.aclose()
    assert result.events == []
    assert items.call_count == 0
    assert [(m.record_id, m.field_path) for m in result.messages] == [
        ("111-9", "OrderStatus"),
        ("111-8", "FulfillmentChannel"),
    ]


@pytest.mark.anyio
async def test_unreadable_bookmark_is_fatal() -> None:
    client, _ = connector()
    try:
        with pytest.raises(FatalConnectorError, match="unreadable bookmark"):
            await client.pull_events("yesterday")
    finally:
        await client.aclose()


def test_status_mapping_covers_every_orders_v0_status() -> None:
    statuses = [
        "PendingAvailability",
        "Pending",
        "Unshipped",
        "PartiallyShipped",
        "Shipped",
        "Canceled",
        "Unfulfillable",
        "InvoiceUnconfirmed",
    ]
    assert set(mapper.ORDER_KINDS) == set(statuses)
    assert mapper.ORDER_KINDS["PartiallyShipped"] is OrderEventKind.PLACED
    assert mapper.ORDER_KINDS["Shipped"] is OrderEventKind.COMPLETED
    assert mapper.ORDER_KINDS["Canceled"] is OrderEventKind.CANCELLED
