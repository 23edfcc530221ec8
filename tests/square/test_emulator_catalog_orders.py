"""Square emulator, Locations, Catalog and Orders APIs: sku lookups, order search filters, sort rules, cursors."""

from __future__ import annotations

from typing import Any

import httpx

from .emulator_support import SKU, Shop, make_shop, run


def _call(shop: Shop, method: str, path: str, body: Any = None) -> httpx.Response:
    async def go() -> httpx.Response:
        async with shop.client() as client:
            return await client.request(method, path, json=body)

    return run(go)


def test_locations_list_has_square_shaped_ids() -> None:
    shop = make_shop()
    locations = _call(shop, "GET", "/v2/locations").json()["locations"]
    assert [loc["name"] for loc in locations] == ["Downtown store"]
    assert len(locations[0]["id"]) == 13
    assert locations[0]["id"].isalnum()
    assert locations[0]["id"].upper() == locations[0]["id"]
    assert locations[0]["merchant_id"] == "MLEMULATOR"


def test_catalog_search_by_sku_is_case_insensitive_and_set_queries_match_several() -> None:
    shop = make_shop()
    mug = shop.emu.add_variation(sku="MUG-BLUE", name="Mug", price_cents=1200, currency="USD")
    exact = {
        "object_types": ["ITEM_VARIATION"],
        "query": {"exact_query": {"attribute_name": "sku", "attribute_value": SKU.lower()}},
    }
    objects = _call(shop, "POST", "/v2/catalog/search", exact).json()["objects"]
    assert [o["id"] for o in objects] == [shop.variation_id]
    assert objects[0]["item_variation_data"]["sku"] == SKU
    assert objects[0]["item_variation_data"]["track_inventory"] is True

    several = {
        "object_types": ["ITEM_VARIATION"],
        "query": {"set_query": {"attribute_name": "sku", "attribute_values": ["mug-blue", SKU, "NOPE"]}},
        "limit": 1,
    }
    first = _call(shop, "POST", "/v2/catalog/search", several).json()
    second = _call(shop, "POST", "/v2/catalog/search", several | {"cursor": first["cursor"]}).json()
    assert {o["id"] for o in first["objects"] + second["objects"]} == {shop.variation_id, mug}
    assert "cursor" not in second


def test_catalog_batch_retrieve_returns_known_objects_and_their_items() -> None:
    shop = make_shop()
    body = {"object_ids": [shop.variation_id, "UNKNOWN"], "include_related_objects": True}
    data = _call(shop, "POST", "/v2/catalog/batch-retrieve", body).json()
    assert [o["id"] for o in data["objects"]] == [shop.variation_id]
    assert [o["type"] for o in data["related_objects"]] == ["ITEM"]
    assert data["related_objects"][0]["item_data"]["name"] == "Trail tent"


def _sales(shop: Shop, count: int) -> list[dict[str, Any]]:
    orders = []
    for _ in range(count):
        shop.clock.advance(60)
        orders.append(shop.emu.pos_sale(shop.location_id, [(SKU, 1)]))
    return orders


def test_orders_search_filters_by_updated_at_sorts_and_pages_with_the_same_query() -> None:
    shop = make_shop()
    start = shop.iso()
    placed = _sales(shop, 3)
    query = {
        "filter": {
            "state_filter": {"states": ["COMPLETED"]},
            "date_time_filter": {"updated_at": {"start_at": start}},
        },
        "sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"},
    }
    body: dict[str, Any] = {"location_ids": [shop.location_id], "query": query, "limit": 2}
    first = _call(shop, "POST", "/v2/orders/search", body).json()
    assert [o["id"] for o in first["orders"]] == [placed[0]["id"], placed[1]["id"]]
    second = _call(shop, "POST", "/v2/orders/search", body | {"cursor": first["cursor"]}).json()
    assert [o["id"] for o in second["orders"]] == [placed[2]["id"]]
    assert "cursor" not in second
    order = second["orders"][0]
    assert order["state"] == "COMPLETED"
    assert order["source"] == {"name": "Square Point of Sale"}
    assert order["line_items"][0]["catalog_object_id"] == shop.variation_id
    assert order["line_items"][0]["quantity"] == "1"

    other_query = body | {"cursor": first["cursor"], "limit": 2, "location_ids": [shop.location_id], "query": {}}
    reused = _call(shop, "POST", "/v2/orders/search", other_query)
    assert reused.status_code == 400
    assert reused.json()["errors"][0]["code"] == "INVALID_CURSOR"


def test_orders_search_sort_field_must_match_the_time_filter() -> None:
    shop = make_shop()
    body = {
        "location_ids": [shop.location_id],
        "query": {"filter": {"date_time_filter": {"updated_at": {"start_at": shop.iso(-60)}}}},
    }
    response = _call(shop, "POST", "/v2/orders/search", body)  # default sort_field is CREATED_AT
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["category"] == "INVALID_REQUEST_ERROR"
    assert error["field"] == "query.sort.sort_field"


def test_orders_search_limits_locations_and_needs_closed_states_for_closed_at() -> None:
    shop = make_shop()
    eleven = [shop.location_id] + [shop.emu.add_location(f"Store {i}") for i in range(10)]
    too_many = _call(shop, "POST", "/v2/orders/search", {"location_ids": eleven})
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["field"] == "location_ids"
    query: dict[str, Any] = {"sort": {"sort_field": "CLOSED_AT"}}
    closed = {"location_ids": [shop.location_id], "query": query}
    assert _call(shop, "POST", "/v2/orders/search", closed).status_code == 400
    query["filter"] = {"state_filter": {"states": ["COMPLETED"]}}
    assert _call(shop, "POST", "/v2/orders/search", closed).status_code == 200


def test_orders_batch_retrieve_and_retrieve_one() -> None:
    shop = make_shop()
    (order,) = _sales(shop, 1)
    found = _call(shop, "POST", "/v2/orders/batch-retrieve", {"order_ids": [order["id"], "missing"]}).json()
    assert [o["id"] for o in found["orders"]] == [order["id"]]
    assert _call(shop, "GET", f"/v2/orders/{order['id']}").json()["order"]["version"] == order["version"]
    missing = _call(shop, "GET", "/v2/orders/missing")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "NOT_FOUND"
    unknown = _call(shop, "GET", "/v2/no-such-api")
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["category"] == "INVALID_REQUEST_ERROR"
