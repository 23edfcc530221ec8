"""Listings Items: reads, per-SKU patches, titles and prices, throttling and rate headers (respx, fake clock)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
import respx

from omnibridge.sdk import HttpRetriableError
from omnibridge.sdk.channel import PushStatus, StockTarget
from omnibridge.sdk.listings import ListingUpdate

from .test_client_support import ENDPOINT, MARKETPLACE, SELLER, amazon_error, body_of, connector, lwa_route

ITEMS = f"/listings/2021-08-01/items/{SELLER}"


@pytest.fixture
def amazon() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=ENDPOINT, assert_all_called=False) as router:
        lwa_route(router)
        yield router


def accepted(sku: str) -> httpx.Response:
    return httpx.Response(200, json={"sku": sku, "status": "ACCEPTED", "submissionId": f"sub-{sku}", "issues": []})


def invalid(sku: str, code: str, message: str) -> httpx.Response:
    issue = {"code": code, "message": message, "severity": "ERROR", "attributeNames": []}
    return httpx.Response(200, json={"sku": sku, "status": "INVALID", "submissionId": "s", "issues": [issue]})


@pytest.mark.anyio
async def test_read_levels_reads_the_default_channel_and_leaves_out_what_amazon_lacks(
    amazon: respx.MockRouter,
) -> None:
    a = amazon.get(f"{ITEMS}/SKU-A").respond(
        json={
            "sku": "SKU-A",
            "fulfillmentAvailability": [
                {"fulfillmentChannelCode": "AMAZON_NA", "quantity": 50},
                {"fulfillmentChannelCode": "DEFAULT", "quantity": 7},
            ],
        }
    )
    amazon.get(f"{ITEMS}/SKU-FBA").respond(
        json={"sku": "SKU-FBA", "fulfillmentAvailability": [{"fulfillmentChannelCode": "AMAZON_NA"}]}
    )
    amazon.get(f"{ITEMS}/NOPE").mock(return_value=amazon_error(404, "NOT_FOUND", "not found"))
    slash = amazon.get(f"{ITEMS}/A%2FB%20C").respond(
        json={"sku": "A/B C", "fulfillmentAvailability": [{"fulfillmentChannelCode": "DEFAULT"}]}
    )
    client, time = connector()
    try:
        locations = await client.list_locations()
        levels = await client.read_levels(["SKU-A", "SKU-FBA", "NOPE", "A/B C", "SKU-A"])
    finally:
        await client.aclose()
    assert [(loc.external_id, loc.name) for loc in locations] == [("DEFAULT", "Amazon (merchant fulfilled)")]
    assert [(lvl.sku, lvl.location_ref, lvl.available) for lvl in levels] == [
        ("SKU-A", "DEFAULT", 7),
        ("A/B C", "DEFAULT", 0),
    ]
    assert a.call_count == 1
    assert slash.call_count == 1
    assert dict(a.calls.last.request.url.params) == {
        "marketplaceIds": MARKETPLACE,
        "includedData": "fulfillmentAvailability",
    }
    assert levels[0].observed_at == time.now()


@pytest.mark.anyio
async def test_push_levels_patches_each_sku_below_the_threshold(amazon: respx.MockRouter) -> None:
    routes = {
        "SKU-A": amazon.patch(f"{ITEMS}/SKU-A").mock(return_value=accepted("SKU-A")),
        "SKU-B": amazon.patch(f"{ITEMS}/SKU-B").mock(
            return_value=invalid("SKU-B", "4000004", "The SKU was not found in the seller's catalog.")
        ),
        "SKU-C": amazon.patch(f"{ITEMS}/SKU-C").mock(
            return_value=invalid("SKU-C", "90000900", "The attributes are invalid.")
        ),
        "SKU-D": amazon.patch(f"{ITEMS}/SKU-D").mock(return_value=amazon_error(400, "InvalidInput", "bad sku")),
    }
    targets = [
        StockTarget("SKU-A", "DEFAULT", 12, expected=3, reference="push-1"),
        StockTarget("SKU-B", "DEFAULT", 1),
        StockTarget("SKU-C", "DEFAULT", 2),
        StockTarget("SKU-X", "AMAZON_NA", 2),
        StockTarget("SKU-D", "DEFAULT", 2),
        StockTarget("SKU-N", "DEFAULT", -1),
    ]
    client, _ = connector(feed_threshold=50)
    try:
        results = await client.push_levels(targets)
    finally:
        await client.aclose()
    assert [r.target for r in results] == targets
    assert [r.status for r in results] == [
        PushStatus.APPLIED,
        PushStatus.UNKNOWN_SKU,
        PushStatus.FAILED,
        PushStatus.FAILED,
        PushStatus.FAILED,
        PushStatus.FAILED,
    ]
    assert results[0].shown == 12
    assert "90000900" in results[2].message
    assert "DEFAULT" in results[3].message
    assert "InvalidInput" in results[4].message
    assert results[5].message == "negative quantity"
    request = routes["SKU-A"].calls.last.request
    assert dict(request.url.params) == {"marketplaceIds": MARKETPLACE, "issueLocale": "en_US"}
    assert body_of(request) == {
        "productType": "PRODUCT",
        "patches": [
            {
                "op": "replace",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 12}],
            }
        ],
    }
    assert all(route.call_count == 1 for route in routes.values())


@pytest.mark.anyio
async def test_push_listings_sets_title_and_price(amazon: respx.MockRouter) -> None:
    route = amazon.patch(f"{ITEMS}/SKU-A").mock(return_value=accepted("SKU-A"))
    title_only = amazon.patch(f"{ITEMS}/SKU-B").mock(return_value=accepted("SKU-B"))
    client, _ = connector(language_tag="en_US")
    try:
        results = await client.push_listings(
            [
                ListingUpdate("SKU-A", title="Trail tent", price=Decimal("199.99"), currency="USD"),
                ListingUpdate("SKU-B", title="Stove"),
            ]
        )
    finally:
        await client.aclose()
    assert [r.status for r in results] == [PushStatus.APPLIED, PushStatus.APPLIED]
    assert body_of(route.calls.last.request)["patches"] == [
        {
            "op": "replace",
            "path": "/attributes/item_name",
            "value": [{"value": "Trail tent", "language_tag": "en_US", "marketplace_id": MARKETPLACE}],
        },
        {
            "op": "replace",
            "path": "/attributes/purchasable_offer",
            "value": [
                {
                    "marketplace_id": MARKETPLACE,
                    "currency": "USD",
                    "audience": "ALL",
                    "our_price": [{"schedule": [{"value_with_tax": 199.99}]}],
                }
            ],
        },
    ]
    assert [p["path"] for p in body_of(title_only.calls.last.request)["patches"]] == ["/attributes/item_name"]


@pytest.mark.anyio
async def test_quota_exceeded_is_backed_off_by_one_refill_and_retried(amazon: respx.MockRouter) -> None:
    quota = amazon_error(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")
    route = amazon.get("/orders/v0/orders").mock(
        side_effect=[quota, httpx.Response(200, json={"payload": {"Orders": []}})]
    )
    client, time = connector()
    try:
        await client.pull_events(None)
    finally:
        await client.aclose()
    assert route.call_count == 2
    # The 429 emptied getOrders' bucket (0.0167/s, burst 20), so the retry went one refill later: 1/rate seconds
    # in all (the client's 0.5 s backoff, then the rest waiting for the bucket).
    assert sum(time.slept) == pytest.approx(1 / 0.0167)
    assert client.api.limits.bucket("getOrders").waits == 1


@pytest.mark.anyio
async def test_quota_exceeded_after_every_retry_is_retriable_not_fatal(amazon: respx.MockRouter) -> None:
    amazon.patch(f"{ITEMS}/SKU-A").mock(return_value=amazon_error(429, "QuotaExceeded"))
    client, _ = connector()
    try:
        with pytest.raises(HttpRetriableError) as caught:
            await client.push_levels([StockTarget("SKU-A", "DEFAULT", 3)])
    finally:
        await client.aclose()
    assert caught.value.status_code == 429
    assert caught.value.op == "patchListingsItem"


@pytest.mark.anyio
async def test_rate_header_adjusts_the_operation_bucket(amazon: respx.MockRouter) -> None:
    amazon.get(f"{ITEMS}/SKU-A").respond(
        json={"sku": "SKU-A", "fulfillmentAvailability": []}, headers={"x-amzn-RateLimit-Limit": "10.0"}
    )
    client, _ = connector(rate_limits={"getOrders": {"rate": 0.05, "burst": 20}})
    try:
        assert client.api.limits.bucket("getListingsItem").refill_rate == 5.0
        await client.read_levels(["SKU-A"])
    finally:
        await client.aclose()
    assert client.api.limits.bucket("getListingsItem").refill_rate == 10.0
    assert client.api.limits.bucket("getOrders").refill_rate == 0.05
    assert client.api.limits.bucket("createFeed").refill_rate == 0.0083
    assert client.api.limits.bucket("createFeed").capacity == 14  # burst 15, one token kept in reserve
