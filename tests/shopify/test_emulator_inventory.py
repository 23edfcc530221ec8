"""inventorySetQuantities / inventoryAdjustQuantities semantics per API version, as the emulator serves them."""

from __future__ import annotations

import asyncio
from typing import Any

from .emulator_support import SET_MUTATION, SKU, SKU2, Shop, client, gql, make_shop, set_input


def call(shop: Shop, query: str, variables: dict[str, Any], version: str) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        async with client(shop.emu) as http:
            response = await gql(http, query, variables, version=version)
            assert response.status_code == 200
            body: dict[str, Any] = response.json()
            await shop.emu.webhooks.drain(5)
            return body

    return asyncio.run(go())


def test_2025_01_compare_quantity_stale_rejects_the_whole_call() -> None:
    shop = make_shop()
    rows = [
        {"inventoryItemId": shop.item_id, "locationId": shop.location, "quantity": 7, "compareQuantity": 10},
        {"inventoryItemId": shop.item2_id, "locationId": shop.location, "quantity": 1, "compareQuantity": 99},
    ]
    body = call(shop, SET_MUTATION % "", set_input(rows), "2025-01")
    payload = body["data"]["inventorySetQuantities"]
    assert payload["inventoryAdjustmentGroup"] is None
    assert payload["userErrors"] == [
        {
            "code": "COMPARE_QUANTITY_STALE",
            "field": ["input", "quantities", "1", "compareQuantity"],
            "message": "The compareQuantity value does not match persisted value.",
        }
    ]
    assert shop.emu.available(SKU, shop.location) == 10  # the valid first row was not applied either
    assert shop.emu.available(SKU2, shop.location) == 4
    assert shop.receiver.received == []


def test_2025_01_compare_quantity_required_unless_ignored() -> None:
    shop = make_shop()
    row = {"inventoryItemId": shop.item_id, "locationId": shop.location, "quantity": 7}
    errors = call(shop, SET_MUTATION % "", set_input([row]), "2025-01")["data"]["inventorySetQuantities"]["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [
        ("COMPARE_QUANTITY_REQUIRED", ["input", "quantities", "0", "compareQuantity"])
    ]
    ok = call(shop, SET_MUTATION % "", set_input([row], ignoreCompareQuantity=True), "2025-01")["data"][
        "inventorySetQuantities"
    ]
    assert ok["userErrors"] == []
    changes = {c["name"]: (c["delta"], c["quantityAfterChange"]) for c in ok["inventoryAdjustmentGroup"]["changes"]}
    assert changes == {"available": (-3, 7), "on_hand": (-3, 7)}
    assert shop.emu.available(SKU, shop.location) == 7
    assert shop.receiver.topics() == ["inventory_levels/update"]


def test_2025_01_matching_compare_sets_and_fires_one_webhook_per_changed_level() -> None:
    shop = make_shop()
    rows = [
        {"inventoryItemId": shop.item_id, "locationId": shop.location, "quantity": 12, "compareQuantity": 10},
        {"inventoryItemId": shop.item2_id, "locationId": shop.location, "quantity": 4, "compareQuantity": 4},
        {"inventoryItemId": shop.item_id, "locationId": shop.location2, "quantity": 0, "compareQuantity": 3},
    ]
    payload = call(shop, SET_MUTATION % "", set_input(rows), "2025-01")["data"]["inventorySetQuantities"]
    assert payload["userErrors"] == []
    assert shop.emu.available(SKU, shop.location) == 12
    assert shop.emu.available(SKU, shop.location2) == 0
    assert [r.headers["x-shopify-topic"] for r in shop.receiver.received] == [
        "inventory_levels/update"
    ] * 2  # SKU2 unchanged


def test_per_item_errors_carry_the_index() -> None:
    shop = make_shop()
    unstocked = shop.emu.add_product(sku="NEW-1", title="New", price="1.00").inventory_item_id
    rows = [
        {"inventoryItemId": shop.item_id, "locationId": shop.location, "quantity": 1, "compareQuantity": 10},
        {
            "inventoryItemId": "gid://shopify/InventoryItem/1",
            "locationId": shop.location,
            "quantity": 1,
            "compareQuantity": 0,
        },
        {
            "inventoryItemId": shop.item_id,
            "locationId": "gid://shopify/Location/1",
            "quantity": 1,
            "compareQuantity": 0,
        },
        {"inventoryItemId": unstocked, "locationId": shop.location, "quantity": 1, "compareQuantity": 0},
        {"inventoryItemId": shop.item2_id, "locationId": shop.location, "quantity": -1, "compareQuantity": 4},
    ]
    errors = call(shop, SET_MUTATION % "", set_input(rows, reason="because"), "2025-01")["data"][
        "inventorySetQuantities"
    ]["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [
        ("INVALID_REASON", ["input", "reason"]),
        ("INVALID_INVENTORY_ITEM", ["input", "quantities", "1", "inventoryItemId"]),
        ("INVALID_LOCATION", ["input", "quantities", "2", "locationId"]),
        ("ITEM_NOT_STOCKED_AT_LOCATION", ["input", "quantities", "3", "locationId"]),
        ("INVALID_QUANTITY_NEGATIVE", ["input", "quantities", "4", "quantity"]),
    ]
    name_errors = call(shop, SET_MUTATION % "", set_input(rows[:1], name="committed"), "2025-01")
    assert [e["code"] for e in name_errors["data"]["inventorySetQuantities"]["userErrors"]] == ["INVALID_NAME"]
    assert shop.emu.available(SKU, shop.location) == 10


def test_more_than_250_quantities_is_a_top_level_error() -> None:
    shop = make_shop()
    rows = [{"inventoryItemId": shop.item_id, "locationId": shop.location, "quantity": 1, "compareQuantity": 10}] * 251
    body = call(shop, SET_MUTATION % "", set_input(rows), "2025-01")
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    assert error["path"] == ["inventorySetQuantities", "input", "quantities"]
    assert shop.emu.available(SKU, shop.location) == 10


def test_2026_01_change_from_quantity_mismatch_fails_and_null_skips_the_check() -> None:
    shop = make_shop()
    stale = [{"inventoryItemId": shop.item_id, "locationId": shop.location, "quantity": 5, "changeFromQuantity": 9}]
    errors = call(shop, SET_MUTATION % "", set_input(stale), "2026-01")["data"]["inventorySetQuantities"]["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [
        ("CHANGE_FROM_QUANTITY_STALE", ["input", "quantities", "0", "changeFromQuantity"])
    ]
    unchecked = [
        {"inventoryItemId": shop.item_id, "locationId": shop.location, "quantity": 5, "changeFromQuantity": None}
    ]
    assert (
        call(shop, SET_MUTATION % "", set_input(unchecked), "2026-01")["data"]["inventorySetQuantities"]["userErrors"]
        == []
    )
    assert shop.emu.available(SKU, shop.location) == 5


def test_2026_04_requires_change_from_quantity_and_idempotency_key() -> None:
    shop = make_shop()
    no_change_from = [{"inventoryItemId": shop.item_id, "locationId": shop.location, "quantity": 5}]
    body = call(shop, SET_MUTATION % ' @idempotent(key: "k-1")', set_input(no_change_from), "2026-04")
    assert "data" not in body
    assert "changeFromQuantity" in body["errors"][0]["message"]
    assert body["errors"][0]["path"] == ["inventorySetQuantities", "input", "quantities", 0, "changeFromQuantity"]

    rows = [{"inventoryItemId": shop.item_id, "locationId": shop.location, "quantity": 5, "changeFromQuantity": 10}]
    body = call(shop, SET_MUTATION % "", set_input(rows), "2026-04")
    assert "data" not in body
    assert "@idempotent" in body["errors"][0]["message"]
    assert shop.emu.available(SKU, shop.location) == 10

    legacy = [{"inventoryItemId": shop.item_id, "locationId": shop.location, "quantity": 5, "compareQuantity": 10}]
    body = call(shop, SET_MUTATION % ' @idempotent(key: "k-2")', set_input(legacy), "2026-04")
    assert body["errors"][0]["extensions"]["code"] == "INVALID_VARIABLE"


def test_idempotent_replay_applies_once_and_key_reuse_with_other_input_fails() -> None:
    shop = make_shop()
    mutation = SET_MUTATION % ' @idempotent(key: "2b7c9c1e-5d55-4d0f-9a63-7f3a1c2d4e5f")'
    rows = [{"inventoryItemId": shop.item_id, "locationId": shop.location, "quantity": 6, "changeFromQuantity": 10}]
    first = call(shop, mutation, set_input(rows), "2026-04")["data"]["inventorySetQuantities"]
    # The retry would be stale (available is now 6), yet it returns the original result and changes nothing.
    replay = call(shop, mutation, set_input(rows), "2026-04")["data"]["inventorySetQuantities"]
    assert replay == first
    assert first["userErrors"] == []
    assert shop.emu.available(SKU, shop.location) == 6
    assert shop.receiver.topics() == ["inventory_levels/update"]

    other = [{**rows[0], "quantity": 1, "changeFromQuantity": 6}]
    mismatch = call(shop, mutation, set_input(other), "2026-04")["data"]["inventorySetQuantities"]
    assert [e["code"] for e in mismatch["userErrors"]] == ["IDEMPOTENCY_KEY_PARAMETER_MISMATCH"]
    assert shop.emu.available(SKU, shop.location) == 6


def test_adjust_quantities_applies_deltas_and_checks_ledger_documents() -> None:
    shop = make_shop()
    mutation = """mutation($input: InventoryAdjustQuantitiesInput!) { inventoryAdjustQuantities(input: $input) {
      inventoryAdjustmentGroup { changes { name delta quantityAfterChange } } userErrors { code field } } }"""
    changes = [
        {"inventoryItemId": shop.item_id, "locationId": shop.location, "delta": -2},
        {"inventoryItemId": shop.item2_id, "locationId": shop.location, "delta": 3},
    ]
    payload = call(
        shop, mutation, {"input": {"name": "available", "reason": "received", "changes": changes}}, "2025-01"
    )
    assert payload["data"]["inventoryAdjustQuantities"]["userErrors"] == []
    assert shop.emu.available(SKU, shop.location) == 8
    assert shop.emu.available(SKU2, shop.location) == 7
    damaged = {"input": {"name": "damaged", "reason": "damaged", "changes": changes[:1]}}
    errors = call(shop, mutation, damaged, "2025-01")["data"]["inventoryAdjustQuantities"]["userErrors"]
    assert errors == [{"code": "INVALID_QUANTITY_DOCUMENT", "field": ["input", "changes", "0", "ledgerDocumentUri"]}]
