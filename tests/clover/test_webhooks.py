"""Clover webhook verification: the static X-Clover-Auth code, the verification POST, malformed bodies, dedupe."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.clover.webhooks import (
    TOPIC_INVENTORY,
    TOPIC_ORDERS,
    TOPIC_OTHER,
    CloverVerificationRequest,
    verify_delivery,
)
from omnibridge.sdk import WebhookError

CODE = SecretStr("0307e264-b33a-4913-88aa-37b10014a0b8")
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def body(*entries: tuple[str, str, int], merchant: str = "TESTMERCHANT1") -> bytes:
    items = [{"objectId": o, "type": t, "ts": ts} for o, t, ts in entries]
    return json.dumps({"appId": "APP", "merchants": {merchant: items}}).encode()


def verify(raw: bytes, headers: dict[str, str], code: SecretStr | None = CODE) -> Any:
    return verify_delivery(raw, headers, auth_code=code, received_at=NOW)


def test_good_delivery_is_identified_by_its_entries() -> None:
    raw = body(("O:ORDER1", "CREATE", 1000), ("I:ITEM1", "UPDATE", 1000))
    delivery = verify(raw, {"x-clover-auth": CODE.get_secret_value()})
    assert delivery.topic == TOPIC_ORDERS
    assert delivery.event_id is None
    assert delivery.raw_body == raw
    assert delivery.delivery_id.startswith("clover:")
    # a retry (same entries, re-serialised differently) dedupes; another ts does not
    again = json.dumps(json.loads(raw), indent=2).encode()
    assert verify(again, {"X-Clover-Auth": CODE.get_secret_value()}).delivery_id == delivery.delivery_id
    later = body(("O:ORDER1", "CREATE", 1001), ("I:ITEM1", "UPDATE", 1000))
    assert verify(later, {"X-Clover-Auth": CODE.get_secret_value()}).delivery_id != delivery.delivery_id


@pytest.mark.parametrize(
    ("entries", "topic"),
    [
        ([("I:ITEM1", "UPDATE", 1), ("IS:ITEM1", "UPDATE", 1)], TOPIC_INVENTORY),
        ([("P:PAY1", "CREATE", 1)], TOPIC_OTHER),
        ([("P:PAY1", "CREATE", 1), ("O:ORDER1", "UPDATE", 1)], TOPIC_ORDERS),
    ],
)
def test_topic_follows_the_object_prefixes(entries: list[tuple[str, str, int]], topic: str) -> None:
    assert verify(body(*entries), {"X-Clover-Auth": CODE.get_secret_value()}).topic == topic


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "missing X-Clover-Auth"),
        ({"X-Clover-Auth": "another-apps-code"}, "does not match"),
        ({"X-Clover-Auth": CODE.get_secret_value() + "x"}, "does not match"),
    ],
)
def test_forged_or_unsigned_deliveries_are_refused(headers: dict[str, str], message: str) -> None:
    with pytest.raises(WebhookError, match=message):
        verify(body(("O:ORDER1", "CREATE", 1)), headers)


def test_unconfigured_auth_code_refuses_everything_with_a_clear_message() -> None:
    with pytest.raises(WebhookError, match="set webhook_auth_code"):
        verify(body(("O:ORDER1", "CREATE", 1)), {"X-Clover-Auth": "anything"}, code=None)


def test_verification_post_is_refused_naming_the_code() -> None:
    raw = b'{"verificationCode":"ce7643c1-83ea-4218-abe6-da876c9c7a0a"}'
    for code in (CODE, None):
        with pytest.raises(CloverVerificationRequest, match="ce7643c1-83ea-4218-abe6-da876c9c7a0a") as info:
            verify(raw, {}, code=code)
        assert info.value.verification_code == "ce7643c1-83ea-4218-abe6-da876c9c7a0a"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"not json", "not valid JSON"),
        (b"[1]", "not a JSON object"),
        (b'{"appId":"A"}', 'no "merchants" map'),
        (b'{"merchants":{"M":{}}}', "merchants.M is not a list"),
        (b'{"merchants":{"M":[{"objectId":"ORDER1","type":"CREATE","ts":1}]}}', "is not '<prefix>:<id>'"),
        (b'{"merchants":{"M":[{"objectId":"O:X","type":"MOVE","ts":1}]}}', "is not CREATE, UPDATE or DELETE"),
        (b'{"merchants":{"M":[{"objectId":"O:X","type":"CREATE","ts":"soon"}]}}', "is not Unix milliseconds"),
    ],
)
def test_malformed_bodies_name_what_is_wrong(raw: bytes, message: str) -> None:
    with pytest.raises(WebhookError, match=message):
        verify(raw, {"X-Clover-Auth": CODE.get_secret_value()})
