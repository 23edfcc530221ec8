"""The pure request validator against the vendored Square OpenAPI spec (also used on recorded traffic)."""

from __future__ import annotations

import pytest

from connectors.square.emulator import request_errors, validate_request
from connectors.square.emulator.openapi import find_operation

GOOD_CHANGE = {
    "idempotency_key": "8fc6a5b0-9fe8-4b46-b46b-2ef95793abbe",
    "changes": [
        {
            "type": "PHYSICAL_COUNT",
            "physical_count": {
                "catalog_object_id": "W62UWFY35CWMYGVWK6TWJDNI",
                "location_id": "C6W5YS5QM06F5",
                "occurred_at": "2016-11-16T22:25:24.878Z",
                "quantity": "53",
                "reference_id": "omnibridge:1",
                "state": "IN_STOCK",
            },
        }
    ],
    "ignore_unchanged_counts": None,  # nullable in the spec
}


def test_a_conforming_body_has_no_problems() -> None:
    assert validate_request("POST", "/v2/inventory/changes/batch-create", GOOD_CHANGE) == []
    assert validate_request("GET", "/v2/locations", None) == []
    assert validate_request("GET", "/v2/orders/CAISEM82RcpmcFBM0TfOyiHV3es", b"") == []


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"changes": []}, "idempotency_key", "MISSING_REQUIRED_PARAMETER"),
        ({"idempotency_key": ""}, "idempotency_key", "VALUE_TOO_SHORT"),
        ({"idempotency_key": "k" * 129}, "idempotency_key", "VALUE_TOO_LONG"),
        ({"idempotency_key": "k", "changes": {}}, "changes", "EXPECTED_ARRAY"),
        ({"idempotency_key": "k", "changes": [{"type": "SWAP"}]}, "changes[0].type", "INVALID_ENUM_VALUE"),
        (
            {"idempotency_key": "k", "changes": [{"physical_count": {"quantity": 1}}]},
            "changes[0].physical_count.quantity",
            "EXPECTED_STRING",
        ),
        ({"idempotency_key": "k", "chnages": []}, "chnages", "UNKNOWN_BODY_PARAMETER"),
    ],
)
def test_violations_map_to_square_codes_and_fields(body: dict[str, object], field: str, code: str) -> None:
    errors = request_errors("POST", "/v2/inventory/changes/batch-create", body)
    assert [(e.field, e.code, e.category) for e in errors] == [(field, code, "INVALID_REQUEST_ERROR")]
    assert validate_request("POST", "/v2/inventory/changes/batch-create", body)[0].startswith(f"{field}: {code}: ")


def test_unknown_fields_pass_when_not_strict_and_bad_json_is_expected_json_body() -> None:
    assert validate_request("POST", "/v2/orders/search", {"locationIds": ["X"]}, strict=False) == []
    assert [e.code for e in request_errors("POST", "/v2/orders/search", b"{nope")] == ["EXPECTED_JSON_BODY"]
    assert [e.code for e in request_errors("POST", "/v2/orders/search", None)] == ["EXPECTED_JSON_BODY"]
    assert [e.field for e in request_errors("POST", "/v2/orders/search", {"query": {"sort": {}}})] == [
        "query.sort.sort_field"
    ]


def test_operations_resolve_literal_paths_before_templates() -> None:
    search = find_operation("POST", "/v2/orders/search")
    assert search is not None
    assert search.operation_id == "SearchOrders"
    one = find_operation("GET", "/v2/orders/ABC")
    assert one is not None
    assert one.operation_id == "RetrieveOrder"
    assert find_operation("DELETE", "/v2/nowhere") is None
    assert [e.code for e in request_errors("DELETE", "/v2/nowhere", None)] == ["NOT_FOUND"]
