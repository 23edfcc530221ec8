"""Order cancellation (``ShopifyClient.cancel_order`` → ``orderCancel``) against the Shopify emulator, per version."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.shopify import connector, queries
from connectors.shopify.client import ShopifyClient
from connectors.shopify.emulator import SUPPORTED_VERSIONS, ShopifyEmulator, ShopifyEmulatorConfig, validate_document
from connectors.shopify.emulator.order_mutations import ALREADY_CANCELLED
from omnibridge.sdk import Capability, FatalConnectorError
from omnibridge.sdk.channel import OrderCanceller, OrderEvent, OrderEventKind

from .client_support import FakeTime, settings
from .emulator_support import client as emulator_http
from .emulator_support import gql

T = TypeVar("T")
START = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
HOOK_URL = "http://omnibridge.test/hooks"
# Both argument shapes: ``refund: Boolean!`` (before 2025-07) and ``refundMethod`` (2025-07 on).
VERSIONS = ["2024-10", "2025-01", "2025-07", "2026-04"]
REASON = "omnibridge: 2 of the items are no longer in stock at store"


class World:
    """An emulated shop with one order for 2 tents at the store (3 on hand there, 1 left available)."""

    def __init__(self, version: str) -> None:
        self.time = FakeTime()
        self.received: list[tuple[bytes, dict[str, str]]] = []
        receiver = Starlette(routes=[Route("/hooks", self._receive, methods=["POST"])])
        self.emu = ShopifyEmulator(
            ShopifyEmulatorConfig(webhook_url=HOOK_URL),
            clock=self.wall,
            webhook_transport=httpx.ASGITransport(app=receiver),
        )
        self.store = self.emu.add_location("Downtown store")
        self.emu.add_product("TENT-2P", "Trail tent", "199.00")
        self.emu.set_available("TENT-2P", self.store, 3)
        self.order_ref: str = self.emu.place_order([("TENT-2P", 2)], self.store)["admin_graphql_api_id"]
        config = settings(
            version,
            shop_url="http://127.0.0.1:8801",
            access_token=self.emu.config.access_token,
            api_secret=self.emu.config.api_secret,
        )
        self.client = ShopifyClient(
            config,
            transport=httpx.ASGITransport(app=self.emu.app),
            clock=self.time.clock,
            sleep=self.time.sleep,
            now=self.wall,
        )

    async def _receive(self, request: Request) -> Response:
        self.received.append((await request.body(), dict(request.headers)))
        return Response(status_code=200)

    def wall(self) -> datetime:
        return START + timedelta(seconds=self.time.now - 1000.0)

    def order(self) -> Any:
        return next(iter(self.emu.state.orders.values()))

    async def topics(self) -> list[str]:
        await self.emu.webhooks.drain()
        return [headers["x-shopify-topic"] for _, headers in self.received]

    def run(self, call: Callable[[ShopifyClient], Awaitable[T]]) -> T:
        async def main() -> T:
            try:
                return await call(self.client)
            finally:
                await self.client.aclose()
                await self.emu.aclose()

        return asyncio.run(main())


def test_spec_declares_cancel_and_the_client_implements_it() -> None:
    assert Capability.ORDERS_CANCEL in connector.capabilities
    assert isinstance(ShopifyClient(settings()), OrderCanceller)


@pytest.mark.parametrize("version", VERSIONS)
def test_cancel_restocks_keeps_the_payment_and_sends_orders_cancelled(version: str) -> None:
    world = World(version)
    emu = world.emu
    assert emu.quantities("TENT-2P", world.store)["committed"] == 2

    async def scenario(client: ShopifyClient) -> None:
        await client.cancel_order(world.order_ref, REASON)
        assert await world.topics() == [
            "orders/create",
            "inventory_levels/update",
            "orders/cancelled",
            "inventory_levels/update",
        ]
        body, headers = world.received[2]
        (event,) = await client.webhook_events(client.verify_webhook(body, headers, HOOK_URL))
        assert isinstance(event, OrderEvent)
        assert (event.ref, event.kind) == (world.order_ref, OrderEventKind.CANCELLED)
        restocked = json.loads(world.received[3][0])
        assert restocked["available"] == 3

    world.run(scenario)
    order = world.order()
    assert order.cancelled_at is not None
    assert (order.cancel_reason, order.cancel_note) == ("inventory", REASON)
    assert order.financial_status == "paid"  # no refund was asked for
    assert emu.quantities("TENT-2P", world.store)["available"] == 3
    assert emu.quantities("TENT-2P", world.store)["committed"] == 0
    assert emu.calls["orderCancel"] == 1


@pytest.mark.parametrize("version", ["2025-01", "2026-04"])
def test_a_second_cancel_is_a_success_and_changes_nothing(version: str) -> None:
    world = World(version)

    async def scenario(client: ShopifyClient) -> None:
        await client.cancel_order(world.order_ref, REASON)
        await client.cancel_order(world.order_ref, "again")
        assert (await world.topics()).count("orders/cancelled") == 1

    world.run(scenario)
    assert world.emu.calls["orderCancel"] == 2
    assert world.emu.calls["order"] == 1  # the refusal was checked against the order's cancelledAt
    assert world.order().cancel_note == REASON
    assert world.emu.quantities("TENT-2P", world.store)["available"] == 3


def test_an_order_cancelled_in_the_admin_is_a_success() -> None:
    world = World("2026-04")
    world.emu.cancel_order(world.order_ref, restock=True, reason="customer")
    world.run(lambda client: client.cancel_order(world.order_ref, REASON))
    assert world.order().cancel_reason == "customer"


def test_an_unknown_order_is_fatal_with_a_clear_message() -> None:
    world = World("2026-04")
    with pytest.raises(
        FatalConnectorError, match=r"Shopify has no order gid://shopify/Order/999 \(NOT_FOUND: "
    ) as caught:
        world.run(lambda client: client.cancel_order("gid://shopify/Order/999", REASON))
    assert (caught.value.connector, caught.value.op) == ("shopify", "cancel_order")


def test_a_ref_that_is_not_an_order_gid_is_refused_before_any_request() -> None:
    world = World("2026-04")
    with pytest.raises(FatalConnectorError, match=r"'5600000000001' is not a Shopify order id: expected gid://"):
        world.run(lambda client: client.cancel_order("5600000000001", REASON))
    assert world.emu.calls["orderCancel"] == 0


def test_other_refusals_name_shopifys_code_and_message() -> None:
    world = World("2025-01")
    world.emu.fulfill(world.order_ref)
    message = f"Shopify refused to cancel order {world.order_ref}: INVALID: Fulfilled orders can't be cancelled."
    with pytest.raises(FatalConnectorError, match=message.replace(".", r"\.")):
        world.run(lambda client: client.cancel_order(world.order_ref, REASON))
    assert world.order().cancelled_at is None


def test_a_5xx_is_retried_because_a_second_cancel_is_harmless() -> None:
    world = World("2026-04")
    world.emu.knobs.fail_next = 1
    world.run(lambda client: client.cancel_order(world.order_ref, REASON))
    assert world.emu.calls["injected_error"] == 1
    assert world.order().cancelled_at is not None


def test_the_staff_note_is_cut_to_shopifys_limit() -> None:
    world = World("2025-01")
    world.run(lambda client: client.cancel_order(world.order_ref, "x" * 300))
    assert world.order().cancel_note == "x" * queries.STAFF_NOTE_MAX


@pytest.mark.parametrize("version", SUPPORTED_VERSIONS)
def test_the_documents_validate_for_every_supported_version(version: str) -> None:
    variables = queries.order_cancel_variables(version, "gid://shopify/Order/1", REASON)
    assert validate_document(version, queries.order_cancel_mutation(version), variables) == []
    assert validate_document(version, queries.ORDER_CANCELLED_QUERY, {"id": "gid://shopify/Order/1"}) == []
    assert variables["reason"] == "INVENTORY"
    assert variables["restock"] is True
    assert variables.get("refund", False) is False
    assert variables.get("refundMethod", {}).get("originalPaymentMethodsRefund", False) is False


def test_each_version_refuses_the_other_shape() -> None:
    new = queries.order_cancel_mutation("2025-07")
    assert "Unknown type 'OrderCancelRefundMethodInput'." in validate_document("2025-04", new)
    old = queries.order_cancel_mutation("2025-04")
    # 2025-07 still accepts the deprecated ``refund``, now optional.
    assert (
        validate_document("2025-07", old, queries.order_cancel_variables("2025-04", "gid://shopify/Order/1", "")) == []
    )


# --- the emulator's orderCancel, spoken to directly ---------------------------------------------------------------

RAW = """
mutation Cancel($id: ID!, $refund: Boolean!, $restock: Boolean!) {
  orderCancel(orderId: $id, reason: CUSTOMER, refund: $refund, restock: $restock) {
    job { id done }
    orderCancelUserErrors { code field message }
    userErrors { field message }
  }
}"""


def test_emulator_charges_a_mutations_cost_and_answers_like_shopify() -> None:
    world = World("2025-01")

    async def scenario() -> list[dict[str, Any]]:
        async with emulator_http(world.emu) as http:
            variables = {"id": world.order_ref, "refund": True, "restock": False}
            first = (await gql(http, RAW, variables)).json()
            second = (await gql(http, RAW, variables)).json()
            missing = (await gql(http, RAW, {**variables, "id": "gid://shopify/Order/1"})).json()
        await world.emu.aclose()
        return [first, second, missing]

    first, second, missing = asyncio.run(scenario())
    payload = first["data"]["orderCancel"]
    assert payload["orderCancelUserErrors"] == []
    assert payload["userErrors"] == []
    assert payload["job"]["id"].startswith("gid://shopify/Job/")
    assert payload["job"]["done"] is True
    assert first["extensions"]["cost"]["requestedQueryCost"] == 10
    assert first["extensions"]["cost"]["actualQueryCost"] == 10
    order = world.order()
    assert (order.cancel_reason, order.financial_status) == ("customer", "refunded")
    # restock: false releases the commitment without returning the units to available
    assert world.emu.quantities("TENT-2P", world.store)["available"] == 1
    assert world.emu.quantities("TENT-2P", world.store)["committed"] == 0
    assert second["data"]["orderCancel"] == {
        "job": None,
        "orderCancelUserErrors": [{"code": "INVALID", "field": ["orderId"], "message": ALREADY_CANCELLED}],
        "userErrors": [{"field": ["orderId"], "message": ALREADY_CANCELLED}],
    }
    assert missing["data"]["orderCancel"]["orderCancelUserErrors"][0]["code"] == "NOT_FOUND"


def test_emulator_validates_order_cancel_like_every_other_document() -> None:
    world = World("2026-04")

    async def scenario() -> dict[str, Any]:
        async with emulator_http(world.emu) as http:
            body: dict[str, Any] = (
                await gql(http, RAW, {"id": world.order_ref, "refund": False, "restock": True}, version="2024-10")
            ).json()
            wrong = RAW.replace("reason: CUSTOMER", "reason: OUT_OF_STOCK")
            refused: dict[str, Any] = (
                await gql(http, wrong, {"id": world.order_ref, "refund": False, "restock": True})
            ).json()
        await world.emu.aclose()
        assert "data" in body
        return refused

    refused = asyncio.run(scenario())
    assert "data" not in refused
    assert refused["errors"][0]["extensions"]["code"] == "argumentLiteralsIncompatible"
    assert world.emu.calls["invalid"] == 1
