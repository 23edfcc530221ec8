"""The ShipBob connector against its emulator: every request it makes conforms to the official 1.0 document,
a duplicate reference is read back, refusals and failures are classified, pages are followed and the rate limit
is honoured."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.shipbob.client import PUSH_REFUSED, ShipBobConnector
from connectors.shipbob.emulator import ShipBobEmulator
from connectors.shipbob.emulator.inprocess import connect
from connectors.shipbob.emulator.openapi import validate_request
from omnibridge.errors import FatalConnectorError, RetriableConnectorError
from omnibridge.sdk.channel import (
    FulfilmentEvent,
    FulfilmentStatus,
    FulfilmentStatusEvent,
    PushStatus,
    StockChangeEvent,
    StockChangeKind,
    StockTarget,
)
from omnibridge.sdk.emulator import read_recorded

from .conftest import CENTRE, FakeTime, request

pytestmark = pytest.mark.anyio


async def test_every_request_the_connector_makes_conforms_to_the_spec(
    client: ShipBobConnector, emulator: ShipBobEmulator, recorded: Path
) -> None:
    await client.list_locations()
    await client.read_levels(["SKU-1"])
    await client.submit_fulfilment(request())
    await client.submit_fulfilment(request())  # the duplicate and its read-back
    emulator.ship("submit:a-1")
    await client.pull_events(None)
    delivery = emulator.webhooks.deliveries[-1]
    await client.webhook_events(client.verify_webhook(delivery.body, delivery.headers, "https://x.example/hook"))
    await client.check()
    rows = read_recorded(recorded, "shipbob")
    assert {(row["method"], row["path"]) for row in rows} >= {
        ("GET", "/1.0/fulfillmentCenter"),
        ("GET", "/1.0/product"),
        ("POST", "/1.0/order"),
        ("GET", "/1.0/order"),
        ("GET", "/1.0/order/100001"),
        ("GET", "/1.0/channel"),
    }
    for row in rows:
        query = {name: values[0] for name, values in row["query"].items()}
        assert validate_request(row["method"], row["path"], query, row["headers"], row["body"]) == [], row
    assert emulator.problems == []


async def test_submit_creates_the_order_at_the_chosen_centre_with_the_reference(
    client: ShipBobConnector, emulator: ShipBobEmulator
) -> None:
    submission = await client.submit_fulfilment(request(location="10"))
    assert submission.accepted
    assert not submission.duplicate
    order = emulator.state.orders[int(submission.provider_ref or 0)]
    assert order["reference_id"] == "submit:a-1"
    assert order["shipments"][0]["location"]["id"] == 10
    assert order["products"][0]["reference_id"] == "SKU-1"
    assert order["products"][0]["quantity"] == 2
    assert order["type"] == "DTC"
    assert order["shipping_method"] == "Standard"


async def test_a_duplicate_reference_is_read_back_not_created_twice(
    client: ShipBobConnector, emulator: ShipBobEmulator
) -> None:
    first = await client.submit_fulfilment(request())
    again = await client.submit_fulfilment(request())
    assert again.accepted
    assert again.duplicate
    assert again.provider_ref == first.provider_ref
    assert [o["reference_id"] for o in emulator.state.orders.values()] == ["submit:a-1"]


async def test_a_lost_answer_is_retried_and_resolved_by_reading_back(
    client: ShipBobConnector, emulator: ShipBobEmulator
) -> None:
    emulator.lose_next_response()
    submission = await client.submit_fulfilment(request())
    assert submission.accepted
    assert submission.duplicate
    assert len(emulator.state.orders) == 1


async def test_a_definite_refusal_is_not_accepted_and_carries_shipbobs_text(client: ShipBobConnector) -> None:
    refused = await client.submit_fulfilment(request(location="999"))
    assert not refused.accepted
    assert "Location 999 is not a fulfillment center" in refused.message


async def test_a_request_shipbob_could_not_take_is_refused_without_a_call(
    client: ShipBobConnector, emulator: ShipBobEmulator
) -> None:
    refused = await client.submit_fulfilment(request(location="Cicero"))
    assert not refused.accepted
    assert "not a ShipBob fulfilment centre id" in refused.message
    assert emulator.answered == 0


async def test_server_errors_raise_retriable_and_bad_tokens_fatal(
    client: ShipBobConnector, emulator: ShipBobEmulator
) -> None:
    emulator.fail_next(503, 10)
    with pytest.raises(RetriableConnectorError):
        await client.submit_fulfilment(request())
    emulator.fail_queue.clear()
    emulator.fail_next(401)
    with pytest.raises(FatalConnectorError):
        await client.submit_fulfilment(request())


async def test_read_levels_follows_next_page(emulator: ShipBobEmulator, fake_time: FakeTime) -> None:
    skus = [f"SKU-P{index}" for index in range(5)]
    for index, sku in enumerate(skus):
        emulator.set_stock(sku, CENTRE, index + 1)
    connector = connect(emulator, sleep=fake_time.sleep, clock=fake_time, page_size=2)
    levels = await connector.read_levels(skus)
    assert sorted((lv.sku, lv.available) for lv in levels) == [(sku, i + 1) for i, sku in enumerate(skus)]
    assert emulator.calls["GET /1.0/product"] == 3
    await connector.aclose()


async def test_read_levels_is_fulfillable_on_hand_less_committed(
    client: ShipBobConnector, emulator: ShipBobEmulator
) -> None:
    await client.submit_fulfilment(request(quantity=3))
    [level] = await client.read_levels(["SKU-1", "NO-SUCH-SKU"])
    assert (level.sku, level.location_ref, level.available) == ("SKU-1", str(CENTRE), 7)


async def test_push_levels_refuses_every_target(client: ShipBobConnector, emulator: ShipBobEmulator) -> None:
    targets = [StockTarget("SKU-1", str(CENTRE), 3), StockTarget("SKU-2", str(CENTRE), 1)]
    results = await client.push_levels(targets)
    assert [(r.target, r.status, r.message) for r in results] == [(t, PushStatus.FAILED, PUSH_REFUSED) for t in targets]
    assert emulator.answered == 0


async def test_pull_events_reports_shipments_and_cancellations_of_own_orders_only(
    client: ShipBobConnector, emulator: ShipBobEmulator
) -> None:
    await client.submit_fulfilment(request("submit:a-1"))
    await client.submit_fulfilment(request("submit:a-2"))
    foreign = emulator.state.create_order(
        {
            "reference_id": "shopify-app-7",
            "shipping_method": "Standard",
            "recipient": {"name": "X", "address": {"type": "MarkFor", "address1": "a", "city": "b", "country": "US"}},
            "products": [{"reference_id": "SKU-1", "quantity": 1}],
        },
        channel_id=2002,
    )
    emulator.ship("submit:a-1")
    emulator.ship(foreign["id"])
    emulator.cancel("submit:a-2")
    pulled = await client.pull_events(None)
    shipped = [e for e in pulled.events if isinstance(e, FulfilmentEvent)]
    cancelled = [e for e in pulled.events if isinstance(e, FulfilmentStatusEvent)]
    assert [(e.order_ref, e.location_ref, e.carrier) for e in shipped] == [("submit:a-1", str(CENTRE), "USPS")]
    assert shipped[0].tracking_number
    assert shipped[0].lines[0].line_ref == "shopify:1001:L1"
    assert [(e.reference, e.status) for e in cancelled] == [("submit:a-2", FulfilmentStatus.CANCELLED)]
    again = await client.pull_events(pulled.bookmark)
    assert {getattr(e, "ref", None) for e in again.events} <= {e.ref for e in shipped + cancelled}


async def test_the_client_never_exceeds_150_calls_a_minute(client: ShipBobConnector, emulator: ShipBobEmulator) -> None:
    for _ in range(320):
        await client.read_levels(["SKU-1"])
    assert emulator.refused == 0
    assert client.limiter.waits > 0


async def test_calls_made_by_another_process_are_counted_from_x_remaining_calls(
    client: ShipBobConnector, emulator: ShipBobEmulator, fake_time: FakeTime
) -> None:
    other = connect(emulator, sleep=fake_time.sleep, clock=fake_time)
    for _ in range(140):  # another process with the same token spends most of the window
        await other.read_levels(["SKU-1"])
    for _ in range(30):
        await client.read_levels(["SKU-1"])
    assert emulator.refused == 0
    await other.aclose()


async def test_a_429_waits_x_retry_after(
    client: ShipBobConnector, emulator: ShipBobEmulator, fake_time: FakeTime
) -> None:
    emulator._sent.extend([fake_time.now - 20.0] * 150)  # the window is full; the oldest call ages out in 40 s
    levels = await client.read_levels(["SKU-1"])
    assert levels
    assert emulator.refused == 1
    assert 40.0 in fake_time.slept


async def test_pull_events_counts_on_hand_per_centre_when_it_changed(
    client: ShipBobConnector, emulator: ShipBobEmulator
) -> None:
    await client.submit_fulfilment(request(quantity=3))  # committed at ShipBob: on hand unchanged
    first = await client.pull_events(None)
    counts = [e for e in first.events if isinstance(e, StockChangeEvent)]
    assert [(e.kind, e.sku, e.location_ref, e.quantity) for e in counts] == [
        (StockChangeKind.COUNT, "SKU-1", str(CENTRE), 10)
    ]
    again = await client.pull_events(first.bookmark)
    assert [e for e in again.events if isinstance(e, StockChangeEvent)] == []
    emulator.ship("submit:a-1")
    shipped = await client.pull_events(again.bookmark)
    assert [(e.sku, e.quantity) for e in shipped.events if isinstance(e, StockChangeEvent)] == [("SKU-1", 7)]
