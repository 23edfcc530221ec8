"""The emulator's HTTP surface: auth, versions, validation errors in Shopify's shape, queries and pagination."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from connectors.shopify.emulator import ShopifyEmulator, ShopifyEmulatorConfig, validate_document
from connectors.shopify.emulator.config import SUPPORTED_VERSIONS
from omnibridge.sdk.emulator import RECORD_ENV, read_recorded

from .emulator_support import SKU, SKU2, client, gql, make_shop

LOCATIONS = """query($first: Int!, $after: String) {
  locations(first: $first, after: $after) { edges { cursor node { id name } } pageInfo { hasNextPage endCursor } }
}"""


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_missing_or_wrong_token_is_http_401() -> None:
    shop = make_shop()

    async def go() -> None:
        async with client(shop.emu) as http:
            for token in (None, "shpat_wrong"):
                response = await gql(http, "{ shop { name } }", token=token)
                assert response.status_code == 401
                assert "Invalid API key or access token" in response.json()["errors"]

    run(go())


def test_retired_or_unknown_version_falls_forward_to_the_oldest_and_served_version_is_echoed() -> None:
    shop = make_shop()

    async def go() -> None:
        async with client(shop.emu) as http:
            for retired in ("2023-01", "2023-13"):
                old = await gql(http, "{ shop { name } }", version=retired)
                assert old.status_code == 200
                assert old.headers["x-shopify-api-version"] == SUPPORTED_VERSIONS[0]
                assert old.json()["data"]["shop"]["name"]
            assert (await gql(http, "{ shop { name } }", version="latest")).status_code == 404
            response = await gql(http, "{ shop { name myshopifyDomain } }", version="2026-04")
            assert response.status_code == 200
            assert response.headers["x-shopify-api-version"] == "2026-04"
            assert response.json()["data"]["shop"]["myshopifyDomain"] == "demo-outfitters.myshopify.com"

    run(go())


def test_invalid_document_is_http_200_with_top_level_errors_and_no_data() -> None:
    shop = make_shop()

    async def go() -> None:
        async with client(shop.emu) as http:
            response = await gql(http, "{ locations(first: 5) { nodes { id nme } } }")
            assert response.status_code == 200
            body = response.json()
            assert "data" not in body
            [error] = body["errors"]
            assert error["message"] == "Field 'nme' doesn't exist on type 'Location'"
            assert error["locations"] == [{"line": 1, "column": 36}]
            assert error["extensions"]["code"] == "undefinedField"
            assert "throttleStatus" in body["extensions"]["cost"]

            syntax = (await gql(http, "{ shop { ")).json()
            assert "data" not in syntax
            assert syntax["errors"][0]["locations"]

            bad_body = await http.post(
                "/admin/api/2025-01/graphql.json",
                content=b"not json",
                headers={"X-Shopify-Access-Token": "shpat_emulator"},
            )
            assert bad_body.status_code == 400

    run(go())


def test_changefromquantity_is_rejected_before_2026_01_and_accepted_after() -> None:
    mutation = """mutation($input: InventorySetQuantitiesInput!) {
      inventorySetQuantities(input: $input) { userErrors { code } }
    }"""
    row = {
        "inventoryItemId": "gid://shopify/InventoryItem/1",
        "locationId": "gid://shopify/Location/1",
        "quantity": 1,
        "changeFromQuantity": None,
    }
    variables = {"input": {"name": "available", "reason": "correction", "quantities": [row]}}
    assert "changeFromQuantity" in validate_document("2025-10", mutation, variables)[0]
    assert validate_document("2026-01", mutation, variables) == []
    compare = {"input": {**variables["input"], "quantities": [{**row, "compareQuantity": 1}]}}
    assert validate_document("2026-01", mutation, compare) == []
    assert "compareQuantity" in validate_document("2026-04", mutation, compare)[0]
    directive = """mutation {
      inventoryAdjustQuantities(input: {name: "available", reason: "correction", changes: []}) @idempotent(key: "k") {
        userErrors { code }
      }
    }"""
    assert validate_document("2025-01", directive) == ["Unknown directive '@idempotent'."]
    assert validate_document("2026-04", directive) == []
    # variables=None checks the document alone; a dict is coerced against the declared types.
    assert validate_document("2026-04", mutation) == []
    assert "non-null" in validate_document("2026-04", mutation, {})[0]


def test_locations_paginate_with_relay_cursors() -> None:
    shop = make_shop()
    for n in range(5):
        shop.emu.add_location(f"Store {n}")

    async def go() -> list[str]:
        names: list[str] = []
        after = None
        async with client(shop.emu) as http:
            while True:
                body = (await gql(http, LOCATIONS, {"first": 3, "after": after})).json()
                page = body["data"]["locations"]
                names += [edge["node"]["name"] for edge in page["edges"]]
                assert page["pageInfo"]["endCursor"] == (page["edges"][-1]["cursor"] if page["edges"] else None)
                if not page["pageInfo"]["hasNextPage"]:
                    return names
                after = page["pageInfo"]["endCursor"]

    names = run(go())
    assert names == sorted(names)
    assert len(names) == 7
    assert len(set(names)) == 7


def test_page_size_above_250_is_an_error() -> None:
    shop = make_shop()

    async def go() -> dict[str, Any]:
        async with client(shop.emu) as http:
            body: dict[str, Any] = (await gql(http, LOCATIONS, {"first": 251})).json()
            return body

    body = run(go())
    assert body["data"] is None
    assert "250" in body["errors"][0]["message"]


def test_inventory_items_by_sku_with_levels_and_quantities() -> None:
    shop = make_shop()
    shop.emu.place_order([(SKU, 2)], location_id=shop.location)
    query = f"""query($q: String!) {{ inventoryItems(first: 10, query: $q) {{ nodes {{ id sku
      inventoryLevels(first: 5) {{ nodes {{ location {{ id }}
        quantities(names: ["available", "committed", "on_hand"]) {{ name quantity }} }} }}
      atMain: inventoryLevel(locationId: "{shop.location}") {{
        quantities(names: ["available"]) {{ quantity }} }} }} }} }}"""

    async def go() -> dict[str, Any]:
        async with client(shop.emu) as http:
            body: dict[str, Any] = (await gql(http, query, {"q": f"sku:'{SKU}' OR sku:{SKU2}"})).json()
            return body

    items = run(go())["data"]["inventoryItems"]["nodes"]
    assert [item["sku"] for item in items] == [SKU, SKU2]
    tent = items[0]
    by_location = {
        lv["location"]["id"]: {q["name"]: q["quantity"] for q in lv["quantities"]}
        for lv in tent["inventoryLevels"]["nodes"]
    }
    assert by_location[shop.location] == {"available": 8, "committed": 2, "on_hand": 10}
    assert by_location[shop.location2] == {"available": 3, "committed": 0, "on_hand": 3}
    assert tent["atMain"]["quantities"] == [{"quantity": 8}]


def test_orders_since_updated_at_sorted_with_fulfillment_location_and_refunds() -> None:
    shop = make_shop()
    first = shop.emu.place_order([(SKU, 1)], location_id=shop.location)
    shop.clock.advance(60)
    second = shop.emu.place_order([(SKU, 2), (SKU2, 1)], location_id=shop.location)
    shop.clock.advance(60)
    shop.emu.refund(first["id"], [(SKU, 1)], restock_type="cancel")
    query = """query($q: String!) {
     orders(first: 10, query: $q, sortKey: UPDATED_AT) { nodes { id name updatedAt cancelledAt
      lineItems(first: 5) { nodes { sku quantity currentQuantity } }
      fulfillmentOrders(first: 2) { nodes { assignedLocation { location { id } }
        lineItems(first: 5) { nodes { totalQuantity remainingQuantity } } } }
      refunds(first: 3) { refundLineItems(first: 5) {
        nodes { quantity restockType location { id } lineItem { sku } } } } } } }"""

    async def go(since: str) -> list[dict[str, Any]]:
        async with client(shop.emu) as http:
            body = (await gql(http, query, {"q": f"updated_at:>='{since}'"})).json()
            assert "errors" not in body, body
            nodes: list[dict[str, Any]] = body["data"]["orders"]["nodes"]
            return nodes

    every = run(go("2026-01-01T00:00:00Z"))
    assert [o["id"] for o in every] == [second["admin_graphql_api_id"], first["admin_graphql_api_id"]]
    recent = run(go("2026-11-23T19:01:30Z"))
    assert [o["name"] for o in recent] == [first["name"]]
    [refund] = recent[0]["refunds"]
    assert refund["refundLineItems"]["nodes"] == [
        {"quantity": 1, "restockType": "CANCEL", "location": {"id": shop.location}, "lineItem": {"sku": SKU}}
    ]
    fo = every[0]["fulfillmentOrders"]["nodes"][0]
    assert fo["assignedLocation"]["location"]["id"] == shop.location
    assert [li["totalQuantity"] for li in fo["lineItems"]["nodes"]] == [2, 1]


def test_injected_server_errors_and_call_counter() -> None:
    shop = make_shop()
    shop.emu.knobs.fail_next = 2

    async def go() -> list[int]:
        async with client(shop.emu) as http:
            return [(await gql(http, "{ shop { name } }")).status_code for _ in range(3)]

    statuses = run(go())
    assert all(status in (500, 503) for status in statuses[:2])
    assert statuses[2] == 200
    assert shop.emu.calls["shop"] == 1
    assert shop.emu.calls["injected_error"] == 2


def test_recording_writes_json_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "requests.jsonl"
    monkeypatch.setenv(RECORD_ENV, str(path))
    emu = ShopifyEmulator(ShopifyEmulatorConfig())

    async def go() -> None:
        async with client(emu) as http:
            await gql(http, "{ shop { name } }", version="2026-01")
            await gql(http, "{ shop { name } }", token="wrong")

    run(go())
    rows = read_recorded(path, "shopify")
    assert [row["path"] for row in rows] == ["/admin/api/2026-01/graphql.json", "/admin/api/2025-01/graphql.json"]
    assert rows[0]["body"]["query"] == "{ shop { name } }"
    assert rows[0]["headers"]["x-shopify-access-token"] == "***"
    assert all(json.loads(line) for line in path.read_text().splitlines())


def test_an_order_field_the_emulator_does_not_model_is_an_error_naming_it() -> None:
    shop = make_shop()
    placed = shop.emu.place_order([(SKU, 1)], shop.location)

    async def go() -> dict[str, Any]:
        async with client(shop.emu) as http:
            query = "query($id: ID!) { order(id: $id) { id name poNumber } }"
            response = await gql(http, query, {"id": placed["admin_graphql_api_id"]})
            return dict(response.json())

    body = asyncio.run(go())
    assert body["data"]["order"] == {"id": placed["admin_graphql_api_id"], "name": placed["name"], "poNumber": None}
    assert [(e["message"], e["path"]) for e in body["errors"]] == [
        ("Field 'poNumber' on type 'Order' is not modelled by the emulator.", ["order", "poNumber"])
    ]
