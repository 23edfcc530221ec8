"""SquareConnector I/O with respx: request building (every body checked against the official OpenAPI spec),
pagination, batching, idempotency keys, retries and error handling."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any, TypeVar

import httpx
import pytest
import respx
from pydantic import ValidationError

from connectors.square import connector as square_spec
from connectors.square.client import SquareConnector
from connectors.square.emulator.openapi import validate_request
from connectors.square.settings import SquareSettings
from omnibridge.sdk import Capability, ConnectorKind, HttpFatalError, RetriableConnectorError
from omnibridge.sdk.channel import ChannelConnector, OrderEvent, PushStatus, StockChangeEvent, StockTarget

from .fixtures import BASE_URL, NOW, connector, load

T = TypeVar("T")
L1, L2 = "L1MAIN0000001", "L2MALL0000002"


def run(factory: Callable[[SquareConnector], Awaitable[T]], client: SquareConnector) -> T:
    async def main() -> T:
        try:
            return await factory(client)
        finally:
            await client.aclose()

    return asyncio.run(main())


def body_of(call: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(call.request.content)
    return parsed


@pytest.fixture
def square() -> Iterator[respx.MockRouter]:
    """A respx router for the test base URL; afterwards every request body sent is checked against the spec."""
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router
        for call in router.calls:
            request = call.request
            problems = validate_request(request.method, request.url.path, request.content or None)
            assert problems == [], f"{request.method} {request.url.path}: {problems}"


def catalog_route(router: respx.MockRouter) -> respx.Route:
    return router.post("/v2/catalog/search").respond(json=load("catalog_search"))


def test_spec_declares_square_capabilities_without_compare_and_set() -> None:
    assert square_spec.id == "square"
    assert square_spec.kind is ConnectorKind.POS
    assert square_spec.capabilities == {
        Capability.INVENTORY_READ,
        Capability.INVENTORY_WRITE,
        Capability.ORDERS_READ,
        Capability.FULFILLMENT_WRITE,
        Capability.WEBHOOKS,
        Capability.LISTINGS_WRITE,
        Capability.PRICES_WRITE,
    }
    client, _, _ = connector()
    assert isinstance(client, ChannelConnector)
    asyncio.run(client.aclose())


def test_list_locations_sends_square_headers_and_honours_location_ids(square: respx.MockRouter) -> None:
    route = square.get("/v2/locations").respond(json=load("locations"))
    client, _, _ = connector(location_ids=[L2])
    locations = run(lambda c: c.list_locations(), client)
    assert [loc.external_id for loc in locations] == [L2]
    headers = route.calls.last.request.headers
    assert headers["Authorization"] == "Bearer EAAAtest-token-123"
    assert headers["Square-Version"] == "2025-08-20"
    assert headers["Content-Type"] == "application/json"


def test_read_levels_resolves_skus_pages_and_fills_zero(square: respx.MockRouter) -> None:
    catalog = square.post("/v2/catalog/search")
    catalog.side_effect = [
        httpx.Response(200, json={"objects": load("catalog_search")["objects"][:1], "cursor": "cat-2"}),
        httpx.Response(200, json={"objects": load("catalog_search")["objects"][1:]}),
    ]
    counts = load("counts")["counts"]
    count_route = square.post("/v2/inventory/counts/batch-retrieve")
    count_route.side_effect = [
        httpx.Response(200, json={"counts": counts[:1], "cursor": "cnt-2"}),
        httpx.Response(200, json={"counts": counts[1:]}),
    ]
    client, _, _ = connector()
    levels = run(lambda c: c.read_levels(["TEE-RED-M", "MUG-BLUE", "NO-SUCH-SKU", "TEE-RED-M"]), client)

    search = [body_of(call) for call in catalog.calls]
    assert search[0]["object_types"] == ["ITEM_VARIATION"]
    assert search[0]["query"]["set_query"] == {
        "attribute_name": "sku",
        "attribute_values": ["TEE-RED-M", "MUG-BLUE", "NO-SUCH-SKU"],
    }
    assert search[1]["cursor"] == "cat-2"
    first, second = (body_of(call) for call in count_route.calls)
    assert sorted(first["catalog_object_ids"]) == ["VAR-MUG-BLUE", "VAR-TEE-RED-M"]
    assert first["states"] == ["IN_STOCK"]
    assert first["location_ids"] == [L1, L2]
    assert second["cursor"] == "cnt-2"
    # SKUs come back as the engine spelled them; mug at L1 is fractional ("2.5") so it is left out, not zero.
    assert sorted((lv.sku, lv.location_ref, lv.available) for lv in levels) == [
        ("MUG-BLUE", L2, 0),
        ("TEE-RED-M", L1, 53),
        ("TEE-RED-M", L2, 4),
    ]
    assert all(lv.observed_at == NOW for lv in levels)


def test_read_levels_with_all_locations_uses_active_ones(square: respx.MockRouter) -> None:
    square.get("/v2/locations").respond(json=load("locations"))
    catalog_route(square)
    counts = square.post("/v2/inventory/counts/batch-retrieve").respond(json={"counts": []})
    client, _, _ = connector(location_ids=None)
    levels = run(lambda c: c.read_levels(["TEE-RED-M"]), client)
    assert body_of(counts.calls.last)["location_ids"] == [L1, L2]
    assert {(lv.location_ref, lv.available) for lv in levels} == {(L1, 0), (L2, 0)}


def test_push_builds_physical_counts_and_reports_shown(square: respx.MockRouter) -> None:
    catalog_route(square)
    route = square.post("/v2/inventory/changes/batch-create").respond(
        json={
            "counts": [
                {
                    "catalog_object_id": "VAR-TEE-RED-M",
                    "catalog_object_type": "ITEM_VARIATION",
                    "state": "IN_STOCK",
                    "location_id": L1,
                    "quantity": "6",
                    "calculated_at": "2025-08-21T12:00:01.000Z",
                },
            ],
            "changes": [],
        }
    )
    targets = [
        StockTarget("TEE-RED-M", L1, 7, expected=5, expected_at=NOW - timedelta(minutes=10), reference="push-9"),
        StockTarget("NO-SUCH-SKU", L1, 1),
        StockTarget("mug-blue", L2, 3, expected=1, expected_at=NOW - timedelta(hours=30)),
    ]
    client, _, keys = connector()
    results = run(lambda c: c.push_levels(targets), client)

    assert [r.target for r in results] == targets
    assert [r.status for r in results] == [PushStatus.APPLIED, PushStatus.UNKNOWN_SKU, PushStatus.APPLIED]
    assert results[0].shown == 6  # a sale after the read applied on top of the count
    assert results[2].shown is None
    assert route.call_count == 1
    body = body_of(route.calls.last)
    batch_ref, batch_key = keys.issued
    assert body["idempotency_key"] == batch_key
    tee, mug = (change["physical_count"] for change in body["changes"])
    assert all(change["type"] == "PHYSICAL_COUNT" for change in body["changes"])
    assert tee == {
        "reference_id": "omnibridge:push-9",
        "catalog_object_id": "VAR-TEE-RED-M",
        "state": "IN_STOCK",
        "location_id": L1,
        "quantity": "7",
        "occurred_at": "2025-08-21T11:50:00.000Z",  # expected_at: ordered after the engine's read
    }
    assert mug["reference_id"] == f"omnibridge:{batch_ref}"
    assert mug["occurred_at"] == "2025-08-21T12:00:00.000Z"  # expected_at too old for Square: now


def test_push_rejects_unknown_skus_and_bad_targets_without_a_write(square: respx.MockRouter) -> None:
    catalog_route(square)
    write = square.post("/v2/inventory/changes/batch-create")
    targets = [
        StockTarget("NOPE", L1, 1),
        StockTarget("TEE-RED-M", "L9ELSEWHERE", 2),
        StockTarget("TEE-RED-M", L1, -1),
    ]
    client, _, _ = connector()
    results = run(lambda c: c.push_levels(targets), client)
    assert [r.status for r in results] == [PushStatus.UNKNOWN_SKU, PushStatus.FAILED, PushStatus.FAILED]
    assert [r.target for r in results] == targets
    assert "location_ids" in results[1].message
    assert write.call_count == 0


def test_sku_carried_by_two_variations_fails(square: respx.MockRouter) -> None:
    twins = [
        {"type": "ITEM_VARIATION", "id": f"VAR-{n}", "item_variation_data": {"item_id": "I", "sku": "TWIN"}}
        for n in (1, 2)
    ]
    square.post("/v2/catalog/search").respond(json={"objects": twins})
    client, _, _ = connector()
    results = run(lambda c: c.push_levels([StockTarget("twin", L1, 1)]), client)
    assert results[0].status is PushStatus.FAILED
    assert "2 variations" in results[0].message


def test_push_splits_batches_of_100_with_fresh_keys(square: respx.MockRouter) -> None:
    objects = [
        {"type": "ITEM_VARIATION", "id": f"VAR-{n}", "item_variation_data": {"item_id": "I", "sku": f"SKU-{n}"}}
        for n in range(250)
    ]
    catalog = square.post("/v2/catalog/search").respond(json={"objects": objects})
    write = square.post("/v2/inventory/changes/batch-create").respond(json={"counts": []})
    targets = [StockTarget(f"SKU-{n}", L1, n) for n in range(250)]
    client, _, _ = connector()
    results = run(lambda c: c.push_levels(targets), client)
    assert [len(body_of(call)["changes"]) for call in write.calls] == [100, 100, 50]
    assert len({body_of(call)["idempotency_key"] for call in write.calls}) == 3
    assert [len(body_of(call)["query"]["set_query"]["attribute_values"]) for call in catalog.calls] == [250]
    assert all(r.status is PushStatus.APPLIED for r in results)
    sent = [c["physical_count"]["quantity"] for call in write.calls for c in body_of(call)["changes"]]
    assert sent == [str(n) for n in range(250)]


def test_a_batch_failing_after_an_earlier_one_landed_reports_each_target_instead_of_raising(
    square: respx.MockRouter,
) -> None:
    objects = [
        {"type": "ITEM_VARIATION", "id": f"VAR-{n}", "item_variation_data": {"item_id": "I", "sku": f"SKU-{n}"}}
        for n in range(250)
    ]
    square.post("/v2/catalog/search").respond(json={"objects": objects})
    write = square.post("/v2/inventory/changes/batch-create")
    write.side_effect = [httpx.Response(200, json={"counts": []}), *[httpx.ReadTimeout("read timed out")] * 4]
    targets = [StockTarget(f"SKU-{n}", L1, n) for n in range(250)]
    client, _, _ = connector()

    results = run(lambda c: c.push_levels(targets), client)

    assert write.call_count == 5  # the first batch, then the second one sent four times under its key
    assert [r.target for r in results] == targets
    assert {r.status for r in results[:100]} == {PushStatus.APPLIED}
    # The second batch may have landed (its answer never came); the third was never sent.
    assert {r.status for r in results[100:]} == {PushStatus.UNKNOWN}
    assert "timed out" in results[100].message
    assert results[200].message.startswith("not sent: an earlier part of the batch failed")


def test_a_batch_failing_before_anything_landed_raises(square: respx.MockRouter) -> None:
    catalog_route(square)
    square.post("/v2/inventory/changes/batch-create").mock(side_effect=httpx.ReadTimeout("read timed out"))
    client, _, _ = connector()
    with pytest.raises(RetriableConnectorError):
        run(lambda c: c.push_levels([StockTarget("TEE-RED-M", L1, 7)]), client)


def test_partial_failure_resends_only_good_items_with_a_new_key(square: respx.MockRouter) -> None:
    catalog_route(square)
    write = square.post("/v2/inventory/changes/batch-create")
    write.side_effect = [
        httpx.Response(
            400,
            json={
                "errors": [
                    {
                        "category": "INVALID_REQUEST_ERROR",
                        "code": "NOT_FOUND",
                        "detail": "Item variation not found.",
                        "field": "changes[1].physical_count.catalog_object_id",
                    }
                ]
            },
        ),
        httpx.Response(200, json={"counts": []}),
    ]
    targets = [StockTarget("TEE-RED-M", L1, 7), StockTarget("mug-blue", L1, 2), StockTarget("TEE-RED-M", L2, 1)]
    client, _, _ = connector()
    results = run(lambda c: c.push_levels(targets), client)
    first, second = (body_of(call) for call in write.calls)
    assert first["idempotency_key"] != second["idempotency_key"]
    assert [c["physical_count"]["location_id"] for c in second["changes"]] == [L1, L2]
    assert [c["physical_count"]["catalog_object_id"] for c in second["changes"]] == ["VAR-TEE-RED-M"] * 2
    assert [r.status for r in results] == [PushStatus.APPLIED, PushStatus.UNKNOWN_SKU, PushStatus.APPLIED]
    assert "Item variation not found" in results[1].message


def test_errors_alongside_200_fail_only_their_item(square: respx.MockRouter) -> None:
    catalog_route(square)
    square.post("/v2/inventory/changes/batch-create").respond(
        json={
            "errors": [
                {
                    "category": "INVALID_REQUEST_ERROR",
                    "code": "INVALID_VALUE",
                    "field": "changes[0].quantity",
                    "detail": "Quantity too large.",
                }
            ],
            "counts": [{"catalog_object_id": "VAR-MUG-BLUE", "state": "IN_STOCK", "location_id": L1, "quantity": "2"}],
        }
    )
    client, _, _ = connector()
    results = run(lambda c: c.push_levels([StockTarget("TEE-RED-M", L1, 7), StockTarget("mug-blue", L1, 2)]), client)
    assert [(r.status, r.shown) for r in results] == [(PushStatus.FAILED, None), (PushStatus.APPLIED, 2)]
    assert "INVALID_VALUE" in results[0].message


def test_transport_error_retries_the_write_with_the_same_key(square: respx.MockRouter) -> None:
    catalog_route(square)
    write = square.post("/v2/inventory/changes/batch-create")
    write.side_effect = [httpx.ReadTimeout("read timed out"), httpx.Response(200, json={"counts": []})]
    client, sleep, _ = connector()
    results = run(lambda c: c.push_levels([StockTarget("TEE-RED-M", L1, 7)]), client)
    assert write.call_count == 2
    assert write.calls[0].request.content == write.calls[1].request.content
    assert results[0].status is PushStatus.APPLIED
    assert sleep.calls == [0.5]


def test_rate_limited_then_success_backs_off_exponentially(square: respx.MockRouter) -> None:
    limited = {"errors": [{"category": "RATE_LIMIT_ERROR", "code": "RATE_LIMITED", "detail": "Rate limited."}]}
    route = square.get("/v2/locations")
    route.side_effect = [
        httpx.Response(429, json=limited),
        httpx.Response(429, json=limited),
        httpx.Response(200, json=load("locations")),
    ]
    client, sleep, _ = connector()
    locations = run(lambda c: c.list_locations(), client)
    assert len(locations) == 2
    assert route.call_count == 3
    assert [wait for wait in sleep.calls if wait >= 0.5] == [0.5, 1.0]


def test_unauthorized_is_fatal_with_square_detail(square: respx.MockRouter) -> None:
    square.get("/v2/locations").respond(
        401,
        json={
            "errors": [
                {
                    "category": "AUTHENTICATION_ERROR",
                    "code": "UNAUTHORIZED",
                    "detail": "This request could not be authorized.",
                }
            ]
        },
    )
    client, _, _ = connector()
    with pytest.raises(HttpFatalError) as caught:
        run(lambda c: c.list_locations(), client)
    assert caught.value.status_code == 401
    assert "UNAUTHORIZED: This request could not be authorized." in str(caught.value)
    assert "EAAAtest-token-123" not in str(caught.value)


def test_batch_level_400_without_index_raises(square: respx.MockRouter) -> None:
    catalog_route(square)
    square.post("/v2/inventory/changes/batch-create").respond(
        400,
        json={
            "errors": [
                {
                    "category": "INVALID_REQUEST_ERROR",
                    "code": "IDEMPOTENCY_KEY_REUSED",
                    "field": "idempotency_key",
                    "detail": "Key reused.",
                }
            ]
        },
    )
    client, _, _ = connector()
    with pytest.raises(HttpFatalError, match="IDEMPOTENCY_KEY_REUSED"):
        run(lambda c: c.push_levels([StockTarget("TEE-RED-M", L1, 7)]), client)


def test_pull_events_maps_orders_and_changes_without_echo(square: respx.MockRouter) -> None:
    orders = square.post("/v2/orders/search").respond(json=load("orders_search"))
    changes = square.post("/v2/inventory/changes/batch-retrieve").respond(json=load("changes"))
    catalog = square.post("/v2/catalog/batch-retrieve").respond(
        json={
            "objects": [
                {"type": "ITEM_VARIATION", "id": "VAR-TEE-RED-M", "item_variation_data": {"sku": "TEE-RED-M"}},
                {
                    "type": "ITEM_VARIATION",
                    "id": "VAR-MUG-OLD",
                    "is_deleted": True,
                    "item_variation_data": {"sku": "MUG-OLD"},
                },
                {"type": "ITEM_VARIATION", "id": "VAR-MUG-BLUE", "item_variation_data": {"sku": "mug-blue"}},
            ]
        }
    )
    bookmark = json.dumps({"v": 1, "orders": "2025-08-21T10:00:00.000Z", "changes": "2025-08-21T09:00:00.000Z"})
    client, _, _ = connector(poll_overlap_seconds=300)
    result = run(lambda c: c.pull_events(bookmark), client)

    search = body_of(orders.calls.last)
    assert search["location_ids"] == [L1, L2]
    assert search["query"]["filter"]["date_time_filter"]["updated_at"]["start_at"] == "2025-08-21T09:55:00.000Z"
    assert search["query"]["filter"]["state_filter"]["states"] == ["OPEN", "COMPLETED", "CANCELED"]
    assert body_of(changes.calls.last)["updated_after"] == "2025-08-21T08:55:00.000Z"
    assert body_of(changes.calls.last)["types"] == ["PHYSICAL_COUNT", "ADJUSTMENT"]
    assert sorted(body_of(catalog.calls.last)["object_ids"]) == sorted(["VAR-TEE-RED-M", "VAR-MUG-OLD", "VAR-MUG-BLUE"])

    refs = [(type(e).__name__, e.ref) for e in result.events if isinstance(e, OrderEvent | StockChangeEvent)]
    assert len(refs) == len(result.events)
    assert refs == [
        ("OrderEvent", "ORD-COMPLETED-1"),
        ("OrderEvent", "ORD-CANCELED-2"),
        ("OrderEvent", "ORD-OPEN-3"),
        ("StockChangeEvent", "PC-STOCKTAKE-1"),
        ("StockChangeEvent", "ADJ-RECEIVE-3"),
        ("StockChangeEvent", "ADJ-WASTE-4"),
        ("StockChangeEvent", "ADJ-RETURN-6"),
    ]
    assert "PC-OURS-2" not in {getattr(e, "ref", None) for e in result.events}
    cancelled = result.events[1]
    assert isinstance(cancelled, OrderEvent)
    assert cancelled.lines[0].sku == "MUG-OLD"
    assert result.messages == []
    assert result.bookmark is not None
    assert json.loads(result.bookmark) == {
        "v": 1,
        "orders": "2025-08-21T10:30:00.000Z",
        "changes": "2025-08-21T10:40:01.000Z",
    }


def test_bookmark_never_moves_backwards_and_first_poll_uses_lookback(square: respx.MockRouter) -> None:
    orders = square.post("/v2/orders/search").respond(json={})
    square.post("/v2/inventory/changes/batch-retrieve").respond(json={})
    client, _, _ = connector(order_lookback_minutes=60, poll_overlap_seconds=0)

    async def twice(c: SquareConnector) -> tuple[str | None, str | None]:
        first = await c.pull_events(None)
        second = await c.pull_events(first.bookmark)
        return first.bookmark, second.bookmark

    first, second = run(twice, client)
    assert first == second
    assert first is not None
    assert json.loads(first)["orders"] == "2025-08-21T11:00:00.000Z"
    start = body_of(orders.calls[0])["query"]["filter"]["date_time_filter"]["updated_at"]["start_at"]
    assert start == "2025-08-21T11:00:00.000Z"


def test_orders_search_chunks_locations_by_ten(square: respx.MockRouter) -> None:
    orders = square.post("/v2/orders/search").respond(json={})
    square.post("/v2/inventory/changes/batch-retrieve").respond(json={})
    client, _, _ = connector(location_ids=[f"LOC{n:02}" for n in range(12)])
    run(lambda c: c.pull_events(None), client)
    assert [len(body_of(call)["location_ids"]) for call in orders.calls] == [10, 2]


def test_orders_search_follows_cursor_with_same_query(square: respx.MockRouter) -> None:
    pages = load("orders_search")["orders"]
    orders = square.post("/v2/orders/search")
    orders.side_effect = [
        httpx.Response(200, json={"orders": pages[:1], "cursor": "o-2"}),
        httpx.Response(200, json={"orders": pages[1:]}),
    ]
    square.post("/v2/inventory/changes/batch-retrieve").respond(json={})
    square.post("/v2/catalog/batch-retrieve").respond(json={"objects": []})
    client, _, _ = connector()
    result = run(lambda c: c.pull_events(None), client)
    first, second = (body_of(call) for call in orders.calls)
    assert second.pop("cursor") == "o-2"
    assert first == second
    assert len(result.events) == 3
    assert any("VAR-TEE-RED-M" in m.message for m in result.messages)  # unknown variation: a warning, kept


def test_settings_defaults_and_validation() -> None:
    defaults = SquareSettings(access_token="t")
    assert str(defaults.base_url) == "https://connect.squareup.com/"
    assert (defaults.square_version, defaults.requests_per_second, defaults.burst) == ("2025-08-20", 10.0, 20)
    assert defaults.poll_overlap_seconds == 300
    assert defaults.location_ids is None
    assert "EAAA-secret" not in repr(SquareSettings(access_token="EAAA-secret"))
    url = "https://Hooks.example.com/square/?a=1"
    assert SquareSettings(access_token="t", webhook_notification_url=url).webhook_notification_url == url  # verbatim
    bad: dict[str, Any]
    for bad in ({"unknown": 1}, {"location_ids": []}, {"square_version": "latest"}, {"webhook_notification_url": "x"}):
        with pytest.raises(ValidationError):
            SquareSettings(access_token="t", **bad)
    with pytest.raises(ValidationError):
        defaults.burst = 5  # type: ignore[misc]


def test_factory_builds_a_channel_connector() -> None:
    assert square_spec.factory is not None
    built = square_spec.factory(SquareSettings(access_token="t"))
    assert isinstance(built, SquareConnector)
    assert isinstance(built, ChannelConnector)
    asyncio.run(built.aclose())
