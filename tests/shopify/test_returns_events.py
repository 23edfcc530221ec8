"""Shopify returns coming in: the returns/* and reverse_fulfillment_orders/dispose webhooks and the read-back of
order.returns as ReturnEvents, refunds of a return that never restock, and the emulator's return state machine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.shopify.client import ShopifyClient
from connectors.shopify.returns_queries import DISPOSE_MUTATION, RETURN_APPROVE_MUTATION, RETURN_PROCESS_MUTATION
from omnibridge.sdk.channel import ChannelEvent, RefundEvent, RestockType
from omnibridge.sdk.returns import Disposition, ReturnEvent, ReturnLineEvent, ReturnRequest, ReturnState

from .emulator_support import client as http_client
from .emulator_support import gql
from .fulfilment_support import STOVE, TENT, Shop

NEW, OLD = "2026-04", "2025-01"


def shipped_order(shop: Shop) -> tuple[str, dict[str, str]]:
    order, lines = shop.order([(TENT, 2), (STOVE, 1)])
    shop.emu.fulfill(order)
    return order, lines


async def delivered(shop: Shop, client: ShopifyClient, *topics: str) -> list[ChannelEvent]:
    """Events of every webhook received so far with one of ``topics``, in order; the received list is emptied."""
    await shop.emu.webhooks.drain()
    events: list[ChannelEvent] = []
    for body, headers in shop.received:
        if headers.get("x-shopify-topic") in topics:
            delivery = client.verify_webhook(body, headers, "https://omnibridge.test/hooks")
            events.extend(await client.webhook_events(delivery))
    shop.received.clear()
    return events


def closing(order: str, lines: dict[str, str], shop: Shop, return_ref: str | None) -> ReturnRequest:
    return ReturnRequest(
        "RMA-7",
        order,
        ReturnState.CLOSED,
        (
            ReturnLineEvent("r/1", lines[TENT], TENT, 1, disposition=Disposition.RESTOCK, location_ref=shop.store),
            ReturnLineEvent("r/2", lines[TENT], TENT, 1, disposition=Disposition.DAMAGED),
        ),
        channel_return_ref=return_ref,
        refund="199.00",
        currency="USD",
    )


def test_a_return_requested_on_the_shop_comes_in_with_its_order_lines(tmp_path: Path) -> None:
    shop = Shop(NEW, tmp_path / "requests.jsonl")
    order, lines = shipped_order(shop)
    return_gid = shop.emu.request_return(order, [(TENT, 2)], reason="SIZE_TOO_SMALL")

    async def scenario(client: ShopifyClient) -> list[ChannelEvent]:
        return await delivered(shop, client, "returns/request")

    (event,) = shop.run(scenario)
    assert isinstance(event, ReturnEvent)
    assert (event.ref, event.order_ref, event.state) == (return_gid, order, ReturnState.REQUESTED)
    (line,) = event.lines
    assert (line.line_ref, line.sku, line.quantity, line.reason) == (lines[TENT], TENT, 2, "SIZE_TOO_SMALL")
    assert line.disposition is None
    assert line.return_line_ref.startswith("gid://shopify/ReturnLineItem/")
    assert shop.invalid_requests() == []


@pytest.mark.parametrize(
    ("version", "topics"),
    [
        (NEW, ("returns/process", "refunds/create")),
        (OLD, ("reverse_fulfillment_orders/dispose", "refunds/create", "returns/close")),
    ],
)
def test_a_processed_return_comes_in_with_dispositions_and_its_refund_never_restocks(
    tmp_path: Path, version: str, topics: tuple[str, ...]
) -> None:
    shop = Shop(version, tmp_path / "requests.jsonl")
    order, lines = shipped_order(shop)
    return_gid = shop.emu.request_return(order, [(TENT, 2)])

    async def scenario(client: ShopifyClient) -> list[ChannelEvent]:
        approve = ReturnRequest("RMA-7", order, ReturnState.OPEN, (), channel_return_ref=return_gid)
        assert (await client.write_return(approve)).accepted
        await delivered(shop, client, "returns/request", "returns/approve")
        result = await client.write_return(closing(order, lines, shop, return_gid))
        assert result.accepted, result
        return await delivered(shop, client, *topics)

    events = shop.run(scenario)
    returns = [e for e in events if isinstance(e, ReturnEvent)]
    refunds = [e for e in events if isinstance(e, RefundEvent)]
    last = returns[-1]
    assert last.state is ReturnState.CLOSED
    assert sorted((line.disposition, line.location_ref, line.quantity) for line in last.lines) == [
        (Disposition.DAMAGED, None, 1),
        (Disposition.RESTOCK, shop.store, 1),
    ]
    assert {line.line_ref for line in last.lines} == {lines[TENT]}
    assert len({line.return_line_ref for line in last.lines}) == 2
    (refund,) = refunds
    assert [(line.line_ref, line.restock_type) for line in refund.lines] == [(lines[TENT], RestockType.NO_RESTOCK)]
    assert shop.invalid_requests() == []


def test_the_read_back_brings_an_orders_returns_and_its_return_refund_without_restock(tmp_path: Path) -> None:
    shop = Shop(NEW, tmp_path / "requests.jsonl")
    order, lines = shipped_order(shop)
    plain, _ = shop.order([(STOVE, 1)])

    async def scenario(client: ShopifyClient) -> list[ChannelEvent]:
        opened = await client.write_return(
            ReturnRequest("RMA-7", order, ReturnState.OPEN, (ReturnLineEvent("r/1", lines[TENT], TENT, 2),))
        )
        assert (await client.write_return(closing(order, lines, shop, opened.channel_return_ref))).accepted
        return (await client.pull_events(None)).events

    events = shop.run(scenario)
    (ret,) = [e for e in events if isinstance(e, ReturnEvent)]
    assert (ret.order_ref, ret.state) == (order, ReturnState.CLOSED)
    assert {line.disposition for line in ret.lines} == {Disposition.RESTOCK, Disposition.DAMAGED}
    (refund,) = [e for e in events if isinstance(e, RefundEvent)]
    assert {line.restock_type for line in refund.lines} == {RestockType.NO_RESTOCK}
    assert "OrderReturns" in shop.operations()
    assert shop.operations().count("OrderReturns") == 1  # the plain order has no return to read
    assert plain != order
    assert shop.invalid_requests() == []


def test_an_open_return_with_a_disposition_comes_in_as_received(tmp_path: Path) -> None:
    shop = Shop(OLD, tmp_path / "requests.jsonl")
    order, lines = shipped_order(shop)

    async def scenario(client: ShopifyClient) -> list[ChannelEvent]:
        opened = await client.write_return(
            ReturnRequest("RMA-7", order, ReturnState.OPEN, (ReturnLineEvent("r/1", lines[TENT], TENT, 2),))
        )
        record = shop.emu.state.order(int(order.rsplit("/", 1)[1])).returns[0]
        variables = {
            "dispositionInputs": [
                {
                    "reverseFulfillmentOrderLineItemId": f"gid://shopify/ReverseFulfillmentOrderLineItem/{record.reverse_lines[0].id}",
                    "quantity": 1,
                    "dispositionType": "MISSING",
                }
            ]
        }
        await call(shop, DISPOSE_MUTATION, variables, OLD)
        assert opened.accepted
        return await delivered(shop, client, "reverse_fulfillment_orders/dispose")

    (event,) = shop.run(scenario)
    assert isinstance(event, ReturnEvent)
    assert event.state is ReturnState.RECEIVED
    assert sorted((str(line.disposition), line.quantity) for line in event.lines) == [("None", 1), ("missing", 1)]


# --- the emulator's return state machine, through GraphQL -------------------------------------------------------


async def call(shop: Shop, document: str, variables: dict[str, Any], version: str = NEW) -> dict[str, Any]:
    async with http_client(shop.emu) as http:
        response = await gql(http, document, variables, version=version, token=shop.emu.config.access_token)
        return dict(json.loads(response.content))


def test_the_emulator_enforces_the_return_lifecycle_with_user_errors(tmp_path: Path) -> None:
    shop = Shop(NEW, tmp_path / "requests.jsonl")
    order, _ = shipped_order(shop)
    return_gid = shop.emu.request_return(order, [(TENT, 1)])
    available = shop.emu.available(TENT, shop.main)

    async def scenario(client: ShopifyClient) -> list[dict[str, Any]]:
        del client
        approve = {"input": {"id": return_gid}}
        first = await call(shop, RETURN_APPROVE_MUTATION, approve)
        second = await call(shop, RETURN_APPROVE_MUTATION, approve)
        record = shop.emu.state.order(int(order.rsplit("/", 1)[1])).returns[0]
        line = f"gid://shopify/ReverseFulfillmentOrderLineItem/{record.reverse_lines[0].id}"
        too_many = {
            "dispositionInputs": [
                {"reverseFulfillmentOrderLineItemId": line, "quantity": 2, "dispositionType": "NOT_RESTOCKED"}
            ]
        }
        no_location = {
            "dispositionInputs": [
                {"reverseFulfillmentOrderLineItemId": line, "quantity": 1, "dispositionType": "RESTOCKED"}
            ]
        }
        return [
            first,
            second,
            await call(shop, DISPOSE_MUTATION, too_many),
            await call(shop, DISPOSE_MUTATION, no_location),
        ]

    first, second, too_many, no_location = shop.run(scenario)
    assert first["data"]["returnApproveRequest"]["userErrors"] == []
    assert first["data"]["returnApproveRequest"]["return"]["status"] == "OPEN"
    (error,) = second["data"]["returnApproveRequest"]["userErrors"]
    assert error["code"] == "INVALID_STATE"
    assert too_many["data"]["reverseFulfillmentOrderDispose"]["userErrors"][0]["code"] == "INVALID"
    assert no_location["data"]["reverseFulfillmentOrderDispose"]["userErrors"][0]["field"][-1] == "locationId"
    assert shop.emu.available(TENT, shop.main) == available


def test_return_process_exists_from_2025_07_only(tmp_path: Path) -> None:
    shop = Shop(NEW, tmp_path / "requests.jsonl")
    variables = {"input": {"returnId": "gid://shopify/Return/1", "returnLineItems": []}}

    async def scenario(client: ShopifyClient) -> tuple[dict[str, Any], dict[str, Any]]:
        del client
        return await call(shop, RETURN_PROCESS_MUTATION, variables, OLD), await call(
            shop, RETURN_PROCESS_MUTATION, variables, "2025-07"
        )

    old, july = shop.run(scenario)
    assert "data" not in old
    assert any("returnProcess" in error["message"] for error in old["errors"])
    assert july["data"]["returnProcess"]["userErrors"][0]["code"] == "NOT_FOUND"


def test_the_control_api_places_pickup_orders_and_requests_returns() -> None:
    import asyncio

    from .emulator_support import SKU, make_shop

    shop = make_shop()

    async def go() -> tuple[dict[str, Any], int, int]:
        async with http_client(shop.emu) as http:
            placed = await http.post(
                "/_emulator/orders", json={"lines": [[SKU, 2]], "location_id": shop.location2, "pickup": True}
            )
            order = placed.json()
            await http.post(f"/_emulator/orders/{order['id']}/fulfill", json={})
            asked = await http.post(f"/_emulator/orders/{order['id']}/returns", json={"lines": [[SKU, 1]]})
            refused = await http.post(f"/_emulator/orders/{order['id']}/returns", json={"lines": [[SKU, 5]]})
        await shop.emu.webhooks.drain(5)
        return order, asked.status_code, refused.status_code

    order, asked, refused = asyncio.run(go())
    emulated = shop.emu.state.order(order["id"])
    assert [fo.delivery_method for fo in emulated.fulfillment_orders] == ["PICK_UP"]
    assert order["shipping_address"] is None
    assert (asked, refused) == (200, 422)
    assert [r.status for r in emulated.returns] == ["REQUESTED"]
    assert shop.receiver.topics().count("returns/request") == 1


def test_a_declined_request_comes_in_declined_and_a_worked_return_cannot_be_cancelled(tmp_path: Path) -> None:
    from connectors.shopify.emulator.return_desk import DisposeItem

    shop = Shop(NEW, tmp_path / "requests.jsonl")
    order, _ = shipped_order(shop)
    declined = shop.emu.request_return(order, [(TENT, 1)])
    worked = shop.emu.request_return(order, [(TENT, 1)])
    decline = """mutation Decline($input: ReturnDeclineRequestInput!) {
  returnDeclineRequest(input: $input) { return { id status } userErrors { code field message } }
}"""
    cancel = """mutation Cancel($id: ID!) { returnCancel(id: $id) { return { id } userErrors { code message } } }"""

    async def scenario(client: ShopifyClient) -> tuple[list[ChannelEvent], dict[str, Any]]:
        await call(shop, decline, {"input": {"id": declined, "declineReason": "FINAL_SALE"}})
        await call(shop, RETURN_APPROVE_MUTATION, {"input": {"id": worked}})
        desk = shop.emu.return_mutations.desk
        found_order, found = desk.find(int(worked.rsplit("/", 1)[1]))
        desk.dispose(found_order, found, [DisposeItem(found.reverse_lines[0].id, 1, "MISSING", None)], "input")
        refused = await call(shop, cancel, {"id": worked})
        return await delivered(shop, client, "returns/decline"), refused

    events, refused = shop.run(scenario)
    (event,) = events
    assert isinstance(event, ReturnEvent)
    assert (event.ref, event.state) == (declined, ReturnState.DECLINED)
    assert refused["data"]["returnCancel"]["userErrors"][0]["code"] == "INVALID_STATE"
