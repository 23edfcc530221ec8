"""Helpers for verifying and carrying inbound webhook deliveries.

Verification always compares in constant time (:func:`hmac.compare_digest`) and is computed over the *raw*
request body bytes exactly as received — never over re-serialised JSON. A missing or malformed signature is
simply ``False``; raise :class:`~omnibridge.errors.WebhookError` from the connector when it is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from pydantic import SecretStr

__all__ = [
    "WebhookDelivery",
    "WebhookHeaders",
    "constant_time_equals",
    "hmac_sha256_base64",
    "hmac_sha256_digest",
    "hmac_sha256_hex",
    "verify_hmac_base64",
    "verify_hmac_hex",
]

Secret = str | bytes | SecretStr


def _key(secret: Secret) -> bytes:
    if isinstance(secret, SecretStr):
        secret = secret.get_secret_value()
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def hmac_sha256_digest(secret: Secret, message: bytes) -> bytes:
    """Raw HMAC-SHA256 of ``message`` keyed with ``secret`` (a ``str`` is UTF-8 encoded)."""
    return hmac.new(_key(secret), message, hashlib.sha256).digest()


def hmac_sha256_base64(secret: Secret, message: bytes) -> str:
    """Base64 HMAC-SHA256, the form Shopify and Square send."""
    return base64.b64encode(hmac_sha256_digest(secret, message)).decode("ascii")


def hmac_sha256_hex(secret: Secret, message: bytes) -> str:
    """Lowercase hex HMAC-SHA256, the form EasyPost and Shopify's OAuth callback use."""
    return hmac_sha256_digest(secret, message).hex()


def constant_time_equals(a: str | bytes, b: str | bytes) -> bool:
    """Compare two values without leaking where they differ (``str`` is compared as UTF-8)."""
    left = a.encode("utf-8") if isinstance(a, str) else a
    right = b.encode("utf-8") if isinstance(b, str) else b
    return hmac.compare_digest(left, right)


def verify_hmac_base64(secret: Secret, message: bytes, signature_header: str | None) -> bool:
    """True when ``signature_header`` is the base64 HMAC-SHA256 of ``message``; False if missing or forged."""
    if not signature_header:
        return False
    try:
        claimed = base64.b64decode(signature_header.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(claimed, hmac_sha256_digest(secret, message))


def verify_hmac_hex(secret: Secret, message: bytes, signature_header: str | None, *, prefix: str = "") -> bool:
    """True when ``signature_header`` is the hex HMAC-SHA256 of ``message`` (any case).

    ``prefix`` is a scheme label the vendor puts before the digest (EasyPost: ``"hmac-sha256-hex="``); a header
    without it is rejected.
    """
    if not signature_header:
        return False
    text = signature_header.strip()
    if prefix:
        if not text.startswith(prefix):
            return False
        text = text[len(prefix) :]
    try:
        claimed = bytes.fromhex(text)
    except ValueError:
        return False
    return hmac.compare_digest(claimed, hmac_sha256_digest(secret, message))


class WebhookHeaders(Mapping[str, str]):
    """An immutable, case-insensitive view of delivery headers; iteration yields the names as received."""

    __slots__ = ("_items",)

    def __init__(self, headers: Mapping[str, str] | None = None) -> None:
        self._items: dict[str, tuple[str, str]] = {
            name.lower(): (name, value) for name, value in (headers or {}).items()
        }

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (original for original, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"WebhookHeaders({dict(self.items())!r})"


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One verified webhook delivery as the inbox stores it.

    ``delivery_id`` identifies this delivery (stable across the vendor's retries, e.g. ``X-Shopify-Webhook-Id``)
    and is the inbox's dedupe key; ``event_id`` identifies the business event when the vendor sends one (several
    deliveries can carry one event). ``raw_body`` is kept byte-exact so the signature can be re-checked and the
    payload replayed. ``headers`` is converted to a case-insensitive :class:`WebhookHeaders`. ``received_at``
    must be timezone-aware.
    """

    delivery_id: str
    event_id: str | None
    topic: str
    raw_body: bytes
    headers: Mapping[str, str]
    received_at: datetime

    def __post_init__(self) -> None:
        if not self.delivery_id:
            raise ValueError("delivery_id must not be empty: it is the dedupe key of the delivery")
        if self.received_at.tzinfo is None or self.received_at.utcoffset() is None:
            raise ValueError("received_at must be timezone-aware")
        if not isinstance(self.headers, WebhookHeaders):
            object.__setattr__(self, "headers", WebhookHeaders(self.headers))

    @property
    def body_sha256(self) -> str:
        """Hex SHA-256 of the raw body, a fallback dedupe key for vendors that send no delivery id."""
        return hashlib.sha256(self.raw_body).hexdigest()
