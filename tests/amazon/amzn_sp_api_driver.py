"""Driver for tests/amazon/test_official_client.py: Amazon's ``amzn-sp-api`` SDK (package ``spapi``), run in a
child process.

``SPAPIClient(config, oauth_endpoint=..., endpoint=...)`` takes both URLs. The SDK puts its LWA token into
``x-amz-access-token`` on every call (from ``configuration.access_token_cache``), so a restricted data token is
used the way Amazon's SDK allows: an ``ApiClient`` whose token cache hands out the RDT.
The SDK leaves the upload to (and download from) a pre-signed feed document URL to the caller (``requests``).
Usage: ``python -P amzn_sp_api_driver.py SCENARIO JSON_ARGS``; prints one JSON document.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

import requests
from spapi import (
    ApiClient,
    ApiException,
    Configuration,
    FeedsApi,
    GetOrderApi,
    ListingsApi,
    OrdersV0Api,
    ReportsApi,
    ShipmentApi,
    SPAPIClient,
    SPAPIConfig,
    TokensApi,
)

MARKETPLACES = ["ATVPDKIKX0DER"]


def _client(args: dict[str, Any]) -> ApiClient:
    config = SPAPIConfig(args["client_id"], args["client_secret"], args["refresh_token"], region="NA")
    base = args["base_url"]
    return SPAPIClient(config, oauth_endpoint=f"{base}/auth/o2/token", endpoint=base).api_client


class _Fixed:
    """An ``access_token_cache`` that always hands out one token (here: a restricted data token)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_lwa_access_token(self) -> str:
        return self.token


def lwa(args: dict[str, Any]) -> Any:
    cache = _client(args).configuration.access_token_cache
    token = cache.get_lwa_access_token()
    return {"access_token": token[:5], "expires_in": cache.token_info["expires_in"]}


def orders(args: dict[str, Any]) -> Any:
    api = OrdersV0Api(_client(args))
    pages: list[list[str]] = []
    page = api.get_orders(MARKETPLACES, created_after=args["created_after"], max_results_per_page=1).payload
    pages.append([o.amazon_order_id for o in page.orders])
    while page.next_token:
        page = api.get_orders(MARKETPLACES, next_token=page.next_token).payload
        pages.append([o.amazon_order_id for o in page.orders])
    order = api.get_order(args["order_id"]).payload
    items = api.get_order_items(args["order_id"]).payload
    return {
        "pages": pages,
        "status": order.order_status,
        "city": order.shipping_address.city,
        "name": order.shipping_address.name,
        "items": [[i.seller_sku, i.quantity_ordered] for i in items.order_items],
    }


def missing_order(args: dict[str, Any]) -> Any:
    try:
        OrdersV0Api(_client(args)).get_order("999-0000000-0000000")
    except ApiException as error:
        return {"kind": type(error).__name__, "code": error.status, "errors": json.loads(error.body)["errors"]}
    return {"kind": None}


def listings(args: dict[str, Any]) -> Any:
    api = ListingsApi(_client(args))
    seller, sku = args["seller_id"], args["sku"]
    got = api.get_listings_item(seller, sku, MARKETPLACES, included_data=["summaries", "fulfillmentAvailability"])
    body = {
        "productType": "PRODUCT",
        "patches": [
            {
                "op": "replace",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": args["quantity"]}],
            }
        ],
    }
    patched = api.patch_listings_item(seller, sku, MARKETPLACES, body)
    found = api.search_listings_items(seller, MARKETPLACES, identifiers=[sku], identifiers_type="SKU")
    return {
        "sku": got.sku,
        "quantity": got.fulfillment_availability[0].quantity,
        "patch": patched.status,
        "search": [item.sku for item in found.items],
    }


def product_type(args: dict[str, Any]) -> Any:
    sections = ["productTypes", "relationships"]
    got = ListingsApi(_client(args)).get_listings_item(
        args["seller_id"], args["sku"], MARKETPLACES, included_data=sections
    )
    return {
        "product_types": [[t.marketplace_id, t.product_type] for t in got.product_types],
        "relationships": [[r.marketplace_id, r.relationships] for r in got.relationships],
    }


def feed(args: dict[str, Any]) -> Any:
    api = FeedsApi(_client(args))
    created = api.create_feed_document({"contentType": "application/json"})
    upload = requests.put(
        created.url,
        data=json.dumps(args["document"]).encode(),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    upload.raise_for_status()
    body = {
        "feedType": "JSON_LISTINGS_FEED",
        "marketplaceIds": MARKETPLACES,
        "inputFeedDocumentId": created.feed_document_id,
    }
    feed_id = api.create_feed(body).feed_id
    status = api.get_feed(feed_id)
    while status.processing_status not in ("DONE", "FATAL", "CANCELLED"):
        time.sleep(0.05)
        status = api.get_feed(feed_id)
    document = api.get_feed_document(status.result_feed_document_id)
    report = requests.get(document.url, timeout=30)
    report.raise_for_status()
    return {
        "document_id": created.feed_document_id[:14],
        "status": status.processing_status,
        "report": report.json(),
    }


def restricted(args: dict[str, Any]) -> Any:
    order_id = args["order_id"]
    lwa_client = _client(args)
    resources = [{"method": "GET", "path": f"/orders/v0/orders/{order_id}/address"}]
    rdt = TokensApi(lwa_client).create_restricted_data_token({"restrictedResources": resources})
    configuration = Configuration()
    configuration.host = lwa_client.configuration.host
    configuration.access_token_cache = _Fixed(rdt.restricted_data_token)
    address = OrdersV0Api(ApiClient(configuration)).get_order_address(order_id).payload
    order_resource = {"method": "GET", "path": f"/orders/v0/orders/{order_id}", "dataElements": ["shippingAddress"]}
    rdt_order = TokensApi(lwa_client).create_restricted_data_token({"restrictedResources": [order_resource]})
    configuration.access_token_cache = _Fixed(rdt_order.restricted_data_token)
    order = OrdersV0Api(ApiClient(configuration)).get_order(order_id).payload
    return {
        "expires_in": rdt.expires_in,
        "address_name": address.shipping_address.name,
        "order_name": order.shipping_address.name,
    }


def confirm_shipment(args: dict[str, Any]) -> Any:
    """confirmShipment (204: the SDK returns None), then the order's packages through Orders 2026-01-01."""
    from spapi.models.orders_v0.confirm_shipment_order_item import ConfirmShipmentOrderItem
    from spapi.models.orders_v0.confirm_shipment_request import ConfirmShipmentRequest
    from spapi.models.orders_v0.package_detail import PackageDetail

    client = _client(args)
    package = PackageDetail(
        package_reference_id="1",
        carrier_code="UPS",
        carrier_name="UPS",
        shipping_method="UPS Ground",
        tracking_number=args["tracking_number"],
        ship_date=datetime.now(UTC),
        ship_from_supply_source_id=args["supply_source_id"],
        order_items=[ConfirmShipmentOrderItem(order_item_id=i, quantity=q) for i, q in args["items"]],
    )
    payload = ConfirmShipmentRequest(package_detail=package, marketplace_id=MARKETPLACES[0])
    answer = OrdersV0Api(client).confirm_shipment(args["order_id"], payload)
    order = OrdersV0Api(client).get_order(args["order_id"]).payload
    packages = GetOrderApi(client).get_order(args["order_id"], included_data=["PACKAGES"]).order.packages
    return {
        "answer": answer,
        "status": order.order_status,
        "packages": [(p.package_reference_id, p.tracking_number, p.carrier) for p in packages or []],
    }


def pickup_status(args: dict[str, Any]) -> Any:
    """updateShipmentStatus (204: the SDK returns None) for each status in turn, then the order's status."""
    from spapi.models.orders_v0.update_shipment_status_request import UpdateShipmentStatusRequest

    client = _client(args)
    answers = []
    for status in args["statuses"]:
        payload = UpdateShipmentStatusRequest(marketplace_id=MARKETPLACES[0], shipment_status=status)
        answers.append(ShipmentApi(client).update_shipment_status(args["order_id"], payload))
    try:
        ShipmentApi(client).update_shipment_status(
            args["order_id"], {"marketplaceId": MARKETPLACES[0], "shipmentStatus": "ReadyForPickup"}
        )
        refused = None
    except ApiException as error:
        refused = [error.status, json.loads(error.body)["errors"][0]["code"]]
    order = OrdersV0Api(client).get_order(args["order_id"]).payload
    return {"answers": answers, "ispu": order.is_ispu, "status": order.order_status, "refused": refused}


def returns_report(args: dict[str, Any]) -> Any:
    """createReport → getReport until DONE → getReportDocument → the (gzip) document, as Amazon's guide does."""
    import gzip

    api = ReportsApi(_client(args))
    body = {
        "reportType": "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE",
        "marketplaceIds": MARKETPLACES,
        "dataStartTime": args["start"],
        "dataEndTime": args["end"],
    }
    report_id = api.create_report(body).report_id
    report = api.get_report(report_id)
    while report.processing_status not in ("DONE", "FATAL", "CANCELLED"):
        time.sleep(0.05)
        report = api.get_report(report_id)
    document = api.get_report_document(report.report_document_id)
    data = requests.get(document.url, timeout=30).content
    if document.compression_algorithm == "GZIP":
        data = gzip.decompress(data)
    rows = data.decode("utf-8").splitlines()
    return {
        "status": report.processing_status,
        "compression": document.compression_algorithm,
        "header": rows[0].split("\t")[:4],
        "orders": [row.split("\t")[0] for row in rows[1:]],
    }


SCENARIOS = {
    "lwa": lwa,
    "orders": orders,
    "missing_order": missing_order,
    "listings": listings,
    "product_type": product_type,
    "feed": feed,
    "restricted": restricted,
    "confirm_shipment": confirm_shipment,
    "pickup_status": pickup_status,
    "returns_report": returns_report,
}

if __name__ == "__main__":
    print(json.dumps(SCENARIOS[sys.argv[1]](json.loads(sys.argv[2])), default=str))
