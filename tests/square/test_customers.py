"""Square customers: DeleteCustomer for erasure (checked against the official spec); no consent write-back,
because ``preferences.email_unsubscribed`` is read-only in the Customers API."""

from __future__ import annotations

import json

import respx

from omnibridge.sdk.privacy import ConsentWriter, CustomerEraser, PrivacyResult

from .fixtures import connector
from .test_client import run, square  # noqa: F401  (the respx fixture that checks requests against the spec)


def test_erase_deletes_the_customer_and_a_missing_one_counts_as_erased(square: respx.MockRouter) -> None:  # noqa: F811
    square.delete("/v2/customers/JDKYHBWT1D4F8MFH63DBMEN8Y4").respond(json={})
    square.delete("/v2/customers/GONE").respond(
        404, json={"errors": [{"category": "INVALID_REQUEST_ERROR", "code": "NOT_FOUND", "detail": "not found"}]}
    )
    client, _, _ = connector()
    assert isinstance(client, CustomerEraser)
    assert not isinstance(client, ConsentWriter)

    async def scenario(c: object) -> list[PrivacyResult]:
        assert isinstance(c, CustomerEraser)
        return [await c.erase_customer("JDKYHBWT1D4F8MFH63DBMEN8Y4"), await c.erase_customer("GONE")]

    assert run(scenario, client) == [
        PrivacyResult(True),
        PrivacyResult(True, "no such customer on Square (already deleted)"),
    ]
    assert [call.request.method for call in square.calls] == ["DELETE", "DELETE"]
    assert json.loads(square.calls[0].response.content) == {}
