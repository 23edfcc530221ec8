"""Square emulator, Inventory API: auth, schema validation, batch limits, idempotency, occurred_at ordering,
counts retrieval with updated_after and cursors."""

from __future__ import annotations

from typing import Any

import httpx

from .emulator_support import SKU, Shop, adjustment, make_shop, physical_count, run

BATCH = "/v2/inventory/changes/batch-create"
COUNTS = "/v2/inventory/counts/batch-retrieve"


async def _post(shop: Shop, path: str, body: Any) -> httpx.Response:
    async with shop.client() as client:
        return await client.post(path, json=body)


def test_missing_or_wrong_token_is_401_authentication_error() -> None:
    shop = make_shop()

    async def body() -> list[httpx.Response]:
        async with shop.client(token="EAAA-wrong") as wrong:
            bad = await wrong.get("/v2/locations")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=shop.emu.app), base_url="https://sq") as anon:
            missing = await anon.get("/v2/locations")
        return [bad, missing]

    for response in run(body):
        assert response.status_code == 401
        assert response.json() == {
            "errors": [
                {
                    "category": "AUTHENTICATION_ERROR",
                    "code": "UNAUTHORIZED",
                    "detail": "This request could not be authorized.",
                }
            ]
        }


def test_malformed_body_is_400_naming_the_field_and_applies_nothing() -> None:
    shop = make_shop()
    change = physical_count(shop, "3")
    change["physical_count"]["quantity"] = 3  # a number, not Square's decimal string
    response = run(lambda: _post(shop, BATCH, {"idempotency_key": "k-1", "changes": [change]}))
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["category"] == "INVALID_REQUEST_ERROR"
    assert error["code"] == "EXPECTED_STRING"
    assert error["field"] == "changes[0].physical_count.quantity"
    assert shop.emu.quantity(SKU, shop.location_id) == 10

    missing = run(lambda: _post(shop, BATCH, {"changes": [physical_count(shop, "3")]}))
    assert missing.status_code == 400
    assert missing.json()["errors"][0] | {"detail": ""} == {
        "category": "INVALID_REQUEST_ERROR",
        "code": "MISSING_REQUIRED_PARAMETER",
        "detail": "",
        "field": "idempotency_key",
    }


def test_more_than_100_changes_is_rejected_whole() -> None:
    shop = make_shop()
    changes = [adjustment(shop, "1", -i) for i in range(101)]
    response = run(lambda: _post(shop, BATCH, {"idempotency_key": "k-big", "changes": changes}))
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "ARRAY_LENGTH_TOO_LONG"
    assert response.json()["errors"][0]["field"] == "changes"
    assert shop.emu.quantity(SKU, shop.location_id) == 10

    ok = run(lambda: _post(shop, BATCH, {"idempotency_key": "k-100", "changes": changes[:100]}))
    assert ok.status_code == 200
    assert shop.emu.quantity(SKU, shop.location_id) == -90  # Square lets counts go negative


def test_idempotency_replay_returns_the_original_and_reuse_with_another_body_fails() -> None:
    shop = make_shop()
    request = {"idempotency_key": "k-sale", "changes": [adjustment(shop, "2", -5)]}
    first = run(lambda: _post(shop, BATCH, request))
    shop.clock.advance(30)
    replay = run(lambda: _post(shop, BATCH, request))
    assert first.status_code == replay.status_code == 200
    assert replay.json() == first.json()
    assert first.json()["counts"][0]["quantity"] == "8"
    assert shop.emu.quantity(SKU, shop.location_id) == 8

    other = {"idempotency_key": "k-sale", "changes": [adjustment(shop, "3", -5)]}
    reused = run(lambda: _post(shop, BATCH, other))
    assert reused.status_code == 400
    assert reused.json()["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert shop.emu.quantity(SKU, shop.location_id) == 8


def test_unknown_ids_name_the_change_index_and_nothing_is_applied() -> None:
    shop = make_shop()
    bad = adjustment(shop, "1", -1)
    bad["adjustment"]["catalog_object_id"] = "NOSUCHVARIATION"
    body = {"idempotency_key": "k-x", "changes": [adjustment(shop, "4", -2), bad]}
    response = run(lambda: _post(shop, BATCH, body))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "changes[1].adjustment.catalog_object_id"
    assert shop.emu.quantity(SKU, shop.location_id) == 10

    elsewhere = physical_count(shop, "1", location_id="NOSUCHLOCATION")
    response = run(lambda: _post(shop, BATCH, {"idempotency_key": "k-y", "changes": [elsewhere]}))
    assert response.json()["errors"][0]["field"] == "changes[0].physical_count.location_id"


def test_occurred_at_must_be_within_the_last_24_hours_and_not_in_the_future() -> None:
    shop = make_shop()
    for key, change in (("future", physical_count(shop, "1", 5)), ("old", physical_count(shop, "1", -25 * 3600))):
        body = {"idempotency_key": key, "changes": [change]}

        async def send(body: dict[str, Any] = body) -> httpx.Response:
            return await _post(shop, BATCH, body)

        response = run(send)
        assert response.status_code == 400
        assert response.json()["errors"][0]["code"] == "INVALID_TIME"
        assert response.json()["errors"][0]["field"] == "changes[0].physical_count.occurred_at"
    assert shop.emu.quantity(SKU, shop.location_id) == 10


def test_changes_apply_by_occurred_at_not_arrival_order() -> None:
    shop = make_shop()
    shop.clock.advance(3600)

    def send(key: str, *changes: dict[str, Any]) -> httpx.Response:
        response = run(lambda: _post(shop, BATCH, {"idempotency_key": key, "changes": list(changes)}))
        assert response.status_code == 200, response.text
        return response

    send("c1", physical_count(shop, "20", -60))
    send("a-earlier", adjustment(shop, "2", -120))  # before the count: the count already includes it
    assert shop.emu.quantity(SKU, shop.location_id) == 20
    send("a-later", adjustment(shop, "2", -30))
    assert shop.emu.quantity(SKU, shop.location_id) == 18
    # A stock take that happened before the sale arrives late: it must not erase the sale.
    send("c-late", physical_count(shop, "7", -45))
    assert shop.emu.quantity(SKU, shop.location_id) == 5
    send("receive", adjustment(shop, "1.5", -1, from_state="NONE", to_state="IN_STOCK"))
    response = run(lambda: _post(shop, COUNTS, {"catalog_object_ids": [shop.variation_id]}))
    assert response.json()["counts"][0]["quantity"] == "6.5"


def test_quantities_are_decimal_strings_with_at_most_five_places() -> None:
    shop = make_shop()
    response = run(lambda: _post(shop, BATCH, {"idempotency_key": "d", "changes": [physical_count(shop, "1.123456")]}))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "changes[0].physical_count.quantity"
    response = run(lambda: _post(shop, BATCH, {"idempotency_key": "d2", "changes": [physical_count(shop, "-1")]}))
    assert response.status_code == 400


def test_reference_ids_are_kept_and_unchanged_counts_are_ignored() -> None:
    shop = make_shop()
    shop.clock.advance(10)
    mine = physical_count(shop, "12", reference_id="omnibridge:push-1")
    assert run(lambda: _post(shop, BATCH, {"idempotency_key": "r1", "changes": [mine]})).status_code == 200
    same = physical_count(shop, "12", reference_id="omnibridge:push-2")
    result = run(lambda: _post(shop, BATCH, {"idempotency_key": "r2", "changes": [same]})).json()
    assert result["changes"] == []  # ignore_unchanged_counts defaults to true
    assert result["counts"][0]["quantity"] == "12"
    listed = run(lambda: _post(shop, "/v2/inventory/changes/batch-retrieve", {"types": ["PHYSICAL_COUNT"]})).json()
    assert [c["physical_count"].get("reference_id") for c in listed["changes"]] == [None, "omnibridge:push-1"]


def test_counts_batch_retrieve_filters_updated_after_and_pages_newest_first() -> None:
    shop = make_shop()
    other = shop.emu.add_location("Uptown")
    for index in range(3):
        shop.emu.add_variation(sku=f"SOCK-{index}", name="Socks", price_cents=900, currency="USD")
    since = shop.iso()
    for index in range(3):
        shop.clock.advance(1)
        shop.emu.set_count(f"SOCK-{index}", other, index + 1)

    async def pages() -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        body: dict[str, Any] = {"location_ids": [other], "updated_after": since, "limit": 2}
        async with shop.client() as client:
            while True:
                data = (await client.post(COUNTS, json=body)).json()
                out.append(data)
                if "cursor" not in data:
                    return out
                body = body | {"cursor": data["cursor"]}

    result = run(pages)
    assert [len(p["counts"]) for p in result] == [2, 1]
    quantities = [c["quantity"] for p in result for c in p["counts"]]
    assert quantities == ["3", "2", "1"]  # newest calculated_at first
    stamps = [c["calculated_at"] for p in result for c in p["counts"]]
    assert stamps == sorted(stamps, reverse=True)

    bad = run(lambda: _post(shop, COUNTS, {"location_ids": [other], "cursor": "bm90LWEtY3Vyc29y"}))
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["code"] == "INVALID_CURSOR"
    too_many = run(lambda: _post(shop, COUNTS, {"limit": 1001}))
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0] | {"detail": ""} == {
        "category": "INVALID_REQUEST_ERROR",
        "code": "VALUE_TOO_HIGH",
        "detail": "",
        "field": "limit",
    }
