"""Buyer addresses through the Restricted Data Token flow: the emulator serves the whole ShippingAddress only to an
RDT (as SP-API does) and the connector asks the Tokens API for one; every request is checked against the models."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from connectors.amazon.emulator import AmazonEmulator, AmazonEmulatorConfig
from connectors.amazon.mapper import map_shipping_address
from connectors.amazon.notifications import SIGNATURE_HEADER
from connectors.amazon.spec_check import validate_request
from omnibridge.sdk import hmac_sha256_base64
from omnibridge.sdk.channel import OrderEvent, ShipTo
from omnibridge.sdk.emulator import read_recorded

from .test_client_emulator import FORWARDER, world
from .test_client_support import FakeTime

BUYER = ShipTo(
    country="US",
    name="Jordan Rivera",
    line1="1200 Pearl St",
    city="Boulder",
    region="CO",
    postal_code="80302",
    phone="+1 303-555-0100",
)


@pytest.mark.anyio
async def test_polled_and_notified_orders_carry_the_buyers_address(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.emu.control.seed_listing("TENT-1", quantity=10)
        first = await w.client.pull_events(None)
        w.time.t += 300
        placed = w.emu.control.create_order("TENT-1", 2)
        w.time.t += 300
        second = await w.client.pull_events(first.bookmark)
        [event] = [e for e in second.events if isinstance(e, OrderEvent) and e.ref == placed]
        assert event.ship_to == BUYER
        [notification] = [n for n in w.emu.control.notifications() if n.get("NotificationType") == "ORDER_CHANGE"]
        body = json.dumps(notification).encode()
        delivery = w.client.verify_webhook(
            body, {SIGNATURE_HEADER: hmac_sha256_base64(FORWARDER, body)}, "https://omnibridge.example/wh"
        )
        [notified] = await w.client.webhook_events(delivery)
        assert isinstance(notified, OrderEvent)
        assert notified.ship_to == BUYER
        rows = read_recorded(w.record)
        rdt_requests = [r for r in rows if r["path"] == "/tokens/2021-03-01/restrictedDataToken"]
        assert len(rdt_requests) == 2  # one for getOrders (cached across polls), one for the notified getOrder
        assert w.spec_problems() == []


@pytest.mark.anyio
async def test_without_the_restricted_role_orders_come_with_a_partial_address(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.emu.control.seed_listing("TENT-1", quantity=10)
        w.emu.restricted.create = _refuse  # type: ignore[method-assign]
        first = await w.client.pull_events(None)
        w.time.t += 300
        placed = w.emu.control.create_order("TENT-1", 1)
        w.time.t += 300
        second = await w.client.pull_events(first.bookmark)
        [event] = [e for e in second.events if isinstance(e, OrderEvent) and e.ref == placed]
        assert event.ship_to == ShipTo(country="US", city="Boulder", region="CO", postal_code="80302")
        assert w.client.orders.restricted.refused is not None


def _refuse(body: object, now: object) -> dict[str, object]:
    from connectors.amazon.emulator.common import ApiError

    raise ApiError(403, "Unauthorized", "Access to requested resource is denied.", "The application lacks the role.")


def test_the_emulator_serves_the_address_only_to_a_covering_rdt() -> None:
    time = FakeTime()
    emu = AmazonEmulator(AmazonEmulatorConfig(), time.now, monotonic=time.monotonic)
    emu.control.seed_listing("TENT-1", quantity=5)
    order_id = emu.control.create_order("TENT-1", 1)
    nowhere = emu.control.create_order("TENT-1", 1, shipping_address=None)

    async def run() -> dict[str, object]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emu.app), base_url="http://e") as http:
            lwa = emu.issue_token()
            path = f"/orders/v0/orders/{order_id}"
            plain = (await http.get(path, headers={"x-amz-access-token": lwa})).json()
            address = (await http.get(f"{path}/address", headers={"x-amz-access-token": lwa})).json()
            request = {"restrictedResources": [{"method": "GET", "path": f"{path}/address"}]}
            headers = {"x-amz-access-token": lwa}
            assert validate_request("POST", "/tokens/2021-03-01/restrictedDataToken", "", headers, request) == []
            made = await http.post(
                "/tokens/2021-03-01/restrictedDataToken", json=request, headers={"x-amz-access-token": lwa}
            )
            rdt = made.json()["restrictedDataToken"]
            whole = (await http.get(f"{path}/address", headers={"x-amz-access-token": rdt})).json()
            other = await http.get(f"/orders/v0/orders/{nowhere}/address", headers={"x-amz-access-token": lwa})
            elsewhere = await http.get(f"{path}/orderItems", headers={"x-amz-access-token": rdt})
            again = await http.post(
                "/tokens/2021-03-01/restrictedDataToken", json=request, headers={"x-amz-access-token": rdt}
            )
            bad = await http.post(
                "/tokens/2021-03-01/restrictedDataToken",
                json={"restrictedResources": []},
                headers={"x-amz-access-token": lwa},
            )
            return {
                "plain": plain,
                "address": address,
                "made": made.json(),
                "whole": whole,
                "other": other.json(),
                "elsewhere": elsewhere.status_code,
                "again": again.status_code,
                "bad": bad.status_code,
            }

    got = asyncio.run(run())
    partial = {"City": "Boulder", "StateOrRegion": "CO", "PostalCode": "80302", "CountryCode": "US"}
    plain = got["plain"]["payload"]["ShippingAddress"]  # type: ignore[index]
    assert {k: v for k, v in plain.items() if k != "AddressType"} == partial
    assert "Name" not in got["address"]["payload"]["ShippingAddress"]  # type: ignore[index]
    assert got["made"]["expiresIn"] == 3600  # type: ignore[index]
    assert got["whole"]["payload"]["ShippingAddress"]["AddressLine1"] == "1200 Pearl St"  # type: ignore[index]
    assert "ShippingAddress" not in got["other"]["payload"]  # type: ignore[index]
    assert (got["elsewhere"], got["again"], got["bad"]) == (403, 403, 400)


def test_an_address_without_a_country_code_is_no_ship_to() -> None:
    assert map_shipping_address({"City": "Boulder"}) is None
    assert map_shipping_address(
        {"CountryCode": "GB", "AddressLine1": "1 High St", "AddressLine2": "Flat 2", "AddressLine3": "Rear"}
    ) == ShipTo(country="GB", line1="1 High St", line2="Flat 2 Rear")
