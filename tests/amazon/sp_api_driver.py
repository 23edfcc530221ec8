"""Driver for tests/amazon/test_official_client.py: ``python-amazon-sp-api`` (package ``sp_api``), in a child process.

The library builds its URLs from ``Marketplaces.X.endpoint`` and ``AccessTokenClient.scheme + host + path``; both
are plain attributes, so the SP-API endpoint is set on the client (``client.endpoint``) and LWA's on a subclass of
``AccessTokenClient`` passed as ``auth_token_client_class``. Its access tokens live in a process-wide cache keyed
by the refresh token, which is why each scenario runs in a fresh process.
Usage: ``python -P sp_api_driver.py SCENARIO JSON_ARGS``; prints one JSON document.
"""

from __future__ import annotations

import io
import json
import sys
import time
from typing import Any
from urllib.parse import urlsplit

from sp_api.api import Feeds, ListingsItems, Orders, Tokens
from sp_api.auth import AccessTokenClient
from sp_api.base import Client, Marketplaces, SellingApiException


def _auth_class(base_url: str) -> type[AccessTokenClient]:
    parts = urlsplit(base_url)

    class EmulatorLwa(AccessTokenClient):  # type: ignore[misc]  # sp_api ships no type hints
        scheme = f"{parts.scheme}://"
        host = parts.netloc

    return EmulatorLwa


def _client(kind: type[Client], args: dict[str, Any], **extra: Any) -> Any:
    credentials = {
        "refresh_token": args["refresh_token"],
        "lwa_app_id": args["client_id"],
        "lwa_client_secret": args["client_secret"],
    }
    client = kind(
        Marketplaces.US, credentials=credentials, auth_token_client_class=_auth_class(args["base_url"]), **extra
    )
    client.endpoint = args["base_url"]
    return client


def lwa(args: dict[str, Any]) -> Any:
    token = _client(Orders, args)._auth.get_auth()
    return {"access_token": token.access_token[:5], "expires_in": token.expires_in}


def orders(args: dict[str, Any]) -> Any:
    client = _client(Orders, args)
    pages: list[list[str]] = []
    page = client.get_orders(CreatedAfter=args["created_after"], MaxResultsPerPage=1)
    pages.append([o["AmazonOrderId"] for o in page.payload["Orders"]])
    while page.next_token:
        page = client.get_orders(NextToken=page.next_token)
        pages.append([o["AmazonOrderId"] for o in page.payload["Orders"]])
    order = client.get_order(args["order_id"]).payload
    items = client.get_order_items(args["order_id"]).payload
    return {
        "pages": pages,
        "status": order["OrderStatus"],
        "city": order["ShippingAddress"].get("City"),
        "name": order["ShippingAddress"].get("Name"),
        "items": [[i["SellerSKU"], i["QuantityOrdered"]] for i in items["OrderItems"]],
    }


def missing_order(args: dict[str, Any]) -> Any:
    try:
        _client(Orders, args).get_order("999-0000000-0000000")
    except SellingApiException as error:
        return {"kind": type(error).__name__, "code": error.code, "errors": error.error}
    return {"kind": None}


def listings(args: dict[str, Any]) -> Any:
    client = _client(ListingsItems, args)
    seller, sku = args["seller_id"], args["sku"]
    got = client.get_listings_item(seller, sku, includedData=["summaries", "fulfillmentAvailability"]).payload
    patched = client.patch_listings_item(
        seller,
        sku,
        body={
            "productType": "PRODUCT",
            "patches": [
                {
                    "op": "replace",
                    "path": "/attributes/fulfillment_availability",
                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": args["quantity"]}],
                }
            ],
        },
    ).payload
    found = client.search_listings_items(seller, identifiers=[sku], identifiersType="SKU").payload
    return {
        "sku": got["sku"],
        "quantity": got["fulfillmentAvailability"][0]["quantity"],
        "patch": patched["status"],
        "search": [item["sku"] for item in found["items"]],
    }


def product_type(args: dict[str, Any]) -> Any:
    sections = ["productTypes", "relationships"]
    got = _client(ListingsItems, args).get_listings_item(args["seller_id"], args["sku"], includedData=sections)
    return {"product_types": got.payload["productTypes"], "relationships": got.payload["relationships"]}


def feed(args: dict[str, Any]) -> Any:
    client = _client(Feeds, args)
    document = json.dumps(args["document"]).encode("utf-8")
    created, submitted = client.submit_feed("JSON_LISTINGS_FEED", io.BytesIO(document), content_type="application/json")
    feed_id = submitted.payload["feedId"]
    status = client.get_feed(feed_id).payload
    while status["processingStatus"] not in ("DONE", "FATAL", "CANCELLED"):
        time.sleep(0.05)
        status = client.get_feed(feed_id).payload
    report = client.get_feed_result_document(status["resultFeedDocumentId"])
    return {
        "document_id": created.payload["feedDocumentId"][:14],
        "status": status["processingStatus"],
        "report": json.loads(report),
    }


def restricted(args: dict[str, Any]) -> Any:
    order_id = args["order_id"]
    rdt = _client(Tokens, args).create_restricted_data_token(
        restrictedResources=[{"method": "GET", "path": f"/orders/v0/orders/{order_id}/address"}]
    )
    address = _client(Orders, args, restricted_data_token=rdt.payload["restrictedDataToken"])
    shipping = address.get_order_address(order_id).payload["ShippingAddress"]
    # The library's own shortcut: createRestrictedDataToken for this path, then the call with the RDT.
    order = _client(Orders, args).get_order(order_id, RestrictedResources=["shippingAddress"]).payload
    return {
        "expires_in": rdt.payload["expiresIn"],
        "address_name": shipping.get("Name"),
        "order_name": order["ShippingAddress"].get("Name"),
    }


SCENARIOS = {
    "lwa": lwa,
    "orders": orders,
    "missing_order": missing_order,
    "listings": listings,
    "product_type": product_type,
    "feed": feed,
    "restricted": restricted,
}

if __name__ == "__main__":
    print(json.dumps(SCENARIOS[sys.argv[1]](json.loads(sys.argv[2])), default=str))
