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


def search_answer(*items: dict[str, object], next_token: str | None = None) -> httpx.Response:
    body: dict[str, object] = {"numberOfResults": len(items), "items": list(items)}
    if next_token:
        body["pagination"] = {"nextToken": next_token}
    return httpx.Response(200, json=body)


@pytest.mark.anyio
async def test_read_levels_searches_twenty_skus_a_call_and_leaves_out_what_amazon_lacks(
    amazon: respx.MockRouter,
) -> None:
    wanted = [f"SKU-{i:02d}" for i in range(25)] + ["A/B C", "SKU-00"]

    def answer(request: httpx.Request) -> httpx.Response:
        asked = request.url.params["identifiers"].split(",")
        items: list[dict[str, object]] = [
            {
                "sku": sku,
                "fulfillmentAvailability": [
                    {"fulfillmentChannelCode": "AMAZON_NA", "quantity": 50},
                    {"fulfillmentChannelCode": "DEFAULT", "quantity": int(sku[-2:]) if sku[-1].isdigit() else 3},
                ],
            }
            for sku in asked
            if sku != "SKU-03"  # no listing: Amazon leaves it out
        ]
        items.append({"sku": "NOT-ASKED", "fulfillmentAvailability": [{"fulfillmentChannelCode": "DEFAULT"}]})
        return search_answer(*reversed(items))

    search = amazon.get(ITEMS).mock(side_effect=answer)
    client, time = connector()
    try:
        locations = await client.list_locations()
        levels = await client.read_levels(wanted)
    finally:
        await client.aclose()
    assert [(loc.external_id, loc.name) for loc in locations] == [("DEFAULT", "Amazon (merchant fulfilled)")]
    expected = [(f"SKU-{i:02d}", "DEFAULT", i) for i in range(25) if i != 3] + [("A/B C", "DEFAULT", 3)]
    assert [(lvl.sku, lvl.location_ref, lvl.available) for lvl in levels] == expected
    assert search.call_count == 2
    first, second = (dict(call.request.url.params) for call in search.calls)
    assert first == {
        "marketplaceIds": MARKETPLACE,
        "identifiers": ",".join(f"SKU-{i:02d}" for i in range(20)),
        "identifiersType": "SKU",
        "includedData": "summaries,fulfillmentAvailability",
        "pageSize": "20",
    }
    assert second["identifiers"] == "SKU-20,SKU-21,SKU-22,SKU-23,SKU-24,A/B C"
    assert all(lvl.observed_at == time.now() for lvl in levels)


@pytest.mark.anyio
async def test_a_lone_sku_or_one_holding_a_comma_is_read_with_get_listings_item(amazon: respx.MockRouter) -> None:
    search = amazon.get(ITEMS).mock(return_value=search_answer())
    a = amazon.get(f"{ITEMS}/SKU-A").respond(
        json={"sku": "SKU-A", "fulfillmentAvailability": [{"fulfillmentChannelCode": "DEFAULT", "quantity": 7}]}
    )
    fba = amazon.get(f"{ITEMS}/SKU-FBA").respond(
        json={"sku": "SKU-FBA", "fulfillmentAvailability": [{"fulfillmentChannelCode": "AMAZON_NA"}]}
    )
    comma = amazon.get(f"{ITEMS}/A%2CB").respond(
        json={"sku": "A,B", "fulfillmentAvailability": [{"fulfillmentChannelCode": "DEFAULT", "quantity": 2}]}
    )
    amazon.get(f"{ITEMS}/NOPE").mock(return_value=amazon_error(404, "NOT_FOUND", "not found"))
    client, _ = connector()
    try:
        alone = await client.read_levels(["SKU-A"])
        mixed = await client.read_levels(["SKU-FBA", "A,B"])
        missing = await client.read_levels(["NOPE"])
    finally:
        await client.aclose()
    assert [(lvl.sku, lvl.available) for lvl in alone] == [("SKU-A", 7)]
    assert [(lvl.sku, lvl.available) for lvl in mixed] == [("A,B", 2)]
    assert missing == []
    assert dict(a.calls.last.request.url.params) == {
        "marketplaceIds": MARKETPLACE,
        "includedData": "fulfillmentAvailability",
    }
    assert (a.call_count, fba.call_count, comma.call_count, search.call_count) == (1, 1, 1, 0)


@pytest.mark.anyio
async def test_search_follows_next_token_until_every_sku_is_found(amazon: respx.MockRouter) -> None:
    def item(sku: str, quantity: int) -> dict[str, object]:
        return {"sku": sku, "fulfillmentAvailability": [{"fulfillmentChannelCode": "DEFAULT", "quantity": quantity}]}

    search = amazon.get(ITEMS).mock(
        side_effect=[search_answer(item("SKU-A", 1), next_token="page-2"), search_answer(item("SKU-B", 2))]
    )
    client, _ = connector()
    try:
        levels = await client.read_levels(["SKU-A", "SKU-B"])
    finally:
        await client.aclose()
    assert [(lvl.sku, lvl.available) for lvl in levels] == [("SKU-A", 1), ("SKU-B", 2)]
    assert search.call_count == 2
    assert "pageToken" not in search.calls[0].request.url.params
    assert search.calls[1].request.url.params["pageToken"] == "page-2"
    assert client.api.calls == {"searchListingsItems": 2}


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
async def test_a_patch_failing_while_another_landed_is_unknown_or_failed_not_raised(amazon: respx.MockRouter) -> None:
    amazon.patch(f"{ITEMS}/SKU-A").mock(return_value=accepted("SKU-A"))
    amazon.patch(f"{ITEMS}/SKU-B").mock(return_value=amazon_error(503, "ServiceUnavailable"))
    amazon.patch(f"{ITEMS}/SKU-C").mock(return_value=amazon_error(403, "Unauthorized"))
    targets = [StockTarget(sku, "DEFAULT", 3) for sku in ("SKU-A", "SKU-B", "SKU-C")]
    client, _ = connector()
    try:
        results = await client.push_levels(targets)
    finally:
        await client.aclose()
    assert [r.target for r in results] == targets
    # B's answer never came (it may have landed); C was refused.
    assert [r.status for r in results] == [PushStatus.APPLIED, PushStatus.UNKNOWN, PushStatus.FAILED]
    assert "503" in results[1].message
    assert "403" in results[2].message


@pytest.mark.anyio
async def test_rate_header_adjusts_the_operation_bucket(amazon: respx.MockRouter) -> None:
    amazon.get(f"{ITEMS}/SKU-A").respond(
        json={"sku": "SKU-A", "fulfillmentAvailability": []}, headers={"x-amzn-RateLimit-Limit": "10.0"}
    )
    client, _ = connector(rate_limits={"getOrders": {"rate": 0.05, "burst": 20}})
    try:
        assert client.api.limits.bucket("getListingsItem").refill_rate == 5.0
        assert (
            client.api.limits.bucket("searchListingsItems").refill_rate,
            client.api.limits.bucket("searchListingsItems").capacity,
        ) == (5.0, 5)
        await client.read_levels(["SKU-A"])
    finally:
        await client.aclose()
    assert client.api.limits.bucket("getListingsItem").refill_rate == 10.0
    assert client.api.limits.bucket("getOrders").refill_rate == 0.05
    assert client.api.limits.bucket("createFeed").refill_rate == 0.0083
    assert client.api.limits.bucket("createFeed").capacity == 15  # the plan's full burst: no token kept in reserve
