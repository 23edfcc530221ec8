"""Amazon emulator, transport behaviour: LWA tokens and expiry, per-operation rate limits, injected failures,
lost responses and request recording."""

from __future__ import annotations

from pathlib import Path

import httpx

from connectors.amazon.emulator import OPERATION_LIMITS, AmazonEmulator, AmazonEmulatorConfig
from connectors.amazon.spec_check import validate_recorded
from omnibridge.sdk.emulator import RequestRecorder, read_recorded, run_server

from .test_emulator_support import (
    CLIENT_ID,
    CLIENT_SECRET,
    MARKETPLACE,
    REFRESH_TOKEN,
    SKU,
    Seller,
    listing_path,
    make_seller,
    patch_body,
    run,
)

FORM = {"content-type": "application/x-www-form-urlencoded;charset=UTF-8"}


def _orders_query(seller_iso: str) -> dict[str, str]:
    return {"MarketplaceIds": MARKETPLACE, "CreatedAfter": seller_iso}


def test_lwa_refresh_token_grant_issues_a_token_the_sp_api_accepts_until_it_expires() -> None:
    seller = make_seller(token_lifetime_s=60)

    async def flow() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        async with seller.client(token="") as client:
            grant = await client.post(
                "/auth/o2/token",
                content=f"grant_type=refresh_token&refresh_token={REFRESH_TOKEN}"
                f"&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}",
                headers=FORM,
            )
            token = grant.json()["access_token"]
            live = await client.get("/orders/v0/orders/1/orderItems", headers={"x-amz-access-token": token})
            seller.clock.advance(60)
            expired = await client.get("/orders/v0/orders/1/orderItems", headers={"x-amz-access-token": token})
            return grant, live, expired

    grant, live, expired = run(flow)
    assert grant.status_code == 200
    body = grant.json()
    assert body["access_token"].startswith("Atza|")
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 60
    assert body["refresh_token"] == REFRESH_TOKEN
    assert live.status_code == 404  # authorised: the order simply does not exist
    assert expired.status_code == 403
    assert expired.json()["errors"][0]["code"] == "Unauthorized"
    assert "expired" in expired.json()["errors"][0]["details"]


def test_lwa_refuses_bad_refresh_tokens_bad_clients_and_json_bodies() -> None:
    seller = make_seller()

    async def flow() -> list[httpx.Response]:
        async with seller.client(token="") as client:
            good_client = f"&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}"
            return [
                await client.post(
                    "/auth/o2/token",
                    content="grant_type=refresh_token&refresh_token=Atzr|nope" + good_client,
                    headers=FORM,
                ),
                await client.post(
                    "/auth/o2/token",
                    content=f"grant_type=refresh_token&refresh_token={REFRESH_TOKEN}&client_id=x&client_secret=y",
                    headers=FORM,
                ),
                await client.post("/auth/o2/token", json={"grant_type": "refresh_token"}),
                await client.post(
                    "/auth/o2/token",
                    content="grant_type=client_credentials&scope=sellingpartnerapi::notifications" + good_client,
                    headers=FORM,
                ),
            ]

    bad_grant, bad_client, json_body, grantless = run(flow)
    assert (bad_grant.status_code, bad_grant.json()["error"]) == (400, "invalid_grant")
    assert (bad_client.status_code, bad_client.json()["error"]) == (401, "invalid_client")
    assert (json_body.status_code, json_body.json()["error"]) == (400, "invalid_request")
    assert grantless.status_code == 200
    assert grantless.json()["scope"] == "sellingpartnerapi::notifications"

    async def use_grantless() -> httpx.Response:
        async with seller.client(token=grantless.json()["access_token"]) as client:
            return await client.get(listing_path(), params={"marketplaceIds": MARKETPLACE})

    assert run(use_grantless).status_code == 403


def test_missing_or_unknown_access_token_is_403_unauthorized_in_the_error_list_shape() -> None:
    seller = make_seller()

    async def calls() -> list[httpx.Response]:
        async with seller.client(token="") as client:
            missing = await client.get(listing_path(), params={"marketplaceIds": MARKETPLACE})
        async with seller.client(token="Atza|forged") as client:
            forged = await client.get(listing_path(), params={"marketplaceIds": MARKETPLACE})
        return [missing, forged]

    for response in run(calls):
        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "Unauthorized"
        assert response.json()["errors"][0]["message"] == "Access to requested resource is denied."
        assert response.headers["x-amzn-RequestId"]


def test_rate_limit_is_a_bucket_per_operation_at_amazons_defaults() -> None:
    seller = make_seller()
    rate, burst = OPERATION_LIMITS["patchListingsItem"]
    assert (rate, burst) == (5.0, 5)

    async def burst_of_patches() -> list[httpx.Response]:
        async with seller.client() as client:
            return [
                await client.patch(listing_path(), params={"marketplaceIds": MARKETPLACE}, json=patch_body(i))
                for i in range(7)
            ]

    responses = run(burst_of_patches)
    assert [r.status_code for r in responses] == [200] * 5 + [429] * 2
    assert responses[0].headers["x-amzn-RateLimit-Limit"] == "5"
    assert responses[5].json() == {
        "errors": [
            {
                "code": "QuotaExceeded",
                "message": "You exceeded your quota for the requested resource.",
                "details": "",
            }
        ]
    }
    assert "retry-after" not in responses[5].headers
    assert "x-amzn-RateLimit-Limit" not in responses[5].headers
    assert responses[5].headers["x-amzn-RequestId"]
    assert seller.emu.control.refused_requests() == 2
    assert seller.emu.control.calls() == {"patchListingsItem": 5}

    async def other_operation() -> httpx.Response:
        async with seller.client() as client:
            return await client.get(listing_path(), params={"marketplaceIds": MARKETPLACE})

    got = run(other_operation)  # getListingsItem has its own bucket
    assert got.status_code == 200
    assert got.headers["x-amzn-RateLimit-Limit"] == "5"

    seller.mono.value += 0.2  # one token back at 5/s
    again = run(burst_of_patches)
    assert [r.status_code for r in again] == [200] + [429] * 6


def test_get_orders_bucket_refills_at_one_request_per_minute_unless_scaled() -> None:
    real = make_seller()
    scaled = make_seller(rate_scale=60.0)

    async def drain(seller_: Seller, count: int) -> list[int]:
        async with seller_.client() as client:
            query = _orders_query(seller_.iso(-3600))
            return [(await client.get("/orders/v0/orders", params=query)).status_code for _ in range(count)]

    assert run(lambda: drain(real, 21)) == [200] * 20 + [429]
    real.mono.value += 30.0  # 0.0167/s: half a token
    assert run(lambda: drain(real, 1)) == [429]
    real.mono.value += 31.0
    assert run(lambda: drain(real, 2)) == [200, 429]

    assert run(lambda: drain(scaled, 21)) == [200] * 20 + [429]
    scaled.mono.value += 1.0  # 60x faster refill: one token a second
    assert run(lambda: drain(scaled, 2)) == [200, 429]


def test_fail_next_answers_with_amazons_error_bodies_and_injected_429s_are_not_counted_as_refused() -> None:
    seller = make_seller()
    seller.emu.control.fail_next(503)
    seller.emu.control.fail_next(429)
    seller.emu.control.fail_next(500)

    async def four() -> list[httpx.Response]:
        async with seller.client() as client:
            return [await client.get(listing_path(), params={"marketplaceIds": MARKETPLACE}) for _ in range(4)]

    unavailable, throttled, internal, ok = run(four)
    assert (unavailable.status_code, unavailable.json()["errors"][0]["code"]) == (503, "ServiceUnavailable")
    assert (throttled.status_code, throttled.json()["errors"][0]["code"]) == (429, "QuotaExceeded")
    assert (internal.status_code, internal.json()["errors"][0]["code"]) == (500, "InternalFailure")
    assert ok.status_code == 200
    assert seller.emu.control.refused_requests() == 0
    assert seller.emu.control.api_requests() == 4


def test_lose_next_response_applies_the_write_then_answers_503() -> None:
    seller = make_seller()
    seller.emu.control.lose_next_response()

    async def patch() -> httpx.Response:
        async with seller.client() as client:
            return await client.patch(listing_path(), params={"marketplaceIds": MARKETPLACE}, json=patch_body(3))

    lost = run(patch)
    assert lost.status_code == 503
    assert seller.emu.control.listing_quantity(SKU) == 3
    assert run(patch).status_code == 200


def test_recording_keeps_every_request_with_the_token_masked_and_the_traffic_validates(tmp_path: Path) -> None:
    target = tmp_path / "requests.jsonl"
    seller = make_seller(recorder=RequestRecorder("amazon", target))

    async def calls() -> None:
        async with seller.client() as client:
            await client.post(
                "/auth/o2/token",
                content=f"grant_type=refresh_token&refresh_token={REFRESH_TOKEN}"
                f"&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}",
                headers=FORM,
            )
            await client.get("/orders/v0/orders", params=_orders_query(seller.iso(-600)))
            await client.patch(listing_path(), params={"marketplaceIds": MARKETPLACE}, json=patch_body(4))
            await client.get("/orders/v0/orders", params={"CreatedAfter": seller.iso(-600)})  # bad: no MarketplaceIds

    run(calls)
    rows = read_recorded(target, service="amazon")
    assert [(r["method"], r["path"]) for r in rows] == [
        ("POST", "/auth/o2/token"),
        ("GET", "/orders/v0/orders"),
        ("PATCH", listing_path()),
        ("GET", "/orders/v0/orders"),
    ]
    assert rows[1]["headers"]["x-amz-access-token"] == "***"
    assert seller.token not in target.read_text()
    assert validate_recorded(rows) == [
        "#4 GET /orders/v0/orders: getOrders: query parameter 'MarketplaceIds' is required"
    ]


def test_runs_on_a_real_port_with_run_server_and_unknown_paths_answer_in_the_error_shape() -> None:
    emu = AmazonEmulator(AmazonEmulatorConfig())
    emu.control.seed_listing(SKU, title="Tent", price="10", quantity=2)

    async def served() -> tuple[httpx.Response, httpx.Response]:
        async with run_server(emu.app) as server, httpx.AsyncClient(base_url=server.url) as client:
            token = (
                await client.post(
                    "/auth/o2/token",
                    data={
                        "grant_type": "refresh_token",
                        "refresh_token": emu.config.refresh_token,
                        "client_id": emu.config.client_id,
                        "client_secret": emu.config.client_secret,
                    },
                )
            ).json()["access_token"]
            headers = {"x-amz-access-token": token}
            item = await client.get(
                f"/listings/2021-08-01/items/{emu.config.seller_id}/{SKU}",
                params={"marketplaceIds": emu.config.marketplace_id, "includedData": "fulfillmentAvailability"},
                headers=headers,
            )
            unknown = await client.get("/catalog/2022-04-01/items", headers=headers)
            return item, unknown

    item, unknown = run(served)
    assert item.json()["fulfillmentAvailability"] == [{"fulfillmentChannelCode": "DEFAULT", "quantity": 2}]
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["code"] == "NotFound"
