"""Calculated query cost, MAX_COST_EXCEEDED and THROTTLED from the leaky bucket (injected clock)."""

from __future__ import annotations

import asyncio
from typing import Any

from .emulator_support import client, gql, make_shop

ITEMS = """query($first: Int!) {
  inventoryItems(first: $first) {
    nodes {
      id sku inventoryLevels(first: 5) { nodes { location { id } quantities(names: ["available"]) { quantity } } }
    }
  }
}"""
ADJUST = """mutation {
  inventoryAdjustQuantities(input: {name: "available", reason: "correction", changes: []}) { userErrors { code } }
}"""


def test_requested_cost_follows_shopify_rules() -> None:
    shop = make_shop()

    async def go() -> list[int]:
        async with client(shop.emu) as http:
            costs = []
            for query, variables in (
                ("{ shop { name } }", {}),  # object 1
                (ITEMS, {"first": 10}),  # 2 + 10 x (1 + (2 + 5 x (1 + location 1 + quantities 1)))
                (
                    ADJUST,
                    {},
                ),
            ):
                body = (await gql(http, query, variables)).json()
                costs.append(body["extensions"]["cost"]["requestedQueryCost"])
            return costs

    assert asyncio.run(go()) == [1, 2 + 10 * (1 + 2 + 5 * 3), 10]


def test_query_above_1000_points_is_max_cost_exceeded_without_data() -> None:
    shop = make_shop()

    async def go() -> dict[str, Any]:
        async with client(shop.emu) as http:
            body: dict[str, Any] = (await gql(http, ITEMS, {"first": 250})).json()
            return body

    body = asyncio.run(go())
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert body["extensions"]["cost"]["requestedQueryCost"] > 1000
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 2000.0  # nothing charged


def test_actual_cost_is_refunded_and_throttled_until_the_bucket_restores() -> None:
    shop = make_shop(bucket_size=200.0, restore_rate=10.0)

    async def go() -> list[dict[str, Any]]:
        async with client(shop.emu) as http:
            bodies = [
                (
                    await gql(http, ITEMS, {"first": 10})
                ).json(),  # requests 182; 2 items (2 + 1 levels): actual 2 + 9 + 6
                (await gql(http, ITEMS, {"first": 11})).json(),  # requests 200 > 183 available
            ]
            shop.clock.advance(1.7)
            bodies.append((await gql(http, ITEMS, {"first": 11})).json())
            return bodies

    ok, throttled, again = asyncio.run(go())
    assert ok["extensions"]["cost"] == {
        "requestedQueryCost": 182,
        "actualQueryCost": 17,
        "throttleStatus": {"maximumAvailable": 200.0, "currentlyAvailable": 183.0, "restoreRate": 10.0},
    }
    assert "data" not in throttled
    assert throttled["errors"] == [
        {
            "message": "Throttled",
            "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
        }
    ]
    assert throttled["extensions"]["cost"]["requestedQueryCost"] == 200
    assert throttled["extensions"]["cost"]["actualQueryCost"] is None
    assert throttled["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 183.0
    assert len(again["data"]["inventoryItems"]["nodes"]) == 2
    assert again["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 183.0
    assert shop.emu.calls["throttled"] == 1
    assert shop.emu.calls["inventoryItems"] == 2


def test_the_cost_charged_is_counted_per_operation_net_of_refunds() -> None:
    shop = make_shop(bucket_size=200.0, restore_rate=10.0)

    async def go() -> None:
        async with client(shop.emu) as http:
            await gql(http, ITEMS, {"first": 10})  # requests 182, actual 17: 165 refunded
            await gql(http, ITEMS, {"first": 11})  # throttled: nothing charged
            await gql(http, ITEMS, {"first": 250})  # MAX_COST_EXCEEDED: nothing charged
            await gql(http, "{ shop { name } }", {})

    asyncio.run(go())
    assert shop.emu.cost_charged == {"inventoryItems": 17, "shop": 1}
