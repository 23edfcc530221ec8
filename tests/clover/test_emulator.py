"""The Clover emulator on its own: Clover's shapes, errors, filters, paging, limits, notifications, back door."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from .world import AUTH_CODE, HOOK_URL, MERCHANT, World


@pytest.mark.anyio
async def test_items_with_stock_filters_and_paging() -> None:
    world = World()
    for n in range(5):
        world.emu.add_item(f"SKU-{n}", f"Item {n}", 100 * n, n + 0.5)
    async with world.http() as http:
        page = (await http.get("/items", params={"expand": "itemStock", "limit": 2, "offset": 2})).json()
        assert [(i["sku"], i["itemStock"]["quantity"], i["itemStock"]["stockCount"]) for i in page["elements"]] == [
            ("SKU-2", 2.5, 3),
            ("SKU-3", 3.5, 4),
        ]
        plain = (await http.get("/items", params={"filter": "sku=SKU-4"})).json()["elements"]
        assert len(plain) == 1
        assert "itemStock" not in plain[0]
        both = await http.get("/items", params=[("filter", "itemStock.quantity>=2"), ("filter", "price<400")])
        assert [i["sku"] for i in both.json()["elements"]] == ["SKU-2", "SKU-3"]


@pytest.mark.anyio
async def test_stock_is_set_absolutely_and_notified() -> None:
    world = World()
    item_id = world.emu.add_item("TEE-1", "Tee", 2500, 10)
    async with world.http() as http:
        for _ in range(2):
            reply = await http.post(f"/item_stocks/{item_id}", json={"quantity": 160.5})
            assert reply.json() == {"item": {"id": item_id}, "stockCount": 161, "quantity": 160.5, **_mt(reply)}
        assert (await http.get(f"/item_stocks/{item_id}")).json()["quantity"] == 160.5
    assert world.emu.quantity("TEE-1") == 160.5
    await world.emu.webhooks.drain()
    headers, raw = world.received[-1]
    assert headers["x-clover-auth"] == AUTH_CODE
    entries = json.loads(raw)["merchants"][MERCHANT]
    assert [(e["objectId"], e["type"]) for e in entries] == [(f"I:{item_id}", "UPDATE")]


def _mt(reply: httpx.Response) -> dict[str, int]:
    return {"modifiedTime": reply.json()["modifiedTime"]}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "message"),
    [
        ("GET", "/items/NOSUCHITEM000", None, 404, "Item not found"),
        ("POST", "/item_stocks/NOSUCHITEM000", {"quantity": 1}, 404, "Item not found"),
        ("POST", "/item_stocks/{item}", {"quantity": "ten"}, 400, "quantity is required and must be a number"),
        ("POST", "/item_stocks/{item}", {}, 400, "quantity is required"),
        ("POST", "/items/{item}", {"price": 12.5}, 400, "non-negative integer (cents)"),
        ("POST", "/items/{item}", {"colour": "red"}, 400, "Unknown field: colour"),
        ("GET", "/items?filter=weight>3", None, 400, "Invalid filter"),
        ("GET", "/orders?filter=modifiedTime>=yesterday", None, 400, "Invalid filter value"),
        ("GET", "/items?limit=5000", None, 400, "limit must be between 1 and 1000"),
        ("GET", "/orders/NOSUCHORDER00", None, 404, "Order not found"),
    ],
)
async def test_errors_have_clovers_shape(method: str, path: str, payload: object, status: int, message: str) -> None:
    world = World()
    item_id = world.emu.add_item("TEE-1", "Tee", 2500, 10)
    async with world.http() as http:
        reply = await http.request(method, path.replace("{item}", item_id), json=payload)
    assert reply.status_code == status
    assert message in reply.json()["message"]


@pytest.mark.anyio
async def test_bad_token_other_merchant_and_missing_user_agent_are_refused() -> None:
    world = World()
    async with world.http(token="wrong") as http:
        reply = await http.get("/items")
        assert (reply.status_code, reply.json()) == (401, {"message": "401 Unauthorized"})
    async with world.http() as http:
        other = await http.get("https://api.clover.test/v3/merchants/OTHERMERCHANT/items")
        assert other.status_code == 401
        no_agent = await http.get("/items", headers={"User-Agent": ""})
        assert (no_agent.status_code, no_agent.json()["message"]) == (400, "User-Agent header is required")


@pytest.mark.anyio
async def test_rate_limit_is_16_per_second_per_token() -> None:
    world = World()
    async with world.http() as http:
        statuses = [(await http.get("/items")).status_code for _ in range(17)]
        assert statuses[:16] == [200] * 16
        refused = await http.get("/items")
        assert refused.status_code == 429
        assert refused.headers["X-RateLimit-tokenLimit"] == "16"
        world.sleep.now += 1 / 16  # one token refills
        assert (await http.get("/items")).status_code == 200
    assert world.emu.refused == 2


@pytest.mark.anyio
async def test_more_than_5_requests_in_flight_are_refused_with_retry_after() -> None:
    world = World(latency_ms=(5.0, 5.0))
    async with world.http() as http:
        replies = await asyncio.gather(*(http.get("/items") for _ in range(8)))
    refused = [r for r in replies if r.status_code == 429]
    assert len(refused) == 3
    assert all(r.headers["X-RateLimit-tokenConcurrentLimit"] == "5" and r.headers["retry-after"] for r in refused)
    assert world.emu.refused == 3


@pytest.mark.anyio
async def test_injected_failures_and_lost_responses() -> None:
    world = World()
    item_id = world.emu.add_item("TEE-1", "Tee", 2500, 10)
    world.emu.fail_next(429, 1)
    world.emu.lose_next_response(1)
    async with world.http() as http:
        throttled = await http.get("/items")
        assert (throttled.status_code, throttled.headers["X-RateLimit-tokenLimit"]) == (429, "16")
        lost = await http.post(f"/item_stocks/{item_id}", json={"quantity": 3})
        assert lost.status_code == 503
    assert world.emu.quantity("TEE-1") == 3  # the write was applied before the response was lost
    assert world.emu.refused == 0  # injected 429s are not the client's fault
    assert world.emu.api_requests == 2


@pytest.mark.anyio
async def test_pos_sale_takes_stock_and_sends_one_message_at_least_once() -> None:
    world = World()
    world.emu.webhooks.knobs.fail_first_attempts = 1
    item_id = world.emu.add_item("TEE-1", "Tee", 2500, 10)
    order = world.emu.pos_sale([("TEE-1", 3)])
    assert world.emu.quantity("TEE-1") == 7
    assert (order["paymentState"], order["state"], order["total"]) == ("PAID", "locked", 7500)
    assert [line["item"]["id"] for line in order["lineItems"]["elements"]] == [item_id] * 3
    await world.emu.webhooks.drain()
    record = world.emu.webhooks.deliveries[-1]
    assert record.delivered
    assert len(record.attempts) == 2
    assert record.url == HOOK_URL
    entries = record.payload["merchants"][MERCHANT]
    assert [(e["objectId"], e["type"]) for e in entries] == [(f"O:{order['id']}", "CREATE"), (f"I:{item_id}", "UPDATE")]


@pytest.mark.anyio
async def test_orders_filter_by_modified_time_and_expand_line_items() -> None:
    world = World()
    world.emu.add_item("TEE-1", "Tee", 2500, 10)
    first = world.emu.pos_sale([("TEE-1", 1)])
    world.wall.advance(60)
    second = world.emu.pos_sale([("TEE-1", 2)])
    async with world.http() as http:
        recent = await http.get("/orders", params={"filter": f"modifiedTime>={second['modifiedTime']}"})
        assert [o["id"] for o in recent.json()["elements"]] == [second["id"]]
        assert "lineItems" not in recent.json()["elements"][0]
        every = await http.get("/orders", params={"expand": "lineItems"})
        assert [o["id"] for o in every.json()["elements"]] == [second["id"], first["id"]]  # newest first
        assert len(every.json()["elements"][0]["lineItems"]["elements"]) == 2


@pytest.mark.anyio
async def test_control_api_drives_the_merchant() -> None:
    world = World()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=world.emu.app), base_url="http://emu") as ctl:
        created = await ctl.post("/_emulator/items", json={"sku": "MUG-1", "name": "Mug", "price": 1200, "quantity": 4})
        assert created.status_code == 200
        sale = (await ctl.post("/_emulator/sale", json={"lines": [{"sku": "MUG-1", "quantity": 1}]})).json()["order"]
        assert (await ctl.get("/_emulator/stock", params={"sku": "MUG-1"})).json() == {"quantity": 3.0}
        line = sale["lineItems"]["elements"][0]["id"]
        refunded = await ctl.post(f"/_emulator/orders/{sale['id']}/refund", json={"line_id": line})
        assert refunded.json()["order"]["paymentState"] == "REFUNDED"
        await ctl.post("/_emulator/stock", json={"sku": "MUG-1", "quantity": 9})
        assert (await ctl.get("/_emulator/listing", params={"sku": "MUG-1"})).json() == {"name": "Mug", "price": 1200}
        knobs = await ctl.post("/_emulator/knobs", json={"fail_next": {"status": 503, "count": 2}})
        assert knobs.json()["fail_next"] == [503, 503]
        assert (await ctl.get("/_emulator/refused")).json() == {"refused_requests": 0, "api_requests": 0}
        bad = await ctl.post("/_emulator/sale", json={"lines": [{"sku": "NOPE", "quantity": 1}]})
        assert bad.status_code == 400
        assert "unknown SKU 'NOPE'" in bad.json()["error"]
        await ctl.post("/_emulator/drain", json={})
        hooks = (await ctl.get("/_emulator/webhooks")).json()
        assert [h["delivered"] for h in hooks] == [True, True, True]


@pytest.mark.anyio
async def test_item_update_takes_the_documented_item_fields() -> None:
    world = World()
    item_id = world.emu.add_item("TEE-1", "Tee", 2500, 10)
    async with world.http() as http:
        item = (await http.get(f"/items/{item_id}")).json()
        # A client posting back what it read (read-only id and modifiedTime included), with documented changes.
        changed = item | {
            "name": "Tee (organic)",
            "price": 2700,
            "priceType": "PER_UNIT",
            "unitName": "each",
            "cost": 900,
            "hidden": True,
            "available": False,
            "alternateName": "Organic tee",
            "isRevenue": False,
            "defaultTaxRates": False,
        }
        reply = await http.post(f"/items/{item_id}", json=changed)
        assert reply.status_code == 200, reply.text
        stored = (await http.get(f"/items/{item_id}")).json()
        bad = await http.post(f"/items/{item_id}", json={"priceType": "PER_POUND"})
    assert {k: stored[k] for k in ("name", "price", "priceType", "unitName", "cost", "hidden", "available")} == {
        "name": "Tee (organic)",
        "price": 2700,
        "priceType": "PER_UNIT",
        "unitName": "each",
        "cost": 900,
        "hidden": True,
        "available": False,
    }
    assert bad.status_code == 400
    assert "priceType" in bad.json()["message"]
