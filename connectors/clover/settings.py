"""The ``clover`` section of a merchant profile."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, field_validator

DEFAULT_USER_AGENT = "omnibridge-clover/0.1"
_MERCHANT_ID = re.compile(r"[A-Z0-9]{13}")


class CloverSettings(BaseModel):
    """Connection to one Clover merchant.

    ``merchant_id`` is the 13-character merchant id (``mId``); Clover keeps one inventory per merchant, so it is
    also the connector's only location. ``access_token`` (merchant API token or OAuth access token) and
    ``webhook_auth_code`` (the "Clover Auth Code" the developer dashboard shows once the webhook URL is verified,
    sent by Clover in ``X-Clover-Auth``) are ``SecretStr`` so they never reach output.

    ``requests_per_second`` and ``max_concurrent`` are Clover's per-token limits (16/s, 5 in flight); the client
    stays under both so Clover never answers 429. ``order_lookback_minutes`` is how far back the first poll
    (no bookmark) reaches; ``poll_overlap_seconds`` is how far before the bookmark every later poll starts.
    ``currency`` is the merchant's currency: prices are written in its minor units. ``refund_restocks`` says
    whether this merchant's refunds put items back on the shelf (Clover's order does not say).
    ``retry_attempts`` / ``retry_initial_backoff`` shape retries of transient failures.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: HttpUrl = HttpUrl("https://api.clover.com")
    merchant_id: str
    access_token: SecretStr
    webhook_auth_code: SecretStr | None = None
    user_agent: str = Field(default=DEFAULT_USER_AGENT, min_length=1)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    requests_per_second: float = Field(default=16.0, gt=0)
    max_concurrent: int = Field(default=5, ge=1)
    order_lookback_minutes: int = Field(default=1440, ge=1)
    poll_overlap_seconds: int = Field(default=300, ge=0)
    refund_restocks: bool = False
    timeout_seconds: float = Field(default=30.0, gt=0)
    retry_attempts: int = Field(default=5, ge=1)
    retry_initial_backoff: float = Field(default=0.5, ge=0)

    @field_validator("merchant_id")
    @classmethod
    def _merchant_id(cls, value: str) -> str:
        if not _MERCHANT_ID.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a Clover merchant id: expected the 13 upper-case letters and digits shown under "
                "the merchant name in the Clover dashboard (e.g. TC4DGCJW1K4EW)"
            )
        return value
