"""The example plugin's mapper and client, exercised through the SDK (and a documentation check)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest
import respx

from omnibridge.sdk import AmbiguousWriteError, MapLevel, MapMessage, RetryPolicy

from .fakes import FakeClock, requires_acme

if TYPE_CHECKING:
    from omnibridge_acme import AcmeSettings

# The plugin is imported inside each test, so that without it installed the module is skipped instead of failing.
pytestmark = requires_acme

BASE = "https://acme.test"


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


def settings() -> AcmeSettings:
    from omnibridge_acme import AcmeSettings

    return AcmeSettings(base_url=BASE, api_key="acme-key-0123456789", warehouse_code="WH1")


def test_settings_keep_the_api_key_secret() -> None:
    from omnibridge_acme import AcmeSettings

    loaded = settings()
    assert "acme-key-0123456789" not in repr(loaded)
    assert loaded.api_key.get_secret_value() == "acme-key-0123456789"
    with pytest.raises(ValueError, match="warehouse_code"):
        AcmeSettings(base_url=BASE, api_key="k", warehouse_code="lower case")


def test_mapper_maps_good_rows_and_reports_bad_ones() -> None:
    from omnibridge_acme.mapper import StockLevel, map_stock_row

    good = map_stock_row({"item_code": " SKU-1 ", "location": "A-01", "qty_on_hand": "12"}, default_location="WH1")
    assert good.value == StockLevel("SKU-1", "A-01", 12)
    assert good.messages == []

    defaulted = map_stock_row({"item_code": "SKU-2", "qty_on_hand": 3.0}, default_location="WH1")
    assert defaulted.value == StockLevel("SKU-2", "WH1", 3)
    assert [(m.level, m.field_path, m.record_id) for m in defaulted.messages] == [
        (MapLevel.WARNING, "location", "SKU-2")
    ]

    for row, path in [
        ({"qty_on_hand": 1}, "item_code"),
        ({"item_code": "SKU-3", "qty_on_hand": "1.5"}, "qty_on_hand"),
        ({"item_code": "SKU-3", "qty_on_hand": True}, "qty_on_hand"),
        ("not a row", ""),
    ]:
        result = map_stock_row(row, default_location="WH1")
        assert result.skipped
        assert [(m.level, m.field_path) for m in result.messages] == [(MapLevel.ERROR, path)]


def test_client_pages_through_stock_and_keeps_bad_rows_as_messages(router: respx.MockRouter, clock: FakeClock) -> None:
    from omnibridge_acme.client import AcmeClient
    from omnibridge_acme.mapper import StockLevel

    route = router.get("/v1/warehouses/WH1/stock").mock(
        side_effect=[
            httpx.Response(
                200, json={"rows": [{"item_code": "A", "location": "L1", "qty_on_hand": 1}], "next_cursor": "c2"}
            ),
            httpx.Response(200, json={"rows": [{"qty_on_hand": 2}], "next_cursor": None}),
        ]
    )

    async def run() -> tuple[list[StockLevel], list[MapMessage]]:
        client = AcmeClient(settings(), clock=clock, sleep=clock.sleep)
        try:
            return await client.fetch_stock()
        finally:
            await client.aclose()

    levels, messages = asyncio.run(run())
    assert [(level.sku, level.quantity) for level in levels] == [("A", 1)]
    assert [m.field_path for m in messages] == ["item_code"]
    first, second = (call.request for call in route.calls)
    assert first.headers["X-Api-Key"] == "acme-key-0123456789"
    assert first.url.params.get("cursor") is None
    assert second.url.params["cursor"] == "c2"


def test_client_retries_adjustments_only_because_they_carry_a_key(router: respx.MockRouter, clock: FakeClock) -> None:
    from omnibridge_acme.client import AcmeClient

    route = router.post("/v1/warehouses/WH1/adjustments").mock(side_effect=[httpx.Response(503), httpx.Response(201)])

    async def run() -> None:
        client = AcmeClient(settings(), clock=clock, sleep=clock.sleep, retry_policy=RetryPolicy(rng=lambda: 0))
        try:
            await client.adjust_stock("A", "L1", -2, idempotency_key="move-42")
        finally:
            await client.aclose()

    asyncio.run(run())
    assert [call.request.headers["Idempotency-Key"] for call in route.calls] == ["move-42", "move-42"]
    assert clock.sleeps == [0.25]


def test_without_the_key_the_same_failure_is_ambiguous(router: respx.MockRouter, clock: FakeClock) -> None:
    from omnibridge.sdk import ConnectorHttpClient

    router.post("/v1/warehouses/WH1/adjustments").mock(side_effect=[httpx.Response(503), httpx.Response(201)])

    async def run() -> None:
        async with ConnectorHttpClient("acme-wms", BASE, clock=clock, sleep=clock.sleep) as client:
            await client.post("/v1/warehouses/WH1/adjustments", json={})

    with pytest.raises(AmbiguousWriteError):
        asyncio.run(run())


def test_a_push_failing_after_a_target_landed_reports_each_target(router: respx.MockRouter, clock: FakeClock) -> None:
    from omnibridge_acme.client import AcmeClient

    from omnibridge.sdk.channel import PushResult, PushStatus, StockTarget

    router.put("/v1/warehouses/WH1/stock/A").respond(201, json={"item_code": "A", "location": "L1", "qty_on_hand": 4})
    router.put("/v1/warehouses/WH1/stock/B").respond(503)
    targets = [StockTarget(sku, "L1", 4) for sku in ("A", "B", "C")]

    async def run() -> list[PushResult]:
        client = AcmeClient(settings(), clock=clock, sleep=clock.sleep, retry_policy=RetryPolicy(rng=lambda: 0))
        try:
            return await client.push_levels(targets)
        finally:
            await client.aclose()

    results = asyncio.run(run())
    assert [(r.target, r.status) for r in results] == [
        (targets[0], PushStatus.APPLIED),
        (targets[1], PushStatus.UNKNOWN),  # the PUT may have landed before its answer was lost
        (targets[2], PushStatus.UNKNOWN),  # never sent
    ]
    assert results[2].message.startswith("not sent")


def test_the_factory_builds_a_client() -> None:
    from omnibridge_acme import connector
    from omnibridge_acme.client import AcmeClient

    assert connector.factory is not None
    client = connector.factory(settings())
    assert isinstance(client, AcmeClient)
    asyncio.run(client.aclose())
