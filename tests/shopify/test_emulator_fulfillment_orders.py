"""The emulator's fulfillment orders through its GraphQL endpoint: holds, locationsForMove, moves (split and merge),
reroutes per API version, committed units following a move, the fulfillment_orders/* webhooks and control routes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from connectors.shopify import webhooks
from connectors.shopify.fulfilment_queries import (
    HOLD_MUTATION,
    LOCATIONS_FOR_MOVE_QUERY,
    MOVE_MUTATION,
    REROUTE_MUTATION,
)

from .emulator_support import SECRET, SKU, SKU2, Shop, client, gql, make_shop

pytestmark = pytest.mark.anyio

FOS = """
query FOs($id: ID!) {
  order(id: $id) {
    fulfillmentOrders(first: 10) {
      nodes {
        id status
        assignedLocation { location { id } }
        lineItems(first: 10) { nodes { id totalQuantity remainingQuantity lineItem { sku } } }
      }
    }
  }
}"""


async def _data(http: httpx.AsyncClient, query: str, variables: dict[str, Any], version: str = "2026-04") -> Any:
    body = (await gql(http, query, variables, version=version)).json()
    assert "errors" not in body, body
    return body["data"]


async def _fos(http: httpx.AsyncClient, order_gid: str) -> list[dict[str, Any]]:
    data = await _data(http, FOS, {"id": order_gid})
    return list(data["order"]["fulfillmentOrders"]["nodes"])


def _order(shop: Shop, lines: list[tuple[str, int]]) -> str:
    return f"gid://shopify/Order/{shop.emu.place_order(lines, shop.location)['id']}"


def _placement(fos: list[dict[str, Any]]) -> set[tuple[str, str, str, int]]:
    return {
        (fo["status"], fo["assignedLocation"]["location"]["id"], li["lineItem"]["sku"], li["remainingQuantity"])
        for fo in fos
        for li in fo["lineItems"]["nodes"]
    }


async def test_a_partial_move_splits_and_a_move_into_an_occupied_location_merges() -> None:
    shop = make_shop()
    shop.emu.set_available(SKU2, shop.location2, 1)
    order = _order(shop, [(SKU, 3), (SKU2, 1)])
    async with client(shop.emu) as http:
        (fo,) = await _fos(http, order)
        tent, _ = fo["lineItems"]["nodes"]
        moved = await _data(
            http,
            MOVE_MUTATION,
            {
                "id": fo["id"],
                "newLocationId": shop.location2,
                "fulfillmentOrderLineItems": [{"id": tent["id"], "quantity": 2}],
            },
        )
        payload = moved["fulfillmentOrderMove"]
        assert payload["userErrors"] == []
        assert payload["originalFulfillmentOrder"] == {"id": fo["id"], "status": "OPEN"}
        assert payload["movedFulfillmentOrder"]["id"] != fo["id"]
        assert _placement(await _fos(http, order)) == {
            ("OPEN", shop.location, SKU, 1),
            ("OPEN", shop.location, SKU2, 1),
            ("OPEN", shop.location2, SKU, 2),
        }
        # the rest follows into the store, which already has a fulfillment order of this order: Shopify closes that
        # one and recreates its lines, with the moved ones, in a new fulfillment order
        merged = await _data(http, MOVE_MUTATION, {"id": fo["id"], "newLocationId": shop.location2})
        assert merged["fulfillmentOrderMove"]["originalFulfillmentOrder"]["status"] == "CLOSED"
        after = await _fos(http, order)
        assert _placement(after) == {("OPEN", shop.location2, SKU, 3), ("OPEN", shop.location2, SKU2, 1)}
        assert [f["status"] for f in after] == ["CLOSED", "CLOSED", "OPEN"]
        closed = await _data(http, MOVE_MUTATION, {"id": after[1]["id"], "newLocationId": shop.location})
        assert closed["fulfillmentOrderMove"]["userErrors"] == [
            {"field": ["id"], "message": "The fulfillment order is closed."}
        ]
    # committed follows the units; available comes back where they left
    assert shop.emu.quantities(SKU, shop.location)["committed"] == 0
    assert shop.emu.available(SKU, shop.location) == 10
    assert shop.emu.quantities(SKU, shop.location2)["committed"] == 3
    assert shop.emu.available(SKU, shop.location2) == 0
    # and a cancellation restocks them where they are now
    shop.emu.cancel_order(order)
    assert shop.emu.available(SKU, shop.location2) == 3
    assert shop.emu.available(SKU2, shop.location2) == 1


async def test_a_whole_move_relocates_the_same_fulfillment_order() -> None:
    shop = make_shop()
    order = _order(shop, [(SKU, 2)])
    async with client(shop.emu) as http:
        (fo,) = await _fos(http, order)
        moved = await _data(http, MOVE_MUTATION, {"id": fo["id"], "newLocationId": shop.location2})
        assert moved["fulfillmentOrderMove"]["movedFulfillmentOrder"]["id"] == fo["id"]
        assert _placement(await _fos(http, order)) == {("OPEN", shop.location2, SKU, 2)}


async def test_locations_for_move_says_why_a_location_cannot_take_the_lines() -> None:
    shop = make_shop()
    order = _order(shop, [(SKU2, 1)])  # the stove was never stocked at the store
    async with client(shop.emu) as http:
        (fo,) = await _fos(http, order)
        data = await _data(http, LOCATIONS_FOR_MOVE_QUERY, {"id": fo["id"], "lineItemIds": None, "locationIds": None})
        nodes = data["fulfillmentOrder"]["locationsForMove"]["nodes"]
        assert [(n["location"]["id"], n["movable"], n["message"]) for n in nodes] == [
            (shop.location, False, "Current location."),
            (shop.location2, False, "Downtown store has never stocked STOVE-1B."),
        ]
        refused = await _data(http, MOVE_MUTATION, {"id": fo["id"], "newLocationId": shop.location2})
        assert refused["fulfillmentOrderMove"]["userErrors"] == [
            {"field": ["id"], "message": "Downtown store has never stocked STOVE-1B."}
        ]
    assert shop.emu.quantities(SKU2, shop.location)["committed"] == 1


async def test_holds_stack_by_unique_handle_up_to_ten_and_block_fulfilment() -> None:
    shop = make_shop()
    order = _order(shop, [(SKU, 1)])
    async with client(shop.emu) as http:
        (fo,) = await _fos(http, order)

        async def hold(handle: str) -> dict[str, Any]:
            variables = {"id": fo["id"], "fulfillmentHold": {"reason": "OTHER", "handle": handle}}
            return dict((await _data(http, HOLD_MUTATION, variables))["fulfillmentOrderHold"])

        assert (await hold("h0"))["userErrors"] == []
        assert (await hold("h0"))["userErrors"][0]["code"] == "DUPLICATE_FULFILLMENT_HOLD_HANDLE"
        for n in range(1, 10):
            assert (await hold(f"h{n}"))["userErrors"] == []
        assert (await hold("h10"))["userErrors"][0]["code"] == "FULFILLMENT_ORDER_HOLD_LIMIT_REACHED"
        assert [f["status"] for f in await _fos(http, order)] == ["ON_HOLD"]
        create = (
            """mutation F($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) { userErrors { message } } }"""
        )
        blocked = await _data(http, create, {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"]}]}})
        assert "unfulfillable status= on_hold" in blocked["fulfillmentCreate"]["userErrors"][0]["message"]
        release = """mutation R($id: ID!) { fulfillmentOrderReleaseHold(id: $id) { fulfillmentOrder { status } } }"""
        released = await _data(http, release, {"id": fo["id"]})
        assert released["fulfillmentOrderReleaseHold"]["fulfillmentOrder"]["status"] == "OPEN"


async def test_reroute_exists_from_2025_10_and_follows_the_routing_order() -> None:
    shop = make_shop()
    order = _order(shop, [(SKU, 2)])
    async with client(shop.emu) as http:
        (fo,) = await _fos(http, order)
        variables = {"fulfillmentOrderIds": [fo["id"]], "excludedLocationIds": [shop.location]}
        old = (await gql(http, REROUTE_MUTATION, variables, version="2025-07")).json()
        assert old["errors"][0]["message"] == "Field 'fulfillmentOrdersReroute' doesn't exist on type 'Mutation'"
        data = await _data(http, REROUTE_MUTATION, variables, version="2025-10")
        (moved,) = data["fulfillmentOrdersReroute"]["movedFulfillmentOrders"]
        assert moved["assignedLocation"]["location"]["id"] == shop.location2
        # nowhere else can take it now: the store is excluded and the warehouse is its own
        again = await _data(http, REROUTE_MUTATION, {**variables, "excludedLocationIds": [shop.location]})
        assert (
            again["fulfillmentOrdersReroute"]["userErrors"][0]["code"]
            == "CANNOT_REASSIGN_LOCATION_FOR_FULFILLMENT_ORDERS"
        )


async def test_a_service_request_status_blocks_moves_and_is_set_by_the_control_route() -> None:
    shop = make_shop()
    order = _order(shop, [(SKU, 1)])
    async with client(shop.emu) as http:
        (fo,) = await _fos(http, order)
        answer = await http.post(
            f"/_emulator/fulfillment-orders/{fo['id']}/request-status", json={"request_status": "ACCEPTED"}
        )
        assert answer.json() == {"id": fo["id"], "request_status": "ACCEPTED"}
        bad = await http.post(
            f"/_emulator/fulfillment-orders/{fo['id']}/request-status", json={"request_status": "NOPE"}
        )
        assert bad.status_code == 422
        refused = await _data(http, MOVE_MUTATION, {"id": fo["id"], "newLocationId": shop.location2})
        assert "request status is ACCEPTED" in refused["fulfillmentOrderMove"]["userErrors"][0]["message"]
        (shown,) = (await http.get("/_emulator/state")).json()["fulfillment_orders"]
        assert shown["request_status"] == "ACCEPTED"
        assert shown["location_id"] == shop.location


async def test_fulfillment_order_webhooks_are_sent_once_subscribed_and_signed() -> None:
    shop = make_shop()
    _order(shop, [(SKU, 1)])
    async with client(shop.emu) as http:
        subscribed = await http.post(
            "/_emulator/webhook-subscriptions",
            json={"topics": ["fulfillment_orders/order_routing_complete", "fulfillment_orders/moved"]},
        )
        assert subscribed.json()["topics"] == ["fulfillment_orders/moved", "fulfillment_orders/order_routing_complete"]
        order = _order(shop, [(SKU, 1)])
        (fo,) = await _fos(http, order)
        await _data(http, MOVE_MUTATION, {"id": fo["id"], "newLocationId": shop.location2})
    await shop.emu.webhooks.drain()
    topics = shop.receiver.topics()
    assert topics.count("fulfillment_orders/order_routing_complete") == 1  # the first order came before subscribing
    assert topics[-3:] == ["fulfillment_orders/moved", "inventory_levels/update", "inventory_levels/update"]
    received = next(r for r in shop.receiver.received if r.headers["x-shopify-topic"] == "fulfillment_orders/moved")
    delivery = webhooks.verify(received.body, received.headers, SecretStr(SECRET), received_at=shop.clock())
    body = webhooks.parse_body(delivery.raw_body)
    assert body["moved_fulfillment_order"] == {"id": fo["id"], "status": "open", "assigned_location_id": shop.location2}
    assert body["destination_location_id"] == shop.location2
    assert body["source_location"] == {"id": shop.location}
    assert webhooks.moved_fulfillment_order_gid(body) == fo["id"]
    await shop.emu.aclose()
