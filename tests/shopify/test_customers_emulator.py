"""Marketing consent and erasure against the emulator (documents validated against the official schema of the
URL's version), and the mandatory compliance webhooks it signs."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from connectors.shopify.client import ShopifyClient
from omnibridge.sdk.privacy import ConsentUpdate, ConsentWriter, CustomerEraser, PrivacyRequestEvent, PrivacyResult

from .test_client_emulator import HOOK_URL, World

DECIDED = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("version", ["2026-04", "2026-10"])
def test_consent_and_erasure_round_trip(version: str) -> None:
    world = World(version)
    world.emu.customers.add(7, email="ada@example.com", phone="+14155550132")
    world.emu.customers.add(8, email="bob@example.com")
    ada = "gid://shopify/Customer/7"

    async def scenario(client: ShopifyClient) -> list[PrivacyResult]:
        assert isinstance(client, ConsentWriter)
        assert isinstance(client, CustomerEraser)
        return [
            await client.write_consent(ConsentUpdate(ada, "email_marketing", True, DECIDED)),
            await client.write_consent(ConsentUpdate(ada, "sms_marketing", False, DECIDED)),
            await client.write_consent(ConsentUpdate("gid://shopify/Customer/8", "sms_marketing", True, DECIDED)),
            await client.write_consent(ConsentUpdate("gid://shopify/Customer/99", "email_marketing", True, DECIDED)),
            await client.erase_customer(ada),
            await client.erase_customer("gid://shopify/Customer/99"),
        ]

    results = world.run(scenario)
    assert [r.done for r in results] == [True, True, False, False, True, True]
    assert results[2].reason == "A phone number is required to set the SMS consent state."
    assert results[3].reason == "Customer not found"
    customer = world.emu.customers.customers[7]
    assert (customer.email_state, customer.email_updated_at, customer.opt_in_level) == (
        "SUBSCRIBED",
        "2026-05-01T09:30:00Z",
        "SINGLE_OPT_IN",
    )
    assert customer.sms_state == "UNSUBSCRIBED"
    assert customer.erasure_requested


def test_compliance_webhooks_are_signed_and_read_as_privacy_requests() -> None:
    world = World("2026-04")
    world.emu.customers.add(7, email="ada@example.com")
    world.emu.send_compliance("customers/redact", 7, [1001])

    async def scenario(client: ShopifyClient) -> list[object]:
        body, headers = await world.delivered("customers/redact")
        return list(await client.webhook_events(client.verify_webhook(body, headers, HOOK_URL)))

    (event,) = world.run(scenario)
    assert isinstance(event, PrivacyRequestEvent)
    assert (event.kind, event.customer_ref, event.email, event.orders) == (
        "redact",
        "gid://shopify/Customer/7",
        "ada@example.com",
        ("gid://shopify/Order/1001",),
    )


def test_control_routes_add_customers_and_send_compliance_webhooks() -> None:
    world = World("2026-04")

    async def scenario(client: ShopifyClient) -> list[int]:
        del client
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=world.emu.app), base_url="http://emu") as http:
            added = await http.post("/_emulator/customers", json={"id": 9, "email": "cy@example.com"})
            sent = await http.post("/_emulator/compliance", json={"topic": "customers/data_request", "customer_id": 9})
            unknown = await http.post("/_emulator/compliance", json={"topic": "customers/forget"})
            body, _ = await world.delivered("customers/data_request")
        assert json.loads(body)["customer"] == {"id": 9, "email": "cy@example.com", "phone": None}
        assert "unknown compliance topic 'customers/forget'" in unknown.text
        return [added.status_code, sent.status_code, unknown.status_code]

    assert world.run(scenario) == [200, 200, 422]
