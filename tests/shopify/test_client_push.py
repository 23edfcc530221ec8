"""push_levels: inventorySetQuantities per API version, compare-and-set retries, per-item errors, batching."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from connectors.shopify import queries
from connectors.shopify.client import READ_MAX_COST, ShopifyClient
from omnibridge.sdk import AmbiguousWriteError, RetriableConnectorError
from omnibridge.sdk.channel import PushResult, PushStatus, StockTarget
from omnibridge.sdk.idempotency import derived_key

from .client_support import (
    STORE,
    WAREHOUSE,
    ScriptedShop,
    data,
    fixture,
    item_gid,
    items_reply,
    run_client,
    set_reply,
)

TEE, MUG, CAP = item_gid(76), item_gid(80), item_gid(90)
KNOWN = items_reply(
    ("TEE-BLK-M", TEE, {WAREHOUSE: 12, STORE: 3}),
    ("MUG-WHT", MUG, {WAREHOUSE: 0, STORE: 7}),
    ("CAP-RED", CAP, {WAREHOUSE: 5}),
)


def push(version: str, targets: list[StockTarget], shop: ScriptedShop, **options: Any) -> list[PushResult]:
    async def call(client: ShopifyClient) -> list[PushResult]:
        return await client.push_levels(targets)

    results, _ = run_client(version, call, shop, **options)
    return results


def idempotency_key(query: str) -> str:
    return query.split('@idempotent(key: "')[1].split('"')[0]


def quantities(shop: ScriptedShop) -> list[list[dict[str, Any]]]:
    return [sent.variables["input"]["quantities"] for sent in shop.of("SetAvailable")]


def test_2025_01_sends_compare_quantity_and_no_idempotent_directive() -> None:
    shop = ScriptedShop("2025-01")
    shop.reply("InventoryItemsBySku", KNOWN)
    shop.reply("SetAvailable", fixture("set_quantities_applied.json"))
    targets = [
        StockTarget("TEE-BLK-M", WAREHOUSE, 10, expected=12, reference="push-1"),
        StockTarget("TEE-BLK-M", STORE, 8, expected=3, reference="push-1"),
    ]

    results = push("2025-01", targets, shop)

    assert [(r.status, r.shown) for r in results] == [(PushStatus.APPLIED, 10), (PushStatus.APPLIED, 8)]
    (sent,) = shop.of("SetAvailable")
    assert sent.query == queries.set_quantities_mutation("2025-01", None)
    assert "@idempotent" not in sent.query
    assert sent.variables == {
        "input": {
            "name": "available",
            "reason": "correction",
            "referenceDocumentUri": "gid://omnibridge/SyncPush/push-1",
            "quantities": [
                {"inventoryItemId": TEE, "locationId": WAREHOUSE, "quantity": 10, "compareQuantity": 12},
                {"inventoryItemId": TEE, "locationId": STORE, "quantity": 8, "compareQuantity": 3},
            ],
        }
    }


def test_2026_04_sends_change_from_quantity_and_an_idempotency_key() -> None:
    shop = ScriptedShop("2026-04")
    shop.reply("InventoryItemsBySku", KNOWN)
    shop.reply("SetAvailable", set_reply([(MUG, STORE, 9)]))

    results = push("2026-04", [StockTarget("MUG-WHT", STORE, 9, expected=7, reference="r-7")], shop)

    assert results[0].status is PushStatus.APPLIED
    assert results[0].shown == 9
    (sent,) = shop.of("SetAvailable")
    # The key is derived from the engine's batch reference and the exact input, so a resend is recognised.
    key = derived_key("r-7", sent.variables)
    assert sent.query == queries.set_quantities_mutation("2026-04", key)
    assert f'inventorySetQuantities(input: $input) @idempotent(key: "{key}")' in sent.query
    assert sent.variables["input"]["quantities"] == [
        {"inventoryItemId": MUG, "locationId": STORE, "quantity": 9, "changeFromQuantity": 7}
    ]
    assert sent.variables["input"]["referenceDocumentUri"] == "gid://omnibridge/SyncPush/r-7"


def test_the_same_write_resent_under_its_batch_reference_carries_the_same_key() -> None:
    keys: list[str] = []
    for _ in range(2):
        shop = ScriptedShop("2026-04")
        shop.reply("InventoryItemsBySku", KNOWN)
        shop.reply("SetAvailable", set_reply([(MUG, STORE, 9)]))
        push("2026-04", [StockTarget("MUG-WHT", STORE, 9, expected=7, reference="batch-1")], shop)
        (sent,) = shop.of("SetAvailable")
        keys.append(sent.query)
    assert keys[0] == keys[1]

    shop = ScriptedShop("2026-04")
    shop.reply("InventoryItemsBySku", KNOWN)
    shop.reply("SetAvailable", set_reply([(MUG, STORE, 8)]))
    push("2026-04", [StockTarget("MUG-WHT", STORE, 8, expected=7, reference="batch-1")], shop)
    (other,) = shop.of("SetAvailable")
    assert other.query != keys[0]  # other content under the same reference: another key


def test_targets_without_a_shared_reference_get_a_fresh_key() -> None:
    shop = ScriptedShop("2026-04")
    shop.reply("InventoryItemsBySku", KNOWN)
    shop.reply("SetAvailable", set_reply([(MUG, STORE, 9)]))
    push("2026-04", [StockTarget("MUG-WHT", STORE, 9, expected=7)], shop)
    (sent,) = shop.of("SetAvailable")
    # the first injected key named the reference document, the second is the idempotency key
    assert '@idempotent(key: "00000000-0000-4000-8000-000000000002")' in sent.query


def test_2026_01_sends_both_compare_values_and_the_directive() -> None:
    shop = ScriptedShop("2026-01")
    shop.reply("InventoryItemsBySku", KNOWN)
    shop.reply("SetAvailable", set_reply([(CAP, WAREHOUSE, 4)]))

    push("2026-01", [StockTarget("CAP-RED", WAREHOUSE, 4, expected=5)], shop)

    (sent,) = shop.of("SetAvailable")
    assert "@idempotent(key:" in sent.query
    assert sent.variables["input"]["quantities"] == [
        {"inventoryItemId": CAP, "locationId": WAREHOUSE, "quantity": 4, "compareQuantity": 5, "changeFromQuantity": 5}
    ]


def test_unknown_skus_are_reported_without_a_write() -> None:
    shop = ScriptedShop("2026-04")
    shop.reply("InventoryItemsBySku", KNOWN)

    results = push("2026-04", [StockTarget("GHOST", WAREHOUSE, 3, expected=1), StockTarget("GHOST-2", STORE, 1)], shop)

    assert [r.status for r in results] == [PushStatus.UNKNOWN_SKU, PushStatus.UNKNOWN_SKU]
    assert shop.of("SetAvailable") == []


def test_missing_expected_is_read_first_and_already_right_targets_are_unchanged() -> None:
    shop = ScriptedShop("2025-01")
    shop.reply("InventoryItemsBySku", KNOWN)
    shop.reply("SetAvailable", set_reply([(TEE, WAREHOUSE, 20)]))
    targets = [
        StockTarget("TEE-BLK-M", WAREHOUSE, 20),
        StockTarget("MUG-WHT", STORE, 7),
        StockTarget("CAP-RED", STORE, 2),
    ]

    results = push("2025-01", targets, shop)

    assert [(r.status, r.shown) for r in results] == [
        (PushStatus.APPLIED, 20),
        (PushStatus.UNCHANGED, 7),
        (PushStatus.UNKNOWN_SKU, None),
    ]
    assert len(shop.of("InventoryItemsBySku")) == 1
    assert quantities(shop) == [
        [{"inventoryItemId": TEE, "locationId": WAREHOUSE, "quantity": 20, "compareQuantity": 12}]
    ]


def test_stale_compare_rereads_marks_equal_unchanged_and_retries_the_rest_with_a_new_key() -> None:
    shop = ScriptedShop("2026-04")
    shop.reply("InventoryItemsBySku", KNOWN)
    # The call is rejected: index 1 (MUG at STORE) and index 2 (CAP) are stale.
    shop.reply(
        "SetAvailable",
        set_reply(
            errors=[
                ("CHANGE_FROM_QUANTITY_STALE", 1, "changeFromQuantity"),
                ("CHANGE_FROM_QUANTITY_STALE", 2, "changeFromQuantity"),
            ]
        ),
        set_reply([(TEE, WAREHOUSE, 10), (CAP, WAREHOUSE, 1)]),
    )
    # Fresh read: MUG already shows 4 (what we want); CAP moved from 5 to 6.
    shop.reply(
        "InventoryItemsBySku",
        items_reply(("MUG-WHT", MUG, {WAREHOUSE: 0, STORE: 4}), ("CAP-RED", CAP, {WAREHOUSE: 6})),
    )
    targets = [
        StockTarget("TEE-BLK-M", WAREHOUSE, 10, expected=12),
        StockTarget("MUG-WHT", STORE, 4, expected=7),
        StockTarget("CAP-RED", WAREHOUSE, 1, expected=5),
    ]

    results = push("2026-04", targets, shop)

    assert [(r.status, r.shown) for r in results] == [
        (PushStatus.APPLIED, 10),
        (PushStatus.UNCHANGED, 4),
        (PushStatus.APPLIED, 1),
    ]
    first, second = shop.of("SetAvailable")
    assert [q["changeFromQuantity"] for q in quantities(shop)[1]] == [12, 6]
    assert [q["inventoryItemId"] for q in quantities(shop)[1]] == [TEE, CAP]
    assert idempotency_key(first.query) != idempotency_key(second.query)
    assert first.variables["input"]["referenceDocumentUri"] == second.variables["input"]["referenceDocumentUri"]
    assert shop.of("InventoryItemsBySku")[1].variables["query"] == "sku:'MUG-WHT' OR sku:'CAP-RED'"


def test_a_stale_compare_is_reported_without_retrying_when_the_caller_decides() -> None:
    shop = ScriptedShop("2026-04")
    shop.reply("InventoryItemsBySku", KNOWN)
    shop.reply(
        "SetAvailable",
        set_reply(errors=[("CHANGE_FROM_QUANTITY_STALE", 1, "changeFromQuantity")]),
        set_reply([(TEE, WAREHOUSE, 10)]),
    )
    targets = [
        StockTarget("TEE-BLK-M", WAREHOUSE, 10, expected=12, retry_stale=False),
        StockTarget("CAP-RED", WAREHOUSE, 1, expected=5, retry_stale=False),
    ]

    results = push("2026-04", targets, shop)

    assert [r.status for r in results] == [PushStatus.APPLIED, PushStatus.STALE]
    assert "caller re-reads" in results[1].message
    # no re-read of the stale item, and the retry carries only the other one
    assert len(shop.of("InventoryItemsBySku")) == 1
    assert [q["inventoryItemId"] for q in quantities(shop)[1]] == [TEE]


def test_compare_that_keeps_going_stale_ends_stale() -> None:
    shop = ScriptedShop("2025-01")
    shop.reply("InventoryItemsBySku", KNOWN)
    stale = set_reply(errors=[("COMPARE_QUANTITY_STALE", 0, "compareQuantity")])
    shop.reply("SetAvailable", stale, stale)
    shop.reply(
        "InventoryItemsBySku",
        items_reply(("CAP-RED", CAP, {WAREHOUSE: 6})),
        items_reply(("CAP-RED", CAP, {WAREHOUSE: 7})),
    )

    results = push("2025-01", [StockTarget("CAP-RED", WAREHOUSE, 1, expected=5)], shop, max_push_attempts=2)

    assert results[0].status is PushStatus.STALE
    assert [q[0]["compareQuantity"] for q in quantities(shop)] == [5, 6]


def test_per_item_errors_fail_those_items_and_resend_only_the_others() -> None:
    shop = ScriptedShop("2025-01")
    shop.reply("InventoryItemsBySku", KNOWN)
    shop.reply(
        "SetAvailable",
        fixture("set_quantities_item_errors.json"),
        set_reply([(TEE, WAREHOUSE, 11), (CAP, WAREHOUSE, 2)]),
    )
    targets = [
        StockTarget("TEE-BLK-M", WAREHOUSE, 11, expected=12),
        StockTarget("MUG-WHT", WAREHOUSE, 5, expected=0),
        StockTarget("TEE-BLK-M", STORE, -1, expected=3),
        StockTarget("CAP-RED", WAREHOUSE, 2, expected=5),
    ]

    results = push("2025-01", targets, shop)

    assert [r.status for r in results] == [
        PushStatus.APPLIED,
        PushStatus.UNKNOWN_SKU,
        PushStatus.FAILED,
        PushStatus.APPLIED,
    ]
    assert "INVALID_QUANTITY_NEGATIVE" in results[2].message
    assert [[q["inventoryItemId"] for q in batch] for batch in quantities(shop)] == [[TEE, MUG, TEE, CAP], [TEE, CAP]]


def test_a_batch_wide_user_error_fails_every_target() -> None:
    shop = ScriptedShop("2025-01")
    shop.reply("InventoryItemsBySku", KNOWN)
    shop.reply("SetAvailable", set_reply(errors=[("INVALID_REASON", None, "reason")]))

    results = push(
        "2025-01",
        [StockTarget("TEE-BLK-M", WAREHOUSE, 1, expected=12), StockTarget("CAP-RED", WAREHOUSE, 2, expected=5)],
        shop,
    )

    assert [r.status for r in results] == [PushStatus.FAILED, PushStatus.FAILED]
    assert "INVALID_REASON" in results[0].message
    assert len(shop.of("SetAvailable")) == 1


def test_more_than_250_targets_are_split_into_several_calls() -> None:
    skus = [f"SKU-{n:03d}" for n in range(130)]

    def items_for(variables: dict[str, Any]) -> dict[str, Any]:
        asked = [term.split("'")[1] for term in variables["query"].split(" OR ")]
        return items_reply(*[(sku, item_gid(int(sku[4:])), {WAREHOUSE: 1, STORE: 1}) for sku in asked])

    def applied(variables: dict[str, Any]) -> dict[str, Any]:
        rows = variables["input"]["quantities"]
        return set_reply([(row["inventoryItemId"], row["locationId"], row["quantity"]) for row in rows])

    shop = ScriptedShop("2026-04")
    size = queries.inventory_items_page_size(queries.LEVELS_PER_ITEM, READ_MAX_COST)
    shop.reply("InventoryItemsBySku", *[items_for] * (-(-len(skus) // size)))
    shop.reply("SetAvailable", applied, applied)
    targets = [StockTarget(sku, location, 5, expected=1) for sku in skus for location in (WAREHOUSE, STORE)]

    results = push("2026-04", targets, shop)

    assert len(results) == 260
    assert all(r.status is PushStatus.APPLIED and r.shown == 5 for r in results)
    assert [r.target for r in results] == targets
    assert [len(batch) for batch in quantities(shop)] == [250, 10]
    keys = {idempotency_key(sent.query) for sent in shop.of("SetAvailable")}
    assert len(keys) == 2


def _many_targets(shop: ScriptedShop, count: int) -> list[StockTarget]:
    skus = [f"SKU-{n:03d}" for n in range(count)]

    def items_for(variables: dict[str, Any]) -> dict[str, Any]:
        asked = [term.split("'")[1] for term in variables["query"].split(" OR ")]
        return items_reply(*[(sku, item_gid(int(sku[4:])), {WAREHOUSE: 1, STORE: 1}) for sku in asked])

    shop.reply(
        "InventoryItemsBySku",
        *[items_for] * (-(-len(skus) // queries.inventory_items_page_size(queries.LEVELS_PER_ITEM, READ_MAX_COST))),
    )
    return [StockTarget(sku, location, 5, expected=1) for sku in skus for location in (WAREHOUSE, STORE)]


def _applied(variables: dict[str, Any]) -> dict[str, Any]:
    rows = variables["input"]["quantities"]
    return set_reply([(row["inventoryItemId"], row["locationId"], row["quantity"]) for row in rows])


@pytest.mark.parametrize(
    ("version", "failure", "status"),
    [
        ("2026-04", [httpx.Response(503)] * 4, PushStatus.UNKNOWN),  # resent under its key, then given up
        ("2025-01", [httpx.Response(503)], PushStatus.UNKNOWN),  # no key: not resent, it may have landed
        ("2026-04", [httpx.Response(401)], PushStatus.FAILED),  # refused: nothing was written
    ],
)
def test_a_chunk_failing_after_an_earlier_one_landed_reports_each_target_instead_of_raising(
    version: str, failure: list[httpx.Response], status: PushStatus
) -> None:
    shop = ScriptedShop(version)
    targets = _many_targets(shop, 260)  # 520 targets: chunks of 250, 250 and 20
    shop.reply("SetAvailable", _applied, *failure)

    results = push(version, targets, shop)

    assert [r.target for r in results] == targets
    assert [len(batch) for batch in quantities(shop)] == [250] + [250] * len(failure)  # the third is not sent
    assert {(r.status, r.shown) for r in results[:250]} == {(PushStatus.APPLIED, 5)}
    assert {r.status for r in results[250:500]} == {status}
    assert all(r.message and not r.message.startswith("not sent") for r in results[250:500])
    assert {r.status for r in results[500:]} == {PushStatus.UNKNOWN}
    assert all(r.message.startswith("not sent: an earlier part of the batch failed") for r in results[500:])


def test_a_chunk_failing_before_anything_landed_raises() -> None:
    shop = ScriptedShop("2026-04")
    targets = _many_targets(shop, 130)
    shop.reply("SetAvailable", *[httpx.Response(503)] * 4)

    with pytest.raises(RetriableConnectorError):
        push("2026-04", targets, shop)
    assert [len(batch) for batch in quantities(shop)] == [250] * 4  # the second chunk was never sent


def test_a_write_with_an_idempotency_key_is_resent_with_the_same_key_after_a_server_error() -> None:
    shop = ScriptedShop("2026-04")
    shop.reply("InventoryItemsBySku", KNOWN)
    shop.reply("SetAvailable", httpx.Response(503), set_reply([(TEE, STORE, 4)]))

    results = push("2026-04", [StockTarget("TEE-BLK-M", STORE, 4, expected=3)], shop)

    assert results[0].status is PushStatus.APPLIED
    first, second = shop.of("SetAvailable")
    assert first.query == second.query
    assert first.variables == second.variables


def test_a_write_without_idempotency_is_not_resent_after_a_server_error() -> None:
    shop = ScriptedShop("2025-01")
    shop.reply("InventoryItemsBySku", KNOWN)
    shop.reply("SetAvailable", httpx.Response(503))

    with pytest.raises(AmbiguousWriteError):
        push("2025-01", [StockTarget("TEE-BLK-M", STORE, 4, expected=3)], shop)
    assert len(shop.of("SetAvailable")) == 1


def test_duplicate_targets_keep_the_last_and_mixed_references_get_a_batch_reference() -> None:
    shop = ScriptedShop("2025-01")
    shop.reply("InventoryItemsBySku", KNOWN)
    shop.reply("SetAvailable", data({"inventorySetQuantities": {"inventoryAdjustmentGroup": None, "userErrors": []}}))
    targets = [
        StockTarget("TEE-BLK-M", STORE, 4, expected=3, reference="a"),
        StockTarget("CAP-RED", WAREHOUSE, 1, expected=5, reference="b"),
        StockTarget("TEE-BLK-M", STORE, 6, expected=3, reference="c"),
    ]

    results = push("2025-01", targets, shop)

    assert [r.status for r in results] == [PushStatus.FAILED, PushStatus.APPLIED, PushStatus.APPLIED]
    assert "superseded" in results[0].message
    assert results[2].shown == 6  # no change rows returned: the target quantity is what Shopify now shows
    (sent,) = shop.of("SetAvailable")
    assert (
        sent.variables["input"]["referenceDocumentUri"]
        == "gid://omnibridge/SyncPush/00000000-0000-4000-8000-000000000001"
    )
