"""connectors.amazon.spec_check: requests and feed documents checked against Amazon's own models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.amazon.spec_check import (
    find_operation,
    load_spec,
    validate_feed_document,
    validate_recorded,
    validate_request,
)

TOKEN = {"x-amz-access-token": "***"}
FORM = {"content-type": "application/x-www-form-urlencoded;charset=UTF-8"}
LISTING = "/listings/2021-08-01/items/A2SELLER/TENT-2P-GRN"
SEARCH = "/listings/2021-08-01/items/A2SELLER"


def _message(message_id: int, **overrides: Any) -> dict[str, Any]:
    message = {
        "messageId": message_id,
        "sku": f"SKU-{message_id}",
        "operationType": "PATCH",
        "productType": "PRODUCT",
        "patches": [
            {
                "op": "replace",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 3}],
            }
        ],
    }
    message.update(overrides)
    return message


def _feed(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"header": {"sellerId": "A2SELLER", "version": "2.0", "issueLocale": "en_US"}, "messages": messages}


@pytest.mark.parametrize(
    ("method", "path", "query", "body"),
    [
        (
            "GET",
            "/orders/v0/orders",
            {"MarketplaceIds": "ATVPDKIKX0DER", "LastUpdatedAfter": "2026-03-01T00:00:00Z"},
            None,
        ),
        ("GET", "/orders/v0/orders", "MarketplaceIds=ATVPDKIKX0DER&NextToken=abc", None),
        ("GET", "/orders/v0/orders/902-3159896-1390916/orderItems", {}, None),
        (
            "GET",
            LISTING,
            {"marketplaceIds": "ATVPDKIKX0DER", "includedData": "summaries,fulfillmentAvailability"},
            None,
        ),
        (
            "GET",
            SEARCH,
            {
                "marketplaceIds": "ATVPDKIKX0DER",
                "identifiers": ",".join(f"SKU-{i}" for i in range(20)),
                "identifiersType": "SKU",
                "includedData": "summaries,fulfillmentAvailability",
                "pageSize": "20",
            },
            None,
        ),
        ("GET", SEARCH, "marketplaceIds=ATVPDKIKX0DER&identifiers=A%2FB%20C%2CD&identifiersType=SKU", None),
        ("GET", "/listings/2021-08-01/items/A2SELLER/A%2FB%20C", {"marketplaceIds": "ATVPDKIKX0DER"}, None),
        (
            "PATCH",
            LISTING,
            {"marketplaceIds": ["ATVPDKIKX0DER"]},
            {"productType": "PRODUCT", "patches": _message(1)["patches"]},
        ),
        ("POST", "/feeds/2021-06-30/documents", {}, {"contentType": "application/json; charset=UTF-8"}),
        (
            "POST",
            "/feeds/2021-06-30/feeds",
            {},
            {"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": ["ATVPDKIKX0DER"], "inputFeedDocumentId": "d1"},
        ),
        ("GET", "/feeds/2021-06-30/feeds/50012345678", {}, None),
        ("GET", "/feeds/2021-06-30/documents/amzn1.tortuga.4.na.abc", {}, None),
    ],
)
def test_good_requests_have_no_problems(method: str, path: str, query: Any, body: Any) -> None:
    raw = None if body is None else json.dumps(body).encode()
    assert validate_request(method, path, query, TOKEN, raw) == []


def test_operations_are_found_by_template_with_literal_segments_first() -> None:
    items = find_operation("GET", "/orders/v0/orders/902-3159896-1390916/orderItems")
    order = find_operation("GET", "/orders/v0/orders/902-3159896-1390916")
    assert items is not None
    assert items.operation_id == "getOrderItems"
    assert order is not None
    assert order.operation_id == "getOrder"
    assert find_operation("PATCH", LISTING) is not None
    assert find_operation("DELETE", "/orders/v0/orders") is None


def test_search_listings_items_is_its_own_operation_with_the_models_limits() -> None:
    search = find_operation("GET", SEARCH)
    assert search is not None
    assert search.operation_id == "searchListingsItems"
    problems = validate_request(
        "GET",
        SEARCH,
        {
            "marketplaceIds": "ATVPDKIKX0DER",
            "identifiers": ",".join(f"SKU-{i}" for i in range(21)),
            "identifiersType": "SELLER_SKU",
            "pageSize": "21",
        },
        TOKEN,
        None,
    )
    assert "searchListingsItems: query parameter 'identifiers': 21 values, at most 20 allowed" in problems
    assert "searchListingsItems: query parameter 'pageSize': 21 is more than the maximum 20" in problems
    assert any(p.startswith("searchListingsItems: query parameter 'identifiersType': 'SELLER_SKU'") for p in problems)
    # a SKU holding "/" only matches the getListingsItem template while its path segment stays encoded
    decoded = validate_request("GET", f"{LISTING}/B C", {"marketplaceIds": "ATVPDKIKX0DER"}, TOKEN, None)
    assert decoded[0].startswith("GET /listings/2021-08-01/items/A2SELLER/TENT-2P-GRN/B C: no such operation")


def test_missing_marketplace_ids_is_named() -> None:
    problems = validate_request("GET", "/orders/v0/orders", {"CreatedAfter": "2026-03-01T00:00:00Z"}, TOKEN, None)
    assert problems == ["getOrders: query parameter 'MarketplaceIds' is required"]


def test_bad_query_values_unknown_parameters_and_missing_token_are_named() -> None:
    problems = validate_request(
        "GET",
        "/orders/v0/orders",
        {"MarketplaceIds": ",".join(f"M{i}" for i in range(51)), "CreatedAfter": "x", "MaxResults": "5"},
        {},
        None,
    )
    assert "getOrders: header 'x-amz-access-token' is required" in problems
    assert "getOrders: query parameter 'MarketplaceIds': 51 values, at most 50 allowed" in problems
    assert "getOrders: query parameter 'MaxResults' is not defined by the operation" in problems
    included = validate_request("GET", LISTING, {"marketplaceIds": "A", "includedData": "everything"}, TOKEN, None)
    assert len(included) == 1
    assert "'includedData': 'everything' is not one of" in included[0]


def test_a_bad_patch_op_and_a_missing_product_type_are_named() -> None:
    body = {"patches": [{"op": "set", "path": "/attributes/fulfillment_availability", "value": []}]}
    problems = validate_request("PATCH", LISTING, {"marketplaceIds": "ATVPDKIKX0DER"}, TOKEN, json.dumps(body))
    assert "patchListingsItem: body: 'productType' is a required property" in problems
    assert (
        "patchListingsItem: body.patches[0].op: 'set' is not one of ['add', 'replace', 'merge', 'delete']" in problems
    )
    no_body = validate_request("PATCH", LISTING, {"marketplaceIds": "ATVPDKIKX0DER"}, TOKEN, None)
    assert no_body == ["patchListingsItem: body is required"]
    not_json = validate_request("POST", "/feeds/2021-06-30/documents", {}, TOKEN, b"{")
    assert len(not_json) == 1
    assert "not valid JSON" in not_json[0]


def test_lwa_token_requests_need_the_form_fields_of_their_grant() -> None:
    good = "grant_type=refresh_token&refresh_token=Atzr|x&client_id=amzn1.app&client_secret=s"
    assert validate_request("POST", "/auth/o2/token", {}, FORM, good) == []
    grantless = "grant_type=client_credentials&scope=sellingpartnerapi::notifications&client_id=a&client_secret=s"
    assert validate_request("POST", "/auth/o2/token", {}, FORM, grantless) == []
    missing = validate_request("POST", "/auth/o2/token", {}, FORM, "grant_type=refresh_token&client_id=a")
    assert missing == [
        "LWA token request: form field 'client_secret' is required for grant_type=refresh_token",
        "LWA token request: form field 'refresh_token' is required for grant_type=refresh_token",
    ]
    as_json = validate_request("POST", "/auth/o2/token", {}, {"content-type": "application/json"}, {"grant_type": "x"})
    assert as_json[0].startswith("LWA token request: Content-Type must be application/x-www-form-urlencoded")
    assert "'grant_type' 'x' is not one of" in as_json[1]


def test_feed_documents_validate_against_the_listings_feed_schema() -> None:
    example = json.loads(
        (Path(__file__).parents[2] / "connectors/amazon/specs/listings-feed-schema-v2.json").read_text()
    )
    assert example["properties"]["messages"]["maxItems"] == 25_000
    assert validate_feed_document(_feed([_message(1), _message(2)])) == []
    update = _message(3, operationType="PARTIAL_UPDATE", attributes={"item_name": [{"value": "Tent"}]})
    del update["patches"]
    assert validate_feed_document(_feed([update, {"messageId": 4, "sku": "X", "operationType": "DELETE"}])) == []


def test_a_feed_with_25001_messages_is_refused_naming_the_limit() -> None:
    problems = validate_feed_document(_feed([_message(i + 1) for i in range(25_001)]))
    assert problems == ["feed.messages: 25001 items, at most 25000 allowed"]


def test_feed_message_problems_name_the_message_and_field() -> None:
    patch_with_attributes = _message(1, attributes={"x": [{}]})
    del patch_with_attributes["patches"]
    problems = validate_feed_document(
        _feed([patch_with_attributes, _message(2, messageId=0), _message(3, sku=""), _message(1)])
    )
    assert "feed.messages[0].attributes: not allowed when operationType is 'PATCH'" in problems
    assert "feed.messages[0]: 'patches' is a required property" in problems
    assert "feed.messages[1].messageId: 0 is less than the minimum of 1" in problems
    assert "feed.messages[2].sku: '' should be non-empty" in problems
    assert "feed.messages[3].messageId: 1 is already used by messages[0]" in problems
    assert validate_feed_document([]) == ["feed: expected a JSON object with 'header' and 'messages', got list"]
    no_header = validate_feed_document({"messages": [_message(1)]})
    assert no_header == ["feed: 'header' is a required property"]


def test_validate_recorded_prefixes_rows_and_skips_control_and_other_services() -> None:
    rows: list[dict[str, Any]] = [
        {"service": "amazon", "method": "GET", "path": "/_emulator/state", "query": {}, "headers": {}, "body": None},
        {"service": "square", "method": "GET", "path": "/v2/locations", "query": {}, "headers": {}, "body": None},
        {
            "service": "amazon",
            "method": "GET",
            "path": "/orders/v0/orders",
            "query": {},
            "headers": TOKEN,
            "body": None,
        },
        {
            "service": "amazon",
            "method": "PUT",
            "path": "/_s3/amzn1.tortuga.4.na.abc",
            "query": {"X-Amz-Signature": ["x"]},
            "headers": {"content-type": "application/json"},
            "body": _feed([_message(1, operationType="UPSERT")]),
        },
    ]
    problems = validate_recorded(rows)
    assert problems[0] == "#3 GET /orders/v0/orders: getOrders: query parameter 'MarketplaceIds' is required"
    assert any(
        p.startswith("#4 PUT /_s3/amzn1.tortuga.4.na.abc: feed document upload: feed.messages[0]") for p in problems
    )
    assert all(not p.startswith(("#1", "#2")) for p in problems)
    assert load_spec("ordersV0.json")["swagger"] == "2.0"
