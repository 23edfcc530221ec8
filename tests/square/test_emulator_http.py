"""Square emulator, transport behaviour: rate limiting, injected faults, request recording, the control API."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from connectors.square.emulator import SquareEmulator, SquareEmulatorConfig
from omnibridge.sdk.emulator import RequestRecorder, read_recorded

from .emulator_support import SKU, TOKEN, make_shop, run


def test_over_the_token_bucket_is_429_rate_limited_without_retry_after() -> None:
    shop = make_shop(requests_per_second=2.0, burst=3)

    async def burst() -> list[httpx.Response]:
        async with shop.client() as client:
            return [await client.get("/v2/locations") for _ in range(5)]

    responses = run(burst)
    assert [r.status_code for r in responses] == [200, 200, 200, 429, 429]
    assert responses[3].json() == {
        "errors": [{"category": "RATE_LIMIT_ERROR", "code": "RATE_LIMITED", "detail": "Too many requests; back off."}]
    }
    assert "retry-after" not in responses[3].headers
    assert shop.emu.calls["rate_limited"] == 2
    assert shop.emu.calls["GET /v2/locations"] == 3

    shop.mono.value += 1.0  # two tokens back at 2/s
    again = run(burst)
    assert [r.status_code for r in again] == [200, 200, 429, 429, 429]


def test_injected_faults_are_503_service_unavailable() -> None:
    shop = make_shop()
    shop.emu.knobs.fail_next = 1

    async def two() -> list[httpx.Response]:
        async with shop.client() as client:
            return [await client.get("/v2/locations"), await client.get("/v2/locations")]

    failed, ok = run(two)
    assert failed.status_code == 503
    assert failed.json()["errors"][0] | {"detail": ""} == {
        "category": "API_ERROR",
        "code": "SERVICE_UNAVAILABLE",
        "detail": "",
    }
    assert ok.status_code == 200


def test_recording_appends_one_json_line_per_request_with_the_token_masked(tmp_path: Path) -> None:
    target = tmp_path / "requests.jsonl"
    emu = SquareEmulator(SquareEmulatorConfig(access_token=TOKEN), recorder=RequestRecorder("square", target))
    location = emu.add_location("Store")

    async def calls() -> None:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=emu.app),
            base_url="https://sq",
            headers={"Authorization": f"Bearer {TOKEN}"},
        ) as client:
            await client.get("/v2/locations")
            await client.post("/v2/inventory/counts/batch-retrieve", json={"location_ids": [location]})

    run(calls)
    lines = target.read_text().splitlines()
    assert len(lines) == 2
    rows = read_recorded(target, service="square")
    assert [(r["method"], r["path"]) for r in rows] == [
        ("GET", "/v2/locations"),
        ("POST", "/v2/inventory/counts/batch-retrieve"),
    ]
    assert rows[1]["body"] == {"location_ids": [location]}
    assert rows[0]["headers"]["authorization"] == "***"
    assert TOKEN not in target.read_text()
    assert json.loads(lines[0])["service"] == "square"


def test_control_api_mirrors_the_scripted_actions() -> None:
    shop = make_shop(notification_url=None)

    async def script() -> dict[str, object]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=shop.emu.app), base_url="http://emu") as c:
            location = (await c.post("/_emulator/locations", json={"name": "Pop-up"})).json()["id"]
            variation = (
                await c.post("/_emulator/variations", json={"sku": "CAP-1", "name": "Cap", "price_cents": 1500})
            ).json()["id"]
            await c.post("/_emulator/counts", json={"sku": "CAP-1", "location_id": location, "quantity": 4})
            sale = await c.post(
                "/_emulator/pos-sale", json={"location_id": location, "lines": [{"sku": "CAP-1", "quantity": 3}]}
            )
            await c.post("/_emulator/receive", json={"sku": "CAP-1", "location_id": location, "quantity": 10})
            quantity = await c.get("/_emulator/quantity", params={"sku": "CAP-1", "location_id": location})
            knobs = await c.post("/_emulator/knobs", json={"error_rate": 0.5, "webhooks": {"duplicate_next": 1}})
            bad = await c.post("/_emulator/pos-sale", json={"location_id": location, "lines": [{"sku": "NOPE"}]})
            state = await c.get("/_emulator/state")
            return {
                "variation": variation,
                "order": sale.json()["order"],
                "quantity": quantity.json()["quantity"],
                "knobs": knobs.json(),
                "bad": bad.status_code,
                "state": state.json(),
            }

    out = run(script)
    order = out["order"]
    assert isinstance(order, dict)
    assert order["state"] == "COMPLETED"
    assert out["quantity"] == 11
    knobs = out["knobs"]
    assert isinstance(knobs, dict)
    assert knobs["error_rate"] == 0.5
    assert knobs["webhooks"]["duplicate_next"] == 1
    assert shop.emu.knobs.error_rate == 0.5
    assert out["bad"] == 400
    state = out["state"]
    assert isinstance(state, dict)
    assert {v["sku"] for v in state["variations"]} == {SKU, "CAP-1"}
    assert [e["type"] for e in shop.emu.events] == [
        "order.updated",
        "inventory.count.updated",
        "inventory.count.updated",
    ]
