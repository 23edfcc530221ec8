"""Amazon emulator, confirmShipment: held to ordersV0.json, packages by packageReferenceId (a repeat is an edit),
the order moving to Shipped, supply sources, the 2/s burst-10 limit, and the packages in Orders 2026-01-01."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]
import pytest

from connectors.amazon.emulator.config import DEFAULT_SUPPLY_SOURCE_ID
from connectors.amazon.spec_check import load_spec, validate_body

from .test_emulator_support import MARKETPLACE, SKU, Seller, make_seller, run


def _order(seller: Seller, quantity: int = 2) -> tuple[str, str]:
    order_id = seller.emu.control.create_order(SKU, quantity)
    return order_id, seller.emu.control.order_items(order_id)[0]["OrderItemId"]


def _body(item_id: str, quantity: int = 2, **package: Any) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "packageReferenceId": "1",
        "carrierCode": "UPS",
        "carrierName": "UPS",
        "shippingMethod": "UPS Ground",
        "trackingNumber": "1Z999AA10123456784",
        "shipDate": "2026-03-02T15:00:00Z",
        "shipFromSupplySourceId": DEFAULT_SUPPLY_SOURCE_ID,
        "orderItems": [{"orderItemId": item_id, "quantity": quantity}],
    }
    detail.update(package)
    return {"marketplaceId": MARKETPLACE, "packageDetail": {k: v for k, v in detail.items() if v is not None}}


def _confirm(seller: Seller, order_id: str, body: Any) -> httpx.Response:
    async def call() -> httpx.Response:
        async with seller.client() as client:
            return await client.post(f"/orders/v0/orders/{order_id}/shipmentConfirmation", json=body)

    return run(call)


def _get(seller: Seller, path: str, **params: Any) -> httpx.Response:
    async def call() -> httpx.Response:
        async with seller.client() as client:
            return await client.get(path, params=params)

    return run(call)


def _error(response: httpx.Response, status: int = 400) -> str:
    assert response.status_code == status, response.text
    errors = response.json()["errors"]
    assert errors[0]["code"] == ("InvalidInput" if status == 400 else "NotFound")
    return str(errors[0]["message"])


def test_a_confirmed_package_ships_the_order_everywhere_it_is_read() -> None:
    seller = make_seller(rate_scale=1000.0)
    order_id, item_id = _order(seller)
    answer = _confirm(seller, order_id, _body(item_id))
    assert answer.status_code == 204
    assert answer.content == b""
    assert answer.headers["x-amzn-RateLimit-Limit"] == "2"
    order = _get(seller, f"/orders/v0/orders/{order_id}").json()["payload"]
    assert (order["OrderStatus"], order["NumberOfItemsShipped"], order["NumberOfItemsUnshipped"]) == ("Shipped", 2, 0)
    items = _get(seller, f"/orders/v0/orders/{order_id}/orderItems").json()["payload"]["OrderItems"]
    assert items[0]["QuantityShipped"] == 2
    since = seller.iso(-3600)
    polled = _get(seller, "/orders/v0/orders", MarketplaceIds=MARKETPLACE, OrderStatuses="Shipped", CreatedAfter=since)
    assert [o["AmazonOrderId"] for o in polled.json()["payload"]["Orders"]] == [order_id]
    change = seller.emu.control.notifications()[-1]["Payload"]["OrderChangeNotification"]
    assert change["Summary"]["OrderStatus"] == "Shipped"


def test_partial_packages_then_the_rest() -> None:
    seller = make_seller(rate_scale=1000.0)
    order_id, item_id = _order(seller)
    assert _confirm(seller, order_id, _body(item_id, 1)).status_code == 204
    assert seller.emu.control.order(order_id)["OrderStatus"] == "PartiallyShipped"
    assert _confirm(seller, order_id, _body(item_id, 1, packageReferenceId="2")).status_code == 204
    assert seller.emu.control.order(order_id)["OrderStatus"] == "Shipped"
    message = _error(_confirm(seller, order_id, _body(item_id, 1, packageReferenceId="3")))
    assert "order already fulfilled" in message


def test_the_same_package_id_edits_the_package() -> None:
    seller = make_seller(rate_scale=1000.0)
    order_id, item_id = _order(seller)
    assert _confirm(seller, order_id, _body(item_id)).status_code == 204
    again = _confirm(seller, order_id, _body(item_id, trackingNumber="1ZEDITED"))
    assert again.status_code == 204
    assert seller.emu.control.packages(order_id)["1"]["trackingNumber"] == "1ZEDITED"
    assert seller.emu.control.order_items(order_id)[0]["QuantityShipped"] == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"packageReferenceId": 1}, "body.packageDetail.packageReferenceId: 1 is not of type 'string'"),
        ({"carrierCode": None}, "'carrierCode' is a required property"),
        ({"packageReferenceId": "PKG-1"}, "must be a positive numeric value"),
        ({"packageReferenceId": "0"}, "must be a positive numeric value"),
        ({"shipDate": "02/21/2022"}, "Invalid ISO 8601 date for 'shipDate'"),
        ({"carrierCode": "Other", "carrierName": None}, "carrierName is required when carrierCode is 'Other'"),
        ({"shipFromSupplySourceId": "somewhere-else"}, "is not a supply source of this seller"),
        ({"orderItems": [{"orderItemId": "12345", "quantity": 1}]}, "OrderItemId 12345 is invalid"),
        ({"orderItems": [{"orderItemId": "X", "quantity": 3}]}, "more than the 2 left to ship"),
    ],
)
def test_an_invalid_confirmation_is_400_in_the_sp_api_error_shape(change: dict[str, Any], message: str) -> None:
    seller = make_seller(rate_scale=1000.0)
    order_id, item_id = _order(seller)
    change = copy.deepcopy(change)
    for line in change.get("orderItems", []):
        line["orderItemId"] = item_id if line["orderItemId"] == "X" else line["orderItemId"]
    assert message in _error(_confirm(seller, order_id, _body(item_id, **change)))
    assert seller.emu.control.order(order_id)["OrderStatus"] == "Unshipped"
    assert seller.emu.control.packages(order_id) == {}


def test_another_marketplace_a_cancelled_or_an_unknown_order_is_refused() -> None:
    seller = make_seller(rate_scale=1000.0)
    order_id, item_id = _order(seller)
    foreign = {**_body(item_id), "marketplaceId": "A1F83G8C2ARO7P"}
    assert "Invalid marketplaceId" in _error(_confirm(seller, order_id, foreign))
    seller.emu.control.cancel_order(order_id)
    assert "is Canceled" in _error(_confirm(seller, order_id, _body(item_id)))
    assert "was not found" in _error(_confirm(seller, "999-0000000-0000000", _body(item_id)), 404)


def test_a_supply_source_added_through_control_is_accepted() -> None:
    seller = make_seller(rate_scale=1000.0)
    seller.emu.control.add_supply_source("store-7-source")
    order_id, item_id = _order(seller)
    assert _confirm(seller, order_id, _body(item_id, shipFromSupplySourceId="store-7-source")).status_code == 204


def test_ten_go_at_once_then_two_a_second() -> None:
    seller = make_seller()
    seller.emu.control.seed_listing(SKU, title="Trail tent", price="199.00", quantity=50)
    orders = [_order(seller, 1) for _ in range(12)]
    statuses = [_confirm(seller, order_id, _body(item_id, 1)).status_code for order_id, item_id in orders]
    assert statuses == [204] * 10 + [429, 429]
    throttled = _confirm(seller, orders[10][0], _body(orders[10][1], 1))
    assert throttled.json()["errors"][0]["code"] == "QuotaExceeded"
    seller.mono.value += 0.5
    assert _confirm(seller, orders[10][0], _body(orders[10][1], 1)).status_code == 204


def test_the_packages_read_validates_against_orders_2026() -> None:
    seller = make_seller(rate_scale=1000.0)
    order_id, item_id = _order(seller)
    _confirm(seller, order_id, _body(item_id))
    answer = _get(seller, f"/orders/2026-01-01/orders/{order_id}", includedData="PACKAGES").json()
    spec = load_spec("orders_2026-01-01.json")
    schema = {"$ref": "#/definitions/GetOrderResponse", "definitions": spec["definitions"]}
    jsonschema.Draft4Validator(schema).validate(answer)
    package = answer["order"]["packages"][0]
    assert (package["packageReferenceId"], package["trackingNumber"], package["carrier"]) == (
        "1",
        "1Z999AA10123456784",
        "UPS",
    )
    assert package["packageItems"] == [{"orderItemId": item_id, "quantity": 2}]
    without = _get(seller, f"/orders/2026-01-01/orders/{order_id}").json()
    assert "packages" not in without["order"]


def test_the_official_example_validates() -> None:
    operation = load_spec("ordersV0.json")["paths"]["/orders/v0/orders/{orderId}/shipmentConfirmation"]["post"]
    example = operation["responses"]["204"]["x-amzn-api-sandbox"]["static"][0]["request"]["parameters"]["body"]
    assert validate_body("POST", "/orders/v0/orders/902-1106328-1059050/shipmentConfirmation", example["value"]) == []
    assert validate_body("POST", "/orders/v0/orders/902-1106328-1059050/shipmentConfirmation", {}) != []


def test_http_control_adds_supply_sources_and_shows_packages() -> None:
    seller = make_seller(rate_scale=1000.0)

    async def control(method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        async with seller.client(token="") as client:
            return await client.request(method, path, json=body)

    added = run(lambda: control("POST", "/_emulator/supply-sources", {"id": "store-9-source"}))
    assert added.json() == {"supply_source_ids": [DEFAULT_SUPPLY_SOURCE_ID, "store-9-source"]}
    order_id, item_id = _order(seller)
    assert _confirm(seller, order_id, _body(item_id, shipFromSupplySourceId="store-9-source")).status_code == 204
    state = run(lambda: control("GET", "/_emulator/state")).json()
    assert state["packages"][order_id]["1"]["shipFromSupplySourceId"] == "store-9-source"
