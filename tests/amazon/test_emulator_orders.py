"""Amazon emulator, Orders API v0: filters, paging with NextToken, order items, validation errors, stock effects."""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]

from connectors.amazon.spec_check import load_spec

from .test_emulator_support import MARKETPLACE, SKU, Seller, make_seller, run


def _get(seller: Seller, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
    async def call() -> httpx.Response:
        async with seller.client() as client:
            return await client.get(path, params=params)

    return run(call)


def _orders(seller: Seller, **params: Any) -> httpx.Response:
    return _get(seller, "/orders/v0/orders", {"MarketplaceIds": MARKETPLACE, **params})


def _seed_orders(seller: Seller, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        ids.append(seller.emu.control.create_order(SKU, 1))
        seller.clock.advance(60)
    return ids


def test_orders_page_with_next_token_alone_and_cover_every_order_once() -> None:
    seller = make_seller(rate_scale=1000.0)
    seller.emu.control.seed_listing(SKU, quantity=100)
    ids = _seed_orders(seller, 7)
    since = seller.iso(-3600)

    first = _orders(seller, CreatedAfter=since, MaxResultsPerPage=3).json()["payload"]
    seen = [o["AmazonOrderId"] for o in first["Orders"]]
    assert len(seen) == 3
    token = first["NextToken"]
    assert first["CreatedBefore"]
    while token:
        # only NextToken (and the required MarketplaceIds): the other filters are ignored
        page = _orders(seller, NextToken=token).json()["payload"]
        seen += [o["AmazonOrderId"] for o in page["Orders"]]
        token = page.get("NextToken")
    assert seen == ids
    order = first["Orders"][0]
    assert order["FulfillmentChannel"] == "MFN"
    assert order["OrderStatus"] == "Unshipped"
    assert order["MarketplaceId"] == MARKETPLACE


def test_last_updated_after_sees_status_changes_and_reports_the_upper_bound() -> None:
    seller = make_seller(rate_scale=1000.0)
    old, changed = _seed_orders(seller, 2)
    seller.clock.advance(3600)
    mark = seller.iso()
    seller.clock.advance(10)
    seller.emu.control.cancel_order(changed)
    seller.clock.advance(10)

    payload = _orders(seller, LastUpdatedAfter=mark).json()["payload"]
    assert [o["AmazonOrderId"] for o in payload["Orders"]] == [changed]
    assert payload["Orders"][0]["OrderStatus"] == "Canceled"
    assert payload["LastUpdatedBefore"] == seller.iso()
    shipped_only = _orders(seller, LastUpdatedAfter=seller.iso(-7200), OrderStatuses="Shipped,Unshipped")
    assert [o["AmazonOrderId"] for o in shipped_only.json()["payload"]["Orders"]] == [old]


def test_invalid_order_queries_are_400_invalid_input_naming_the_parameter() -> None:
    seller = make_seller(rate_scale=1000.0)
    cases = [
        ({"CreatedAfter": seller.iso(-60)}, "MarketplaceIds", False),
        ({}, "CreatedAfter", True),
        ({"CreatedAfter": "yesterday"}, "CreatedAfter", True),
        ({"CreatedAfter": seller.iso(-600), "MaxResultsPerPage": "101"}, "MaxResultsPerPage", True),
        ({"CreatedAfter": seller.iso(-600), "OrderStatuses": "Lost"}, "OrderStatuses", True),
        ({"LastUpdatedAfter": seller.iso(-600), "LastUpdatedBefore": seller.iso(-30)}, "LastUpdatedBefore", True),
        ({"NextToken": "forged"}, "NextToken", True),
    ]
    for params, field, with_marketplace in cases:
        query = {"MarketplaceIds": MARKETPLACE, **params} if with_marketplace else params
        response = _get(seller, "/orders/v0/orders", query)
        assert response.status_code == 400, params
        error = response.json()["errors"][0]
        assert error["code"] == "InvalidInput"
        assert field in error["message"] or field == error["details"], (params, error)


def test_order_and_order_items_with_paging_and_404_for_unknown_orders() -> None:
    seller = make_seller(rate_scale=1000.0)
    for sku in ("A", "B", "C"):
        seller.emu.control.seed_listing(sku, title=f"Item {sku}", price="5.00", quantity=5)
    order_id = seller.emu.control.create_order(lines=[("A", 1), ("B", 2), ("C", 3)])

    order = _get(seller, f"/orders/v0/orders/{order_id}").json()["payload"]
    assert order["OrderTotal"] == {"CurrencyCode": "USD", "Amount": "30.00"}
    assert order["NumberOfItemsUnshipped"] == 6
    first = _get(seller, f"/orders/v0/orders/{order_id}/orderItems").json()["payload"]
    assert first["AmazonOrderId"] == order_id
    second = _get(seller, f"/orders/v0/orders/{order_id}/orderItems", {"NextToken": first["NextToken"]})
    items = first["OrderItems"] + second.json()["payload"]["OrderItems"]
    assert "NextToken" not in second.json()["payload"]
    assert [(i["SellerSKU"], i["QuantityOrdered"], i["Title"]) for i in items] == [
        ("A", 1, "Item A"),
        ("B", 2, "Item B"),
        ("C", 3, "Item C"),
    ]
    missing = _get(seller, "/orders/v0/orders/111-0000000-0000000")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "NotFound"


def test_orders_take_stock_and_cancelling_an_unshipped_order_gives_it_back() -> None:
    seller = make_seller()
    control = seller.emu.control
    shipped = control.create_order(SKU, 2)
    cancelled = control.create_order(SKU, 3)
    assert control.listing_quantity(SKU) == 5
    control.ship_order(shipped)
    control.cancel_order(cancelled)
    assert control.listing_quantity(SKU) == 8
    assert control.order_cancelled(cancelled)
    assert not control.order_cancelled(shipped)
    assert control.order(shipped)["NumberOfItemsShipped"] == 2


def test_order_responses_match_the_orders_v0_model() -> None:
    seller = make_seller(rate_scale=1000.0)
    order_id = seller.emu.control.create_order(SKU, 1)
    spec = load_spec("ordersV0.json")

    def check(definition: str, body: Any) -> None:
        schema = {"$ref": f"#/definitions/{definition}", "definitions": spec["definitions"]}
        jsonschema.Draft4Validator(schema).validate(body)

    check("GetOrdersResponse", _orders(seller, CreatedAfter=seller.iso(-60)).json())
    check("GetOrderResponse", _get(seller, f"/orders/v0/orders/{order_id}").json())
    check("GetOrderItemsResponse", _get(seller, f"/orders/v0/orders/{order_id}/orderItems").json())
