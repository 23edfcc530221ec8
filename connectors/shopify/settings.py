"""The ``shopify`` section of a merchant profile."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, field_validator

_VERSION = re.compile(r"^(\d{4})-(01|04|07|10)$")


class ShopifySettings(BaseModel):
    """Connection to one Shopify shop through the Admin GraphQL API.

    ``shop_url`` is the shop's admin origin (``https://demo.myshopify.com``, or the emulator's
    ``http://127.0.0.1:8801``). ``access_token`` is the Admin API access token; ``api_secret`` is the app's
    client secret, the HMAC key of webhooks (required to accept webhooks). ``api_version`` is a quarterly
    Shopify API version ``YYYY-MM`` (months 01, 04, 07, 10); it also selects the inventory write semantics.
    ``notify_customer``: whether Shopify emails the customer when omnibridge confirms a shipment (default no).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    shop_url: HttpUrl
    access_token: SecretStr
    api_secret: SecretStr | None = None
    api_version: str = "2026-04"
    order_lookback_minutes: int = Field(default=24 * 60, ge=1, le=60 * 24 * 60)
    poll_overlap_seconds: int = Field(default=300, ge=0, le=24 * 3600)
    reason: str = Field(default="correction", min_length=1, max_length=64)
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    notify_customer: bool = False

    @field_validator("api_version")
    @classmethod
    def _check_version(cls, value: str) -> str:
        if not _VERSION.fullmatch(value):
            raise ValueError(
                f"api_version {value!r} is not a Shopify API version: expected YYYY-MM with month 01, 04, 07 or 10"
            )
        return value

    @property
    def version_key(self) -> tuple[int, int]:
        """``api_version`` as ``(year, month)`` for comparisons."""
        year, month = self.api_version.split("-")
        return int(year), int(month)
