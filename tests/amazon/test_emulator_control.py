"""Amazon emulator, the control back door over HTTP (``/_emulator/``) and as the conformance EmulatorControl."""

from __future__ import annotations

from typing import Any

import httpx

from connectors.amazon.emulator import AmazonControl
from omnibridge.testing.harness import EmulatorControl

from .test_emulator_support import MARKETPLACE, SKU, Seller, listing_path, make_seller, run


def _control(seller: Seller, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
    async def call() -> httpx.Response:
        async with seller.client(token="") as client:
            return await client.request(method, path, json=body)

    return run(call)


def test_http_control_seeds_listings_places_orders_and_reports_calls() -> None:
    seller = make_seller()
    seeded = _control(
        seller, "POST", "/_emulator/listings", {"sku": "MUG-1", "title": "Mug", "price": "8.5", "quantity": 4}
    )
    assert seeded.json() == {"sku": "MUG-1", "title": "Mug", "price": "8.50", "quantity": 4}
    order = _control(seller, "POST", "/_emulator/orders", {"sku": "MUG-1", "quantity": 3}).json()
    order_id = order["AmazonOrderId"]
    assert _control(seller, "GET", "/_emulator/listings/MUG-1").json()["quantity"] == 1
    shipped = _control(seller, "POST", f"/_emulator/orders/{order_id}/status", {"status": "Shipped"}).json()
    assert shipped["OrderStatus"] == "Shipped"

    async def api() -> None:
        async with seller.client() as client:
            await client.get(listing_path(), params={"marketplaceIds": MARKETPLACE})

    run(api)
    calls = _control(seller, "GET", "/_emulator/calls").json()
    assert calls == {"calls": {"getListingsItem": 1}, "refused_requests": 0, "api_requests": 1}
    state = _control(seller, "GET", "/_emulator/state").json()
    assert {listing["sku"] for listing in state["listings"]} == {SKU, "MUG-1"}
    assert [n["NotificationType"] for n in _control(seller, "GET", "/_emulator/notifications").json()] == [
        "ORDER_CHANGE",
        "LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
        "ORDER_CHANGE",
    ]


def test_http_control_injects_failures_and_explains_bad_input() -> None:
    seller = make_seller()
    assert _control(seller, "POST", "/_emulator/fail-next", {"status": 503, "count": 2}).status_code == 200
    assert _control(seller, "POST", "/_emulator/lose-next", {}).json() == {"lose_next": 1}

    async def api() -> list[int]:
        async with seller.client() as client:
            return [
                (await client.get(listing_path(), params={"marketplaceIds": MARKETPLACE})).status_code for _ in range(3)
            ]

    assert run(api) == [503, 503, 200]
    missing = _control(seller, "POST", "/_emulator/orders", {"quantity": 1})
    assert (missing.status_code, missing.json()) == (400, {"error": "missing field 'sku'"})
    unknown = _control(seller, "GET", "/_emulator/listings/NOPE")
    assert unknown.status_code == 404
    knobs = _control(seller, "POST", "/_emulator/knobs", {"webhooks": {"duplicate_next": 2}}).json()
    assert knobs["webhooks"]["duplicate_next"] == 2
    assert seller.emu.webhooks.knobs.duplicate_next == 2
    assert _control(seller, "POST", "/_emulator/knobs", {"webhooks": {"nope": 1}}).status_code == 400
    bad_status = _control(seller, "POST", "/_emulator/orders", {"sku": SKU, "status": "Lost"})
    assert bad_status.status_code == 400
    assert "Lost" in bad_status.json()["error"]


def test_python_control_is_the_conformance_emulator_control() -> None:
    seller = make_seller()
    control = seller.emu.control
    assert isinstance(control, AmazonControl)
    assert isinstance(control, EmulatorControl)
    control.seed_stock("NEW-SKU", "DEFAULT", 6)
    assert control.shown_stock("NEW-SKU", "DEFAULT") == 6
    order_id = control.place_order("NEW-SKU", "DEFAULT", 2)
    assert control.shown_stock("NEW-SKU", "DEFAULT") == 4
    assert not control.order_cancelled(order_id)
    control.cancel_order(order_id)
    assert control.order_cancelled(order_id)
    assert control.listing("NEW-SKU") == ("NEW-SKU", "10.00")
