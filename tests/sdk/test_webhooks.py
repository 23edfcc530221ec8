from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from omnibridge.sdk import (
    WebhookDelivery,
    WebhookHeaders,
    constant_time_equals,
    hmac_sha256_base64,
    hmac_sha256_hex,
    verify_hmac_base64,
    verify_hmac_hex,
)

# RFC 4231, test case 2.
RFC_KEY = "Jefe"
RFC_DATA = b"what do ya want for nothing?"
RFC_HEX = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
RFC_BASE64 = base64.b64encode(bytes.fromhex(RFC_HEX)).decode()


def test_rfc_4231_vector_in_hex_and_base64() -> None:
    assert hmac_sha256_hex(RFC_KEY, RFC_DATA) == RFC_HEX
    assert hmac_sha256_base64(RFC_KEY, RFC_DATA) == RFC_BASE64
    assert RFC_BASE64 == "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="


@pytest.mark.parametrize("secret", [RFC_KEY, RFC_KEY.encode(), SecretStr(RFC_KEY)])
def test_secret_may_be_str_bytes_or_secretstr(secret: str | bytes | SecretStr) -> None:
    assert verify_hmac_hex(secret, RFC_DATA, RFC_HEX)
    assert verify_hmac_base64(secret, RFC_DATA, RFC_BASE64)


def test_shopify_style_base64_signature_of_the_raw_body() -> None:
    body = b'{"id":820982911946154508,"available":5}'
    assert verify_hmac_base64("client-secret", body, hmac_sha256_base64("client-secret", body))
    assert verify_hmac_base64("client-secret", body, f"  {hmac_sha256_base64('client-secret', body)}\n")


@pytest.mark.parametrize(
    "signature",
    [
        hmac_sha256_base64("another secret", RFC_DATA),
        hmac_sha256_base64(RFC_KEY, RFC_DATA + b" "),
        RFC_BASE64[:-4] + "AAA=",
        "not base64 !!",
        RFC_HEX,
    ],
)
def test_forged_or_malformed_base64_signatures_are_rejected(signature: str) -> None:
    assert not verify_hmac_base64(RFC_KEY, RFC_DATA, signature)


@pytest.mark.parametrize("signature", [None, ""])
def test_missing_signature_is_rejected(signature: str | None) -> None:
    assert not verify_hmac_base64(RFC_KEY, RFC_DATA, signature)
    assert not verify_hmac_hex(RFC_KEY, RFC_DATA, signature)


def test_hex_signature_is_case_insensitive_and_forgeries_fail() -> None:
    assert verify_hmac_hex(RFC_KEY, RFC_DATA, RFC_HEX.upper())
    assert not verify_hmac_hex(RFC_KEY, RFC_DATA, "0" * 64)
    assert not verify_hmac_hex(RFC_KEY, RFC_DATA, RFC_HEX[:-2])
    assert not verify_hmac_hex(RFC_KEY, RFC_DATA, "zz" + RFC_HEX[2:])


def test_hex_signature_with_a_scheme_prefix() -> None:
    header = f"hmac-sha256-hex={RFC_HEX}"
    assert verify_hmac_hex(RFC_KEY, RFC_DATA, header, prefix="hmac-sha256-hex=")
    assert not verify_hmac_hex(RFC_KEY, RFC_DATA, RFC_HEX, prefix="hmac-sha256-hex=")


def test_constant_time_equals() -> None:
    assert constant_time_equals("static-auth-code", b"static-auth-code")
    assert not constant_time_equals("static-auth-code", "static-auth-codf")
    assert not constant_time_equals("short", "longer value")


def test_webhook_headers_are_case_insensitive_and_keep_original_names() -> None:
    headers = WebhookHeaders({"X-Shopify-Topic": "inventory_levels/update", "X-Shopify-Webhook-Id": "d-1"})
    assert headers["x-shopify-topic"] == "inventory_levels/update"
    assert "X-SHOPIFY-WEBHOOK-ID" in headers
    not_a_name: object = 42  # a Mapping accepts any key in `in`
    assert not_a_name not in headers
    assert headers.get("missing") is None
    assert list(headers) == ["X-Shopify-Topic", "X-Shopify-Webhook-Id"]
    assert len(headers) == 2


def test_webhook_delivery_normalises_headers_and_checks_its_fields() -> None:
    received = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    body = b'{"inventory_item_id":1}'
    delivery = WebhookDelivery("d-1", "e-1", "inventory_levels/update", body, {"X-A": "1"}, received)
    assert isinstance(delivery.headers, WebhookHeaders)
    assert delivery.headers["x-a"] == "1"
    assert delivery.body_sha256 == hashlib.sha256(body).hexdigest()
    with pytest.raises(ValueError, match="timezone-aware"):
        WebhookDelivery("d-1", None, "t", body, {}, datetime(2026, 1, 2, 3, 4, 5))
    with pytest.raises(ValueError, match="dedupe key"):
        WebhookDelivery("", None, "t", body, {}, received)
