"""The emulator's fulfillments: ``fulfillmentCreate`` on fulfillment orders, the staff "fulfil" control route, the
signed ``fulfillments/create`` webhook, and the connector reading the shipment by poll and by webhook."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from graphql import ExecutionResult, execute, parse, validate
from graphql.execution.values import get_variable_values

from connectors.shopify import queries
from connectors.shopify.client import ShopifyClient
from connectors.shopify.emulator import SUPPORTED_VERSIONS, ShopifyEmulator, validate_document
from omnibridge.sdk import verify_hmac_base64
from omnibridge.sdk.channel import FulfilmentEvent, FulfilmentLineEvent, OrderEvent, OrderEventKind

from .client_support import official_schema
from .emulator_support import SECRET, SKU, SKU2, Shop, client, gql, make_shop
from .test_client_emulator import HOOK_URL, VERSIONS, World

FULFILMENT_ORDERS = """
query FulfillmentOrders($id: ID!) {
  order(id: $id) {
    fulfillmentOrders(first: 5) {
      nodes { id status lineItems(first: 10) { nodes { id remainingQuantity totalQuantity lineItem { id sku } } } }
    }
  }
}"""

FULFIL = """
mutation Fulfil($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment {
      id
      name
      status
      createdAt
      totalQuantity
      location { id }
      trackingInfo { number company url }
      fulfillmentLineItems(first: 10) { nodes { id quantity lineItem { id sku } } }
      order { id displayFulfillmentStatus }
    }
    userErrors { field message }
  }
}"""


def fulfilment_input(fo: dict[str, Any], lines: list[tuple[int, int]] | None = None, **tracking: str) -> dict[str, Any]:
    """``FulfillmentInput`` for fulfillment order ``fo``: ``(index of its line item, quantity)`` or all."""
    pair: dict[str, Any] = {"fulfillmentOrderId": fo["id"]}
    if lines is not None:
        items = fo["lineItems"]["nodes"]
        pair["fulfillmentOrderLineItems"] = [{"id": items[i]["id"], "quantity": q} for i, q in lines]
    value: dict[str, Any] = {"lineItemsByFulfillmentOrder": [pair], "notifyCustomer": False}
    if tracking:
        value["trackingInfo"] = tracking
    return {"fulfillment": value}


def run(shop: Shop, version: str, *requests: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Send GraphQL requests in order; each answer's body (``variables`` may be a function of earlier answers)."""

    async def go() -> list[dict[str, Any]]:
        bodies: list[dict[str, Any]] = []
        async with client(shop.emu) as http:
            for query, variables in requests:
                response = await gql(http, query, variables, version=version)
                assert response.status_code == 200
                bodies.append(response.json())
        await shop.emu.webhooks.drain(5)
        return bodies

    return asyncio.run(go())


def fulfillment_order(shop: Shop, order_gid: str, version: str = "2025-01") -> dict[str, Any]:
    (body,) = run(shop, version, (FULFILMENT_ORDERS, {"id": order_gid}))
    node: dict[str, Any] = body["data"]["order"]["fulfillmentOrders"]["nodes"][0]
    return node


@pytest.mark.parametrize("version", ["2024-10", "2025-01", "2026-04"])
def test_fulfillment_create_ships_committed_units_and_sends_a_signed_webhook(version: str) -> None:
    shop = make_shop()
    order = shop.emu.place_order([(SKU, 3), (SKU2, 1)], location_id=shop.location)
    fo = fulfillment_order(shop, order["admin_graphql_api_id"], version)
    assert fo["status"] == "OPEN"
    shop.clock.advance(60)

    (body,) = run(
        shop,
        version,
        (FULFIL, fulfilment_input(fo, [(0, 2)], number="1Z999AA10123456784", company="UPS")),
    )

    payload = body["data"]["fulfillmentCreate"]
    assert payload["userErrors"] == []
    shipped = payload["fulfillment"]
    assert shipped["status"] == "SUCCESS"
    assert shipped["name"] == f"{order['name']}.1"
    assert shipped["createdAt"] == "2026-11-23T19:01:00Z"
    assert shipped["location"] == {"id": shop.location}
    assert shipped["trackingInfo"] == [{"number": "1Z999AA10123456784", "company": "UPS", "url": None}]
    assert [(n["quantity"], n["lineItem"]["sku"]) for n in shipped["fulfillmentLineItems"]["nodes"]] == [(2, SKU)]
    assert shipped["totalQuantity"] == 2
    assert shipped["order"]["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED"
    # Shopify's model: the units were committed by the order; shipping them lowers committed and on_hand only.
    quantities = shop.emu.quantities(SKU, shop.location)
    assert (quantities["available"], quantities["committed"], quantities["on_hand"]) == (7, 1, 8)
    assert fulfillment_order(shop, order["admin_graphql_api_id"])["status"] == "IN_PROGRESS"

    delivery = shop.receiver.received[-1]
    assert delivery.headers["x-shopify-topic"] == "fulfillments/create"
    assert verify_hmac_base64(SECRET, delivery.body, delivery.headers["x-shopify-hmac-sha256"])
    rest = json.loads(delivery.body)
    assert rest["admin_graphql_api_id"] == shipped["id"]
    assert (rest["order_id"], rest["status"], rest["location_id"]) == (
        order["id"],
        "success",
        int(shop.location.rsplit("/", 1)[1]),
    )
    assert (rest["tracking_number"], rest["tracking_company"]) == ("1Z999AA10123456784", "UPS")
    assert [(li["sku"], li["quantity"], li["fulfillable_quantity"]) for li in rest["line_items"]] == [(SKU, 2, 1)]
    assert rest["created_at"] == "2026-11-23T15:01:00-04:00"


def test_blank_line_items_ship_the_rest_and_a_closed_fulfillment_order_is_refused() -> None:
    shop = make_shop()
    order = shop.emu.place_order([(SKU, 3), (SKU2, 1)], location_id=shop.location)
    fo = fulfillment_order(shop, order["admin_graphql_api_id"])
    first, rest, again = run(
        shop,
        "2025-01",
        (FULFIL, fulfilment_input(fo, [(0, 1)])),
        (FULFIL, fulfilment_input(fo)),
        (FULFIL, fulfilment_input(fo)),
    )
    assert first["data"]["fulfillmentCreate"]["userErrors"] == []
    shipped = rest["data"]["fulfillmentCreate"]["fulfillment"]
    assert sorted((n["lineItem"]["sku"], n["quantity"]) for n in shipped["fulfillmentLineItems"]["nodes"]) == [
        (SKU2, 1),
        (SKU, 2),
    ]
    assert shipped["order"]["displayFulfillmentStatus"] == "FULFILLED"
    assert again["data"]["fulfillmentCreate"] == {
        "fulfillment": None,
        "userErrors": [
            {
                "field": ["fulfillment", "lineItemsByFulfillmentOrder", "0", "fulfillmentOrderId"],
                "message": f"Fulfillment order {fo['id'].rsplit('/', 1)[1]} has an unfulfillable status= closed.",
            }
        ],
    }
    assert shop.emu.quantities(SKU, shop.location)["committed"] == 0
    assert shop.emu.quantities(SKU2, shop.location) | {} == {
        **shop.emu.quantities(SKU2, shop.location),
        "available": 3,
        "committed": 0,
        "on_hand": 3,
    }
    assert [r.headers["x-shopify-topic"] for r in shop.receiver.received].count("fulfillments/create") == 2


def test_refused_fulfillments_change_nothing() -> None:
    shop = make_shop()
    order = shop.emu.place_order([(SKU, 2)], location_id=shop.location)
    other = shop.emu.place_order([(SKU2, 1)], location_id=shop.location)
    fo = fulfillment_order(shop, order["admin_graphql_api_id"])
    other_fo = fulfillment_order(shop, other["admin_graphql_api_id"])
    ghost = {**fo, "id": "gid://shopify/FulfillmentOrder/1"}
    foreign_line = {**fo, "lineItems": other_fo["lineItems"]}
    mixed = fulfilment_input(fo)
    mixed["fulfillment"]["lineItemsByFulfillmentOrder"].append({"fulfillmentOrderId": other_fo["id"]})
    answers = run(
        shop,
        "2025-01",
        (FULFIL, fulfilment_input(ghost)),
        (FULFIL, fulfilment_input(fo, [(0, 3)])),
        (FULFIL, fulfilment_input(fo, [(0, 0)])),
        (FULFIL, fulfilment_input(foreign_line, [(0, 1)])),
        (FULFIL, mixed),
        (FULFIL, {"fulfillment": {"lineItemsByFulfillmentOrder": []}}),
    )
    errors = [a["data"]["fulfillmentCreate"]["userErrors"][0] for a in answers]
    assert [e["message"] for e in errors] == [
        "Fulfillment order does not exist.",
        "Invalid fulfillment order line item quantity requested.",
        "Invalid fulfillment order line item quantity requested.",
        "Invalid fulfillment order line item id.",
        "All fulfillment orders must be assigned to a single location.",
        "At least one fulfillment order is required.",
    ]
    assert errors[1]["field"] == [
        "fulfillment",
        "lineItemsByFulfillmentOrder",
        "0",
        "fulfillmentOrderLineItems",
        "0",
        "quantity",
    ]
    assert all(a["data"]["fulfillmentCreate"]["fulfillment"] is None for a in answers)
    assert shop.emu.quantities(SKU, shop.location)["committed"] == 2
    assert "fulfillments/create" not in shop.receiver.topics()
    assert shop.emu.state.order(order["id"]).fulfillments == []


def test_the_mutation_and_its_answer_fit_the_official_2026_04_schema() -> None:
    shop = make_shop()
    order = shop.emu.place_order([(SKU, 2)], location_id=shop.location)
    fo = fulfillment_order(shop, order["admin_graphql_api_id"])
    variables = fulfilment_input(fo, [(0, 1)], number="1Z1", company="UPS", url="https://ups.example/1Z1")
    schema = official_schema("2026-04")
    document = parse(FULFIL)
    assert [error.message for error in validate(schema, document)] == []
    coerced = get_variable_values(schema, document.definitions[0].variable_definitions or (), variables)  # type: ignore[attr-defined]
    assert not isinstance(coerced, list), coerced
    for version in SUPPORTED_VERSIONS:
        assert validate_document(version, FULFIL, variables) == []
        assert validate_document(version, FULFILMENT_ORDERS, {"id": order["admin_graphql_api_id"]}) == []

    # Shopify's own 2026-04 schema runs the emulator's resolvers: every field answered has the official type.
    result = execute(schema, document, root_value=shop.emu._root_value(), variable_values=variables)
    assert isinstance(result, ExecutionResult)
    assert result.errors is None, result.errors
    assert result.data is not None
    assert result.data["fulfillmentCreate"]["fulfillment"]["trackingInfo"] == [
        {"number": "1Z1", "company": "UPS", "url": "https://ups.example/1Z1"}
    ]
    read = execute(
        schema,
        parse(FULFILMENT_ORDERS),
        root_value=shop.emu._root_value(),
        variable_values={"id": order["admin_graphql_api_id"]},
    )
    assert isinstance(read, ExecutionResult)
    assert read.errors is None, read.errors
    # ... and the connector's order read, fulfillments included, against the same official schema
    whole = execute(
        schema,
        parse(queries.ORDER_QUERY),
        root_value=shop.emu._root_value(),
        variable_values={"id": order["admin_graphql_api_id"]},
    )
    assert isinstance(whole, ExecutionResult)
    assert whole.errors is None, whole.errors
    assert whole.data is not None
    (fulfillment,) = whole.data["order"]["fulfillments"]
    assert fulfillment["trackingInfo"] == [{"number": "1Z1", "company": "UPS"}]
    assert fulfillment["location"] == {"id": shop.location}


def test_staff_fulfil_through_the_control_route() -> None:
    shop = make_shop()
    order = shop.emu.place_order([(SKU, 3)], location_id=shop.location)

    async def go() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        async with client(shop.emu) as http:
            partial = await http.post(
                f"/_emulator/orders/{order['admin_graphql_api_id']}/fulfill",
                json={"lines": [[SKU, 1]], "tracking_number": "9400", "tracking_company": "USPS"},
            )
            too_many = await http.post(f"/_emulator/orders/{order['id']}/fulfill", json={"lines": [[SKU, 5]]})
            rest = await http.post(f"/_emulator/orders/{order['id']}/fulfill", json={})
        await shop.emu.webhooks.drain(5)
        return partial, too_many, rest

    partial, too_many, rest = asyncio.run(go())
    assert partial.status_code == 200
    assert (partial.json()["tracking_company"], partial.json()["name"]) == ("USPS", f"{order['name']}.1")
    assert [(li["sku"], li["quantity"]) for li in partial.json()["line_items"]] == [(SKU, 1)]
    assert too_many.status_code == 422
    assert "cannot fulfil 5" in too_many.json()["error"]
    assert [(li["sku"], li["quantity"]) for li in rest.json()["line_items"]] == [(SKU, 2)]
    assert shop.receiver.topics()[-2:] == ["fulfillments/create", "fulfillments/create"]
    assert shop.emu.quantities(SKU, shop.location)["available"] == 7
    assert shop.emu.quantities(SKU, shop.location)["on_hand"] == 7
    state = shop.emu.snapshot()
    assert [f["status"] for f in state["orders"][0]["fulfillments"]] == ["success", "success"]
    assert state["orders"][0]["fulfillment_status"] == "fulfilled"


def test_a_cancelled_order_cannot_be_fulfilled() -> None:
    shop = make_shop()
    order = shop.emu.place_order([(SKU, 1)], location_id=shop.location)
    shop.emu.cancel_order(order["id"])
    with pytest.raises(ValueError, match="is cancelled"):
        shop.emu.fulfill(order["id"])
    fo = fulfillment_order(shop, order["admin_graphql_api_id"])
    (answer,) = run(shop, "2025-01", (FULFIL, fulfilment_input(fo)))
    assert "unfulfillable status= cancelled" in answer["data"]["fulfillmentCreate"]["userErrors"][0]["message"]


# --- through the connector --------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_the_connector_reads_a_fulfilment_by_poll_and_by_webhook(version: str) -> None:
    world = World(version)
    emu: ShopifyEmulator = world.emu

    async def scenario(client: ShopifyClient) -> None:
        placed = emu.place_order([("TENT-2P", 2), ("STOVE-1B", 1)], world.main)
        order_ref = placed["admin_graphql_api_id"]
        world.time.now += 30
        fos = await client.graphql("test", FULFILMENT_ORDERS, {"id": order_ref})
        fo = fos["order"]["fulfillmentOrders"]["nodes"][0]
        shipped_at = world.wall().replace(microsecond=0)
        answer = await client.graphql(
            "test", FULFIL, fulfilment_input(fo, [(0, 2)], number="1Z999", company="UPS"), idempotent=False
        )
        fulfillment_ref = answer["fulfillmentCreate"]["fulfillment"]["id"]
        world.time.now += 30

        pulled = await client.pull_events(None)
        order, shipped = pulled.events
        assert isinstance(order, OrderEvent)
        assert order.kind is OrderEventKind.PLACED
        tent_line = next(line for line in order.lines if line.sku == "TENT-2P")
        assert shipped == FulfilmentEvent(
            fulfillment_ref,
            order_ref,
            shipped_at,
            (FulfilmentLineEvent(tent_line.line_ref, "TENT-2P", 2),),
            location_ref=world.main,
            tracking_number="1Z999",
            carrier="UPS",
        )
        assert pulled.messages == []

        body, headers = await world.delivered("fulfillments/create")
        delivery = client.verify_webhook(body, headers, HOOK_URL)  # the emulator's real HMAC
        assert delivery.topic == "fulfillments/create"
        by_webhook = await client.webhook_events(delivery)
        assert [e for e in by_webhook if isinstance(e, FulfilmentEvent)] == [shipped]
        assert by_webhook[0] == order

    world.run(scenario)
    assert emu.quantities("TENT-2P", world.main) | {} == {
        **emu.quantities("TENT-2P", world.main),
        "available": 8,
        "committed": 0,
        "on_hand": 8,
    }
