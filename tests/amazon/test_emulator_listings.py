"""Amazon emulator, Listings Items 2021-08-01: patchListingsItem ops, INVALID submissions, getListingsItem views."""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]

from connectors.amazon.spec_check import load_spec

from .test_emulator_support import MARKETPLACE, SELLER, SKU, Seller, listing_path, make_seller, patch_body, run


def _patch(seller: Seller, body: dict[str, Any], sku: str = SKU, **params: str) -> httpx.Response:
    async def call() -> httpx.Response:
        async with seller.client() as client:
            return await client.patch(listing_path(sku), params={"marketplaceIds": MARKETPLACE, **params}, json=body)

    return run(call)


def _get(seller: Seller, sku: str = SKU, included: str = "summaries,attributes,fulfillmentAvailability,offers") -> Any:
    async def call() -> httpx.Response:
        async with seller.client() as client:
            return await client.get(listing_path(sku), params={"marketplaceIds": MARKETPLACE, "includedData": included})

    return run(call)


def _check(definition: str, body: Any) -> None:
    spec = load_spec("listingsItems_2021-08-01.json")
    schema = {"$ref": f"#/definitions/{definition}", "definitions": spec["definitions"]}
    jsonschema.Draft4Validator(schema).validate(body)


def test_replace_quantity_price_and_title_is_accepted_and_applied_immediately() -> None:
    seller = make_seller()
    body = {
        "productType": "PRODUCT",
        "patches": [
            {
                "op": "replace",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 7}],
            },
            {
                "op": "replace",
                "path": "/attributes/purchasable_offer",
                "value": [
                    {
                        "marketplace_id": MARKETPLACE,
                        "currency": "USD",
                        "audience": "ALL",
                        "our_price": [{"schedule": [{"value_with_tax": 24.5}]}],
                    }
                ],
            },
            {"op": "replace", "path": "/attributes/item_name", "value": [{"value": "Trail tent, green"}]},
        ],
    }
    response = _patch(seller, body)
    assert response.status_code == 200
    answer = response.json()
    _check("ListingsItemSubmissionResponse", answer)
    assert (answer["sku"], answer["status"], answer["issues"]) == (SKU, "ACCEPTED", [])
    assert answer["submissionId"]
    control = seller.emu.control
    assert (control.listing_quantity(SKU), control.listing_price(SKU), control.listing_title(SKU)) == (
        7,
        "24.50",
        "Trail tent, green",
    )
    assert control.listing(SKU) == ("Trail tent, green", "24.50")

    item = _get(seller)
    assert item.status_code == 200
    _check("Item", item.json())
    view = item.json()
    assert view["fulfillmentAvailability"] == [{"fulfillmentChannelCode": "DEFAULT", "quantity": 7}]
    assert view["summaries"][0]["itemName"] == "Trail tent, green"
    assert view["offers"][0]["price"] == {"currencyCode": "USD", "amount": "24.50"}
    assert view["attributes"]["fulfillment_availability"][0]["quantity"] == 7


def test_merge_keeps_fields_the_patch_leaves_out() -> None:
    seller = make_seller()
    seller.emu.control.seed_listing(SKU, quantity=10)
    attrs = seller.emu.control.listing_attributes(SKU)
    attrs["fulfillment_availability"][0]["lead_time_to_ship_max_days"] = 3
    seller.emu.listings[SKU].attributes = attrs
    assert _patch(seller, patch_body(4, op="merge")).json()["status"] == "ACCEPTED"
    assert seller.emu.control.listing_attributes(SKU)["fulfillment_availability"] == [
        {"fulfillment_channel_code": "DEFAULT", "quantity": 4, "lead_time_to_ship_max_days": 3}
    ]


def test_unknown_sku_and_bad_values_are_invalid_submissions_and_change_nothing() -> None:
    seller = make_seller()
    unknown = _patch(seller, patch_body(3), sku="NO-SUCH-SKU").json()
    assert unknown["status"] == "INVALID"
    assert "NO-SUCH-SKU" in unknown["issues"][0]["message"]
    assert unknown["issues"][0]["severity"] == "ERROR"

    negative = _patch(seller, patch_body(-1)).json()
    assert negative["status"] == "INVALID"
    assert negative["issues"][0]["attributeNames"] == ["fulfillment_availability"]
    nested = {"productType": "PRODUCT", "patches": [{"op": "replace", "path": "/attributes/a/b", "value": [{}]}]}
    assert _patch(seller, nested).json()["status"] == "INVALID"
    assert seller.emu.control.listing_quantity(SKU) == 10


def test_bad_requests_are_400_and_other_sellers_403_and_unknown_skus_404_on_get() -> None:
    seller = make_seller()
    no_patches = _patch(seller, {"productType": "PRODUCT", "patches": []})
    assert (no_patches.status_code, no_patches.json()["errors"][0]["code"]) == (400, "InvalidInput")

    async def calls() -> list[httpx.Response]:
        async with seller.client() as client:
            return [
                await client.patch(listing_path(), json=patch_body(1)),  # no marketplaceIds
                await client.get(listing_path(seller="AOTHERSELLER"), params={"marketplaceIds": MARKETPLACE}),
            ]

    no_marketplace, other_seller = run(calls)
    assert no_marketplace.status_code == 400
    assert "marketplaceIds" in no_marketplace.json()["errors"][0]["message"]
    assert other_seller.status_code == 403
    missing = _get(seller, sku="NO-SUCH-SKU")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "NotFound"


def test_validation_preview_answers_valid_without_applying() -> None:
    seller = make_seller()
    answer = _patch(seller, patch_body(1), mode="VALIDATION_PREVIEW").json()
    assert answer["status"] == "VALID"
    assert seller.emu.control.listing_quantity(SKU) == 10


def test_skus_with_slashes_and_spaces_round_trip_url_encoded() -> None:
    seller = make_seller()
    sku = "BAG/RED 1"
    seller.emu.control.seed_listing(sku, title="Red bag", price="5", quantity=1)

    async def call() -> httpx.Response:
        async with seller.client() as client:
            return await client.get(
                f"/listings/2021-08-01/items/{SELLER}/BAG%2FRED%201", params={"marketplaceIds": MARKETPLACE}
            )

    response = run(call)
    assert response.status_code == 200
    assert response.json()["sku"] == sku


def test_an_accepted_patch_shows_only_after_the_listing_delay() -> None:
    seller = make_seller(listing_delay_s=120.0)

    def shown() -> int:
        [entry] = _get(seller, included="fulfillmentAvailability").json()["fulfillmentAvailability"]
        return int(entry["quantity"])

    answer = _patch(seller, patch_body(7))
    assert answer.json()["status"] == "ACCEPTED"
    assert shown() == 10  # Amazon still shows the listing as it was
    seller.clock.advance(119)
    assert (shown(), seller.emu.control.listing_quantity(SKU)) == (10, 10)
    seller.clock.advance(1)
    assert (shown(), seller.emu.control.listing_quantity(SKU)) == (7, 7)


def test_an_invalid_patch_is_refused_at_once_and_never_applied_later() -> None:
    seller = make_seller(listing_delay_s=60.0)
    answer = _patch(seller, patch_body(-1))
    assert answer.json()["status"] == "INVALID"
    seller.clock.advance(61)
    assert seller.emu.control.listing_quantity(SKU) == 10


def test_an_unknown_sku_can_be_answered_as_amazon_documents_accepted_with_missing_attributes() -> None:
    seller = make_seller(unknown_sku_patch="ACCEPTED")
    answer = _patch(seller, patch_body(3), sku="GHOST")
    body = answer.json()
    _check("ListingsItemSubmissionResponse", body)
    assert body["status"] == "ACCEPTED"
    [found] = body["issues"]
    assert (found["code"], found["severity"], found["categories"]) == ("18448", "WARNING", ["MISSING_ATTRIBUTE"])
    assert {"condition_type", "purchasable_offer"} <= set(found["attributeNames"])
    assert _get(seller, sku="GHOST").status_code == 404


def test_the_cli_emulator_delays_listing_changes_as_amazon_does_unless_set() -> None:
    from omnibridge.cli.emulator import build_emulator

    served, _ = build_emulator("amazon", port=8803, settings={})
    quick, _ = build_emulator("amazon", port=8803, settings={"listing_delay_s": "0"})
    assert served.emulator.config.listing_delay_s == 120.0
    assert quick.emulator.config.listing_delay_s == 0.0
