"""CloverConnector against the Clover emulator in process (ASGI): the channel and listing contracts end to end."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.clover.client import CloverConnector
from connectors.clover.webhooks import CloverVerificationRequest
from omnibridge.sdk import FatalConnectorError, HttpFatalError, HttpRetriableError, SkippableRecordError, WebhookError
from omnibridge.sdk.channel import (
    ChannelConnector,
    OrderEvent,
    OrderEventKind,
    PushStatus,
    RefundEvent,
    StockChangeEvent,
    StockObservedEvent,
    StockTarget,
)
from omnibridge.sdk.emulator import RequestRecorder, read_recorded
from omnibridge.sdk.listings import ListingUpdate, ListingWriter

from .world import AUTH_CODE, MERCHANT, World


def target(sku: str, quantity: int, location: str = MERCHANT) -> StockTarget:
    return StockTarget(sku, location, quantity)


@pytest.mark.anyio
async def test_one_location_and_levels_rounded_down() -> None:
    world = World()
    world.emu.add_item("TEE-1", "Tee", 2500, 10)
    world.emu.add_item(None, "Cheese", 900, 4.7, code="CHEESE")
    world.emu.add_item("UNTRACKED", "Gift wrap", 100, None)
    client = world.connector()
    assert isinstance(client, ChannelConnector)
    assert isinstance(client, ListingWriter)
    locations = await client.list_locations()
    assert [(loc.external_id, loc.name) for loc in locations] == [(MERCHANT, "omnibridge Clover emulator")]
    levels = await client.read_levels(["TEE-1", "CHEESE", "UNTRACKED", "MISSING", "TEE-1"])
    assert sorted((lv.sku, lv.location_ref, lv.available) for lv in levels) == [
        ("CHEESE", MERCHANT, 4),
        ("TEE-1", MERCHANT, 10),
        ("UNTRACKED", MERCHANT, 0),
    ]
    assert world.emu.calls["GET /items"] == 6  # sku filter each; code filter for CHEESE and MISSING
    await client.aclose()


@pytest.mark.anyio
async def test_many_skus_page_through_the_catalog() -> None:
    world = World()
    for n in range(12):
        world.emu.add_item(f"SKU-{n:02d}", f"Item {n}", 100, n)
    client = world.connector()
    client.items_page_size = 5
    levels = await client.read_levels([f"SKU-{n:02d}" for n in range(0, 12, 2)])
    assert sorted((lv.sku, lv.available) for lv in levels) == [(f"SKU-{n:02d}", n) for n in range(0, 12, 2)]
    assert world.emu.calls["GET /items"] == 3  # 5 + 5 + 2
    await client.aclose()


@pytest.mark.anyio
async def test_push_sets_stock_absolutely_and_reports_each_target() -> None:
    world = World()
    world.emu.add_item("TEE-1", "Tee", 2500, 10)
    world.emu.add_item("MUG-1", "Mug", 1200, 2.5)
    client = world.connector()
    targets = [
        target("TEE-1", 4),
        target("NOPE", 1),
        target("MUG-1", 7),
        target("TEE-1", 3, "ELSEWHERE0001"),
        target("MUG-1", -1),
    ]
    results = await client.push_levels(targets)
    assert [(r.target, r.status, r.shown) for r in results] == [
        (targets[0], PushStatus.APPLIED, 4),
        (targets[1], PushStatus.UNKNOWN_SKU, None),
        (targets[2], PushStatus.APPLIED, 7),
        (targets[3], PushStatus.FAILED, None),
        (targets[4], PushStatus.FAILED, None),
    ]
    assert "one, the merchant" in results[3].message
    assert (world.emu.quantity("TEE-1"), world.emu.quantity("MUG-1")) == (4, 7)
    again = await client.push_levels([target("TEE-1", 4)])  # absolute: repeating changes nothing more
    assert again[0].status is PushStatus.APPLIED
    assert world.emu.quantity("TEE-1") == 4
    await client.aclose()


@pytest.mark.anyio
async def test_an_item_deleted_after_it_was_cached_is_unknown_sku() -> None:
    world = World()
    item_id = world.emu.add_item("TEE-1", "Tee", 2500, 10)
    client = world.connector()
    await client.read_levels(["TEE-1"])
    del world.emu.state.items[item_id]
    result = (await client.push_levels([target("TEE-1", 5)]))[0]
    assert result.status is PushStatus.UNKNOWN_SKU
    assert "no longer exists" in result.message
    await client.aclose()


@pytest.mark.anyio
async def test_a_lost_response_is_retried_and_the_absolute_write_lands_once() -> None:
    world = World()
    world.emu.add_item("TEE-1", "Tee", 2500, 10)
    client = world.connector()
    await client.read_levels(["TEE-1"])
    world.emu.lose_next_response(1)
    result = (await client.push_levels([target("TEE-1", 6)]))[0]
    assert (result.status, result.shown) == (PushStatus.APPLIED, 6)
    assert world.emu.calls["POST /item_stocks/{itemId}"] == 2
    assert world.emu.quantity("TEE-1") == 6
    await client.aclose()


@pytest.mark.anyio
async def test_a_write_failing_after_another_landed_is_unknown_and_one_failing_alone_raises() -> None:
    world = World()
    world.emu.add_item("TEE-1", "Tee", 2500, 10)
    world.emu.add_item("MUG-1", "Mug", 1200, 3)
    client = world.connector(max_concurrent=1)  # one write at a time: the tee's goes first
    await client.read_levels(["TEE-1", "MUG-1"])
    world.emu.fail_next(503, 4)  # every attempt of the tee's write

    results = await client.push_levels([target("TEE-1", 4), target("MUG-1", 7)])

    assert [r.status for r in results] == [PushStatus.UNKNOWN, PushStatus.APPLIED]
    assert "503" in results[0].message
    assert world.emu.quantity("MUG-1") == 7
    world.emu.fail_next(503, 4)
    with pytest.raises(HttpRetriableError):
        await client.push_levels([target("TEE-1", 4)])
    await client.aclose()


@pytest.mark.anyio
async def test_listings_set_name_and_price_in_cents() -> None:
    world = World()
    world.emu.add_item("TEE-1", "Tee", 2500, 10)
    client = world.connector()
    updates = [
        ListingUpdate("TEE-1", title="Organic tee", price=Decimal("27.50"), currency="USD"),
        ListingUpdate("NOPE", title="Ghost"),
        ListingUpdate("TEE-1", price=Decimal("9.999"), currency="USD"),
        ListingUpdate("TEE-1", price=Decimal("10"), currency="EUR"),
    ]
    results = await client.push_listings(updates)
    assert [r.status for r in results] == [
        PushStatus.APPLIED,
        PushStatus.UNKNOWN_SKU,
        PushStatus.FAILED,
        PushStatus.FAILED,
    ]
    assert "more than 2 decimals, the precision of USD" in results[2].message
    assert "sells in USD" in results[3].message
    assert world.emu.listing("TEE-1") == ("Organic tee", 2750)
    await client.aclose()


@pytest.mark.anyio
async def test_polling_reports_paid_orders_once_per_window_and_the_bookmark_never_moves_back() -> None:
    world = World()
    world.emu.add_item("TEE-1", "Tee", 2500, 10)
    client = world.connector()
    client.orders_page_size = 2
    first = await client.pull_events(None)
    assert first.events == []
    world.wall.advance(30)
    sales = [world.emu.pos_sale([("TEE-1", 1)]) for _ in range(3)]
    world.emu.open_order([("TEE-1", 1)])  # unpaid: Clover has not taken stock
    world.wall.advance(30)
    second = await client.pull_events(first.bookmark)
    orders = [e for e in second.events if isinstance(e, OrderEvent)]
    assert sorted(o.ref for o in orders) == sorted(s["id"] for s in sales)
    assert all(o.kind is OrderEventKind.COMPLETED and o.lines[0].sku == "TEE-1" for o in orders)
    assert world.emu.calls["GET /orders"] == 1 + 3  # first poll; then 4 orders in pages of 2 and an empty page
    assert not any(isinstance(e, StockChangeEvent) for e in second.events)  # Clover has no change history

    # nothing new: the overlapping window may repeat orders, the bookmark stays or moves forward
    world.wall.advance(600)
    third = await client.pull_events(second.bookmark)
    assert {e.ref for e in third.events if isinstance(e, OrderEvent)} <= {s["id"] for s in sales}
    marks = [json.loads(r.bookmark or "null")["orders_ms"] for r in (first, second, third)]
    assert marks == sorted(marks)

    # a refund later changes modifiedTime: that order (only) comes back, with a refund for the line
    world.wall.advance(30)
    order = sales[0]
    line = order["lineItems"]["elements"][0]["id"]
    world.emu.refund_line(order["id"], line)
    fourth = await client.pull_events(third.bookmark)
    refunds = [e for e in fourth.events if isinstance(e, RefundEvent)]
    assert [(r.ref, r.order_ref) for r in refunds] == [(f"{order['id']}:{line}", order["id"])]
    assert [e.ref for e in fourth.events if isinstance(e, OrderEvent)] == [order["id"]]
    await client.aclose()


@pytest.mark.anyio
async def test_unreadable_bookmark_is_a_clear_error() -> None:
    client = World().connector()
    with pytest.raises(FatalConnectorError, match="unreadable bookmark 'yesterday'"):
        await client.pull_events("yesterday")
    await client.aclose()


@pytest.mark.anyio
async def test_webhook_is_verified_and_calls_back_for_the_order_not_the_items_it_took() -> None:
    """A sale's message names its order and the items it took: the order says what happened to them, so only the
    order is read (one request a sale of Clover's 16 a second); an item named alone is read."""
    world = World()
    world.emu.add_item("TEE-1", "Tee", 2500, 10)
    client = world.connector()
    order = world.emu.pos_sale([("TEE-1", 2)])
    await world.emu.webhooks.drain()
    headers, raw = world.received[-1]
    delivery = client.verify_webhook(raw, headers, "https://hooks.example.com/webhooks/clover")
    events = await client.webhook_events(delivery)
    orders = [e for e in events if isinstance(e, OrderEvent)]
    assert [(o.ref, [(ln.sku, ln.quantity) for ln in o.lines]) for o in orders] == [(order["id"], [("TEE-1", 2)])]
    assert events == orders
    assert world.emu.calls["GET /orders/{orderId}"] == 1
    world.emu.dashboard_stock("TEE-1", 5)  # staff count the shelf: the item alone is named, and read
    await world.emu.webhooks.drain()
    headers, raw = world.received[-1]
    observed = await client.webhook_events(client.verify_webhook(raw, headers, ""))
    assert [(s.sku, s.location_ref, s.available) for s in observed if isinstance(s, StockObservedEvent)] == [
        ("TEE-1", MERCHANT, 5)
    ]

    forged = {**headers, "x-clover-auth": "guess"}
    with pytest.raises(WebhookError, match="does not match"):
        client.verify_webhook(raw, forged, "")
    unsigned = {k: v for k, v in headers.items() if k != "x-clover-auth"}
    with pytest.raises(WebhookError, match="missing X-Clover-Auth"):
        client.verify_webhook(raw, unsigned, "")
    with pytest.raises(CloverVerificationRequest):
        client.verify_webhook(b'{"verificationCode":"abc-123"}', {}, "")
    await client.aclose()


@pytest.mark.anyio
async def test_webhook_for_an_unpaid_or_vanished_order() -> None:
    world = World()
    world.emu.add_item("TEE-1", "Tee", 2500, 10)
    client = world.connector()
    world.emu.open_order([("TEE-1", 1)])
    await world.emu.webhooks.drain()
    headers, raw = world.received[-1]
    assert await client.webhook_events(client.verify_webhook(raw, headers, "")) == []
    body = {"appId": "A", "merchants": {MERCHANT: [{"objectId": "O:NOSUCHORDER00", "type": "UPDATE", "ts": 1}]}}
    ghost = client.verify_webhook(json.dumps(body).encode(), {"X-Clover-Auth": AUTH_CODE}, "")
    with pytest.raises(SkippableRecordError, match="order NOSUCHORDER00 not found on Clover"):
        await client.webhook_events(ghost)
    await client.aclose()


@pytest.mark.anyio
async def test_50_concurrent_reads_stay_within_clovers_limits() -> None:
    world = World(latency_ms=(1.0, 1.0))
    world.emu.add_item("TEE-1", "Tee", 2500, 10)
    client = world.connector()
    results = await asyncio.gather(*(client.read_levels(["TEE-1"]) for _ in range(50)))
    assert all(r[0].available == 10 for r in results)
    assert world.emu.refused == 0
    assert world.emu.api_requests == 50
    assert client.bucket.waits > 0  # the token bucket, not luck, kept it under 16/s
    await client.aclose()


@pytest.mark.anyio
async def test_a_client_ignoring_the_concurrency_limit_would_be_refused() -> None:
    world = World(latency_ms=(1.0, 1.0))
    world.emu.add_item("TEE-1", "Tee", 2500, 10)
    reckless: CloverConnector = world.connector(max_concurrent=20, requests_per_second=1000)
    await asyncio.gather(*(reckless.read_levels(["TEE-1"]) for _ in range(20)), return_exceptions=True)
    assert world.emu.refused > 0  # the emulator enforces what the client's semaphore protects against
    await reckless.aclose()


@pytest.mark.anyio
async def test_bad_token_and_persistent_outage_give_clear_errors() -> None:
    world = World()
    world.emu.add_item("TEE-1", "Tee", 2500, 10)
    client = world.connector(access_token="not-the-token")
    with pytest.raises(HttpFatalError, match="Clover rejected the access token") as info:
        await client.list_locations()
    assert info.value.status_code == 401
    await client.aclose()
    healthy = world.connector()
    world.emu.fail_next(503, 4)
    with pytest.raises(HttpRetriableError, match="HTTP 503"):
        await healthy.read_levels(["TEE-1"])
    await healthy.aclose()


@pytest.mark.anyio
async def test_a_sku_two_items_carry_is_neither_read_nor_written() -> None:
    world = World()
    world.emu.add_item("TEE-1", "Tee", 2500, 10)
    duplicate = world.emu.state.add_item("TEE-1", "Tee (copy)", 2500, 4)
    client = world.connector()
    assert await client.read_levels(["TEE-1"]) == []
    result = (await client.push_levels([target("TEE-1", 5)]))[0]
    assert (result.status, result.message) == (PushStatus.FAILED, "several Clover items carry this SKU")
    del world.emu.state.items[duplicate]  # the merchant fixes the catalog
    fixed = (await client.push_levels([target("TEE-1", 5)]))[0]
    assert fixed.status is PushStatus.APPLIED
    assert world.emu.quantity("TEE-1") == 5
    await client.aclose()


@pytest.mark.anyio
async def test_every_request_carries_the_bearer_token_and_a_user_agent(tmp_path: Path) -> None:
    world = World()
    world.emu.recorder = RequestRecorder("clover", tmp_path / "requests.jsonl")
    world.emu.add_item("TEE-1", "Tee", 2500, 10)
    client = world.connector()
    await client.list_locations()
    await client.push_levels([target("TEE-1", 2)])
    rows = read_recorded(tmp_path / "requests.jsonl", "clover")
    assert [(r["method"], r["headers"]["authorization"], r["headers"]["user-agent"]) for r in rows] == [
        ("GET", "***", "omnibridge-clover/0.1"),
        ("GET", "***", "omnibridge-clover/0.1"),
        ("POST", "***", "omnibridge-clover/0.1"),
    ]
    assert rows[-1]["body"] == {"quantity": 2}
    await client.aclose()


@pytest.mark.anyio
async def test_the_orders_of_messages_arriving_together_are_read_in_one_request() -> None:
    world = World()
    world.emu.add_item("TEE-1", "Tee", 2500, 100)
    client = world.connector()
    sold = [world.emu.pos_sale([("TEE-1", 1)])["id"] for _ in range(5)]
    await world.emu.webhooks.drain()
    deliveries = [client.verify_webhook(raw, headers, "") for headers, raw in world.received[-5:]]

    read = await asyncio.gather(*(client.webhook_events(delivery) for delivery in deliveries))

    assert sorted(e.ref for events in read for e in events if isinstance(e, OrderEvent)) == sorted(sold)
    assert world.emu.calls["GET /orders"] == 1
    assert world.emu.calls["GET /orders/{orderId}"] == 0
    await client.aclose()
