"""Amazon emulator, searchListingsItems: identifiers, pages, the model's limits, its own rate limit, recording."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]

from connectors.amazon.spec_check import load_spec, validate_recorded
from omnibridge.sdk.emulator import RequestRecorder, read_recorded

from .test_emulator_support import MARKETPLACE, SELLER, SKU, Seller, make_seller, run

SEARCH = f"/listings/2021-08-01/items/{SELLER}"


def _search(seller: Seller, **params: str) -> httpx.Response:
    async def call() -> httpx.Response:
        async with seller.client() as client:
            return await client.get(SEARCH, params={"marketplaceIds": MARKETPLACE, **params})

    return run(call)


def _results(body: Any) -> None:
    spec = load_spec("listingsItems_2021-08-01.json")
    schema = {"$ref": "#/definitions/ItemSearchResults", "definitions": spec["definitions"]}
    jsonschema.Draft4Validator(schema).validate(body)


def test_skus_are_found_by_identifiers_with_their_fulfillment_availability() -> None:
    seller = make_seller()
    seller.emu.control.seed_listing("STOVE/2 BURNER", title="Stove", quantity=3)
    seller.emu.control.seed_listing("OTHER", quantity=1)
    response = _search(
        seller,
        identifiers=f"{SKU},STOVE/2 BURNER,GHOST",
        identifiersType="SKU",
        includedData="summaries,fulfillmentAvailability",
        pageSize="20",
    )
    assert response.status_code == 200
    assert response.headers["x-amzn-RateLimit-Limit"] == "5"
    body = response.json()
    _results(body)
    assert body["numberOfResults"] == 2
    assert "pagination" not in body
    by_sku = {item["sku"]: item for item in body["items"]}
    assert set(by_sku) == {SKU, "STOVE/2 BURNER"}
    assert by_sku["STOVE/2 BURNER"]["fulfillmentAvailability"] == [{"fulfillmentChannelCode": "DEFAULT", "quantity": 3}]
    [summary] = by_sku[SKU]["summaries"]
    assert (summary["marketplaceId"], summary["itemName"], summary["status"]) == (
        MARKETPLACE,
        "Trail tent",
        ["BUYABLE", "DISCOVERABLE"],
    )
    asin = summary["asin"]
    by_asin = _search(seller, identifiers=asin, identifiersType="ASIN").json()
    assert [item["sku"] for item in by_asin["items"]] == [SKU]
    assert set(by_asin["items"][0]) == {"sku", "summaries"}  # includedData defaults to summaries
    assert seller.emu.control.calls()["searchListingsItems"] == 2


def test_pages_of_page_size_are_walked_with_next_and_previous_tokens() -> None:
    seller = make_seller()
    for i in range(24):
        seller.emu.control.seed_listing(f"BULK-{i:02d}", quantity=i)
    first = _search(seller, sortBy="sku", sortOrder="ASC", withStatus="BUYABLE").json()
    _results(first)
    assert first["numberOfResults"] == 24  # BULK-00 has no stock: not BUYABLE; the tent is
    assert [item["sku"] for item in first["items"]] == [f"BULK-{i:02d}" for i in range(1, 11)]
    second = _search(
        seller, sortBy="sku", sortOrder="ASC", withStatus="BUYABLE", pageToken=first["pagination"]["nextToken"]
    ).json()
    assert [item["sku"] for item in second["items"]] == [f"BULK-{i:02d}" for i in range(11, 21)]
    assert set(second["pagination"]) == {"nextToken", "previousToken"}
    again = _search(
        seller, sortBy="sku", sortOrder="ASC", withStatus="BUYABLE", pageToken=second["pagination"]["previousToken"]
    ).json()
    assert again["items"] == first["items"]
    foreign = _search(seller, sortBy="sku", pageToken=first["pagination"]["nextToken"])
    assert foreign.status_code == 400
    assert "pageToken" in foreign.json()["errors"][0]["message"]


def test_the_models_limits_are_refused_with_invalid_input() -> None:
    seller = make_seller()
    cases = [
        ({"identifiers": ",".join(f"S{i}" for i in range(21)), "identifiersType": "SKU"}, "at most 20"),
        ({"identifiers": SKU}, "'identifiersType' is required"),
        ({"identifiersType": "SKU"}, "'identifiers' is required"),
        ({"identifiers": SKU, "identifiersType": "SELLER_SKU"}, "identifiersType"),
        ({"identifiers": SKU, "identifiersType": "SKU", "variationParentSku": "P"}, "only one of"),
        ({"pageSize": "21"}, "between 1 and 20"),
        ({"pageSize": "0"}, "between 1 and 20"),
        ({"includedData": "everything"}, "includedData"),
        ({"createdAfter": "yesterday"}, "createdAfter"),
    ]
    for params, message in cases:
        seller.mono.value += 1.0  # refill the bucket: this test is about validation
        response = _search(seller, **params)
        assert response.status_code == 400, params
        [error] = response.json()["errors"]
        assert error["code"] == "InvalidInput"
        assert message in error["message"], (params, error)

    async def no_marketplace() -> httpx.Response:
        async with seller.client() as client:
            return await client.get(SEARCH, params={"identifiers": SKU, "identifiersType": "SKU"})

    seller.mono.value += 1.0
    assert run(no_marketplace).status_code == 400

    async def other_seller() -> httpx.Response:
        async with seller.client() as client:
            return await client.get("/listings/2021-08-01/items/A9OTHER", params={"marketplaceIds": MARKETPLACE})

    seller.mono.value += 1.0
    assert run(other_seller).status_code == 403


def test_search_has_its_own_bucket_of_five_per_second_burst_five() -> None:
    seller = make_seller()

    async def burst() -> tuple[list[int], int]:
        async with seller.client() as client:
            searches = [
                (await client.get(SEARCH, params={"marketplaceIds": MARKETPLACE})).status_code for _ in range(6)
            ]
            single = await client.get(f"{SEARCH}/{SKU}", params={"marketplaceIds": MARKETPLACE})
            return searches, single.status_code

    searches, single = run(burst)
    assert searches == [200] * 5 + [429]
    assert single == 200  # getListingsItem's bucket is untouched
    assert seller.emu.control.refused_requests() == 1
    seller.mono.value += 0.2  # one refill at 5/s
    assert _search(seller).status_code == 200
    assert _search(seller).status_code == 429


def test_recorded_searches_and_sku_paths_keep_their_percent_encoding_and_validate(tmp_path: Path) -> None:
    record = tmp_path / "requests.jsonl"
    seller = make_seller(recorder=RequestRecorder("amazon", record))
    seller.emu.control.seed_listing("A/B C", quantity=2)

    async def calls() -> list[int]:
        async with seller.client() as client:
            params = {"marketplaceIds": MARKETPLACE, "includedData": "fulfillmentAvailability"}
            single = await client.get(f"{SEARCH}/A%2FB%20C", params=params)
            search = await client.get(
                SEARCH,
                params={**params, "identifiers": f"A/B C,{SKU}", "identifiersType": "SKU", "pageSize": "20"},
            )
            return [single.status_code, search.status_code]

    assert run(calls) == [200, 200]
    rows = read_recorded(record)
    assert [row["path"] for row in rows] == [f"{SEARCH}/A%2FB%20C", SEARCH]
    assert validate_recorded(rows) == []
