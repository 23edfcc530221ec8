"""The EasyPost emulator over HTTP: official response shapes, once-only buys, test tracking codes, 429s, webhooks."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from connectors.easypost.emulator import TEST_CODES, EasyPostEmulator
from connectors.easypost.emulator.state import SPECS_DIR
from connectors.easypost.webhooks import SIGNATURE_HEADER, sign

from .support import API_KEY, SECRET, Rig, make_rig

SHIPMENT = {
    "shipment": {
        "to_address": {"name": "Ada", "street1": "179 N Harbor Dr", "city": "Redondo Beach", "zip": "90277",
                       "state": "CA", "country": "US"},
        "from_address": {"name": "Shop", "street1": "417 Montgomery St", "city": "San Francisco", "zip": "94104",
                         "state": "CA", "country": "US"},
        "parcel": {"length": 10.0, "width": 8.0, "height": 4.0, "weight": 21.5},
        "reference": "shp-1",
    }
}  # fmt: skip


def official(name: str) -> dict[str, Any]:
    loaded = json.loads((SPECS_DIR / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def missing_keys(example: Any, actual: Any, where: str = "$") -> list[str]:
    """Keys of the official example (recursively, into objects and the first list element) absent in ``actual``."""
    missing: list[str] = []
    if isinstance(example, dict) and isinstance(actual, dict):
        for key, value in example.items():
            if key not in actual:
                missing.append(f"{where}.{key}")
            else:
                missing += missing_keys(value, actual[key], f"{where}.{key}")
    elif isinstance(example, list) and example and isinstance(actual, list) and actual:
        missing += missing_keys(example[0], actual[0], f"{where}[0]")
    return missing


@pytest.fixture
def rig() -> Rig:
    return make_rig()


@pytest.fixture
async def http(rig: Rig) -> AsyncIterator[httpx.AsyncClient]:
    auth = base64.b64encode(f"{API_KEY}:".encode()).decode()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=rig.emu.app),
        base_url="http://easypost.test",
        headers={"Authorization": f"Basic {auth}"},
    ) as client:
        yield client


async def create_and_buy(http: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, Any]]:
    created = (await http.post("/v2/shipments", json=SHIPMENT)).json()
    rate = min(created["rates"], key=lambda r: float(r["rate"]))
    bought = await http.post(f"/v2/shipments/{created['id']}/buy", json={"rate": {"id": rate["id"]}})
    assert bought.status_code == 200, bought.text
    return created, bought.json()


@pytest.mark.anyio
async def test_bodies_carry_every_key_of_the_official_examples(rig: Rig, http: httpx.AsyncClient) -> None:
    created, bought = await create_and_buy(http)
    assert missing_keys(official("shipments-create.json"), created) == []
    assert missing_keys(official("shipments-buy.json"), bought) == []
    retrieved = (await http.get(f"/v2/shipments/{created['id']}")).json()
    assert missing_keys(official("shipments-retrieve.json"), retrieved) == []
    tracker = (await http.post("/v2/trackers", json={"tracker": {"tracking_code": "EZ2000000002"}})).json()
    assert missing_keys(official("trackers-create.json"), tracker) == []
    assert (
        missing_keys(official("trackers-retrieve.json"), (await http.get(f"/v2/trackers/{tracker['id']}")).json()) == []
    )
    rig.emu.advance_tracking("EZ2000000002")
    event = rig.emu.events[-1]
    assert missing_keys(official("events-retrieve.json"), event) == []
    assert event["description"] == "tracker.updated"
    assert event["previous_attributes"] == {"status": "in_transit"}
    assert event["result"]["status"] == "out_for_delivery"


@pytest.mark.anyio
async def test_rates_come_from_every_carrier_account_and_buying_twice_is_refused(
    rig: Rig, http: httpx.AsyncClient
) -> None:
    created, bought = await create_and_buy(http)
    assert {r["carrier"] for r in created["rates"]} == {"USPS", "UPS", "FedEx", "DHLExpress"}
    assert bought["postage_label"]["label_url"].startswith("https://")
    assert bought["tracking_code"]
    assert bought["tracker"]["tracking_code"] == bought["tracking_code"]
    again = await http.post(f"/v2/shipments/{created['id']}/buy", json={"rate": {"id": created["rates"][0]["id"]}})
    assert again.status_code == 422
    assert again.json()["error"]["code"] == "SHIPMENT.POSTAGE.EXISTS"
    assert rig.emu.labels_bought(created["id"]) == 1


@pytest.mark.anyio
async def test_carrier_accounts_restrict_the_rates(rig: Rig, http: httpx.AsyncClient) -> None:
    ups = next(account for account, name in rig.emu.state.accounts.items() if name == "UPS")
    body = {"shipment": {**SHIPMENT["shipment"], "carrier_accounts": [ups]}}
    created = (await http.post("/v2/shipments", json=body)).json()
    assert {r["carrier"] for r in created["rates"]} == {"UPS"}


@pytest.mark.anyio
async def test_bad_requests_answer_easypost_errors_naming_the_field(http: httpx.AsyncClient) -> None:
    body = json.loads(json.dumps(SHIPMENT))
    del body["shipment"]["to_address"]["street1"]
    answer = await http.post("/v2/shipments", json=body)
    assert answer.status_code == 422
    assert answer.json()["error"]["errors"][0]["field"] == "shipment.to_address.street1"
    body = json.loads(json.dumps(SHIPMENT))
    body["shipment"]["parcel"]["weight"] = 0
    answer = await http.post("/v2/shipments", json=body)
    assert answer.json()["error"]["errors"][0]["field"] == "shipment.parcel.weight"
    missing = await http.get("/v2/shipments/shp_nope")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "NOT_FOUND")


@pytest.mark.anyio
async def test_a_wrong_key_is_401(rig: Rig) -> None:
    auth = base64.b64encode(b"EZTKwrong:").decode()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=rig.emu.app), base_url="http://x") as client:
        wrong = await client.get("/v2/trackers/trk_1", headers={"Authorization": f"Basic {auth}"})
        missing = await client.get("/v2/trackers/trk_1")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "APIKEY.INACTIVE")
    assert (missing.status_code, missing.json()["error"]["code"]) == (401, "APIKEY.REQUIRED")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("code", "statuses"),
    [
        ("EZ1000000001", ["pre_transit"]),
        ("EZ2000000002", ["pre_transit", "in_transit"]),
        ("EZ3000000003", ["pre_transit", "in_transit", "out_for_delivery"]),
        ("EZ4000000004", ["pre_transit", "in_transit", "out_for_delivery", "delivered"]),
        ("EZ5000000005", ["pre_transit", "in_transit", "return_to_sender"]),
        ("EZ6000000006", ["pre_transit", "in_transit", "failure"]),
        ("EZ7000000007", []),
    ],
)
async def test_test_tracking_codes_answer_their_status(http: httpx.AsyncClient, code: str, statuses: list[str]) -> None:
    tracker = (await http.post("/v2/trackers", json={"tracker": {"tracking_code": code, "carrier": "USPS"}})).json()
    assert tracker["status"] == (statuses[-1] if statuses else "unknown")
    assert [d["status"] for d in tracker["tracking_details"]] == statuses
    again = (await http.post("/v2/trackers", json={"tracker": {"tracking_code": code, "carrier": "USPS"}})).json()
    assert again["id"] == tracker["id"]  # EasyPost returns the original tracker
    assert set(TEST_CODES) >= {code}


@pytest.mark.anyio
async def test_advancing_a_bought_label_walks_to_delivered_and_sends_signed_events(
    rig: Rig, http: httpx.AsyncClient
) -> None:
    _, bought = await create_and_buy(http)
    code = bought["tracking_code"]
    assert bought["tracker"]["status"] == "unknown"
    steps = [rig.emu.advance_tracking(code) for _ in range(5)]
    assert steps == ["pre_transit", "in_transit", "out_for_delivery", "delivered", "delivered"]
    await rig.emu.webhooks.drain()
    kinds = [json.loads(body)["description"] for _, body in rig.sink.received]
    assert kinds == ["tracker.created"] + ["tracker.updated"] * 4
    for headers, body in rig.sink.received:
        assert headers[SIGNATURE_HEADER.lower()] == sign(SECRET, body)
    shipment = (await http.get(f"/v2/shipments/{bought['id']}")).json()
    assert shipment["status"] == "delivered"
    assert len(shipment["tracker"]["tracking_details"]) == 4


@pytest.mark.anyio
async def test_bursting_a_list_endpoint_over_5_per_second_is_refused_and_counted(
    rig: Rig, http: httpx.AsyncClient
) -> None:
    answers = [(await http.get("/v2/trackers")).status_code for _ in range(8)]
    assert answers == [200] * 5 + [429] * 3
    assert rig.emu.refused == 3
    rig.mono.value += 1.0  # a second later the bucket has refilled
    assert (await http.get("/v2/trackers")).status_code == 200
    assert (await http.get("/v2/trackers/trk_missing")).status_code == 404  # not a list endpoint: not limited


@pytest.mark.anyio
async def test_fail_next_and_lose_next_response(rig: Rig, http: httpx.AsyncClient) -> None:
    rig.emu.fail_next(429)
    throttled = await http.get("/v2/trackers/trk_x")
    assert (throttled.status_code, throttled.json()["error"]["code"]) == (429, "RATE_LIMITED")
    assert rig.emu.refused == 0  # injected, not counted
    created = (await http.post("/v2/shipments", json=SHIPMENT)).json()
    rig.emu.lose_next_response()
    lost = await http.post(f"/v2/shipments/{created['id']}/buy", json={"rate": {"id": created["rates"][0]["id"]}})
    assert lost.status_code == 503
    assert rig.emu.labels_bought(created["id"]) == 1  # applied, answer lost


@pytest.mark.anyio
async def test_control_api_drives_tracking(rig: Rig, http: httpx.AsyncClient) -> None:
    await http.post("/v2/trackers", json={"tracker": {"tracking_code": "EZ1000000001", "carrier": "USPS"}})
    advanced = await http.post("/_emulator/advance", json={"tracking_code": "EZ1000000001"})
    assert advanced.json() == {"status": "in_transit"}
    state = (await http.get("/_emulator/state")).json()
    assert state["trackers"][0]["status"] == "in_transit"
    unknown = await http.post("/_emulator/advance", json={"tracking_code": "NOPE"})
    assert unknown.status_code == 400


def test_the_emulator_is_built_from_defaults() -> None:
    emu = EasyPostEmulator()
    assert set(emu.state.accounts.values()) == {"USPS", "UPS", "FedEx", "DHLExpress"}
