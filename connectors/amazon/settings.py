"""The ``amazon`` section of a merchant profile."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, field_validator, model_validator

from connectors.amazon.ratelimits import DEFAULT_LIMITS

DEFAULT_ENDPOINT = "https://sellingpartnerapi-na.amazon.com"
DEFAULT_LWA_ENDPOINT = "https://api.amazon.com/auth/o2/token"
US_MARKETPLACE = "ATVPDKIKX0DER"
MAX_FEED_MESSAGES = 25_000  # listings-feed-schema-v2: 1..25,000 messages per feed


class RateLimitOverride(BaseModel):
    """A usage plan Amazon granted this seller for one operation (requests per second and burst)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rate: float = Field(gt=0)
    burst: float = Field(ge=1)


class AmazonSettings(BaseModel):
    """Connection to one Amazon seller account in one marketplace (merchant-fulfilled stock only).

    ``endpoint`` is the SP-API regional host (NA ``https://sellingpartnerapi-na.amazon.com``, EU ``-eu``, FE
    ``-fe``); ``lwa_endpoint`` the Login with Amazon token URL. ``client_id``/``client_secret`` identify the
    developer application and ``refresh_token`` the seller's authorization of it; the secrets are ``SecretStr``.
    ``forwarder_secret`` keys the HMAC the notification forwarder puts on each SQS message it posts to omnibridge
    (see :mod:`connectors.amazon.notifications`); without it webhooks are refused.

    Stock writes of fewer than ``feed_threshold`` SKUs go one ``patchListingsItem`` call per SKU (5/s); from
    ``feed_threshold`` on they go as one ``JSON_LISTINGS_FEED`` per 25,000 SKUs, polled every
    ``feed_poll_seconds`` until done or ``feed_timeout_seconds``; with ``feed_notifications`` the connector
    subscribes the SQS queue ``notification_destination_arn`` to ``FEED_PROCESSING_FINISHED`` and a feed's
    notification ends its wait (polling stays the fallback, see :mod:`connectors.amazon.feed_subscription`).
    ``order_lookback_minutes`` is how far back the
    first order poll reaches; every later poll starts ``poll_overlap_seconds`` before the bookmark.
    ``rate_limits`` overrides Amazon's default usage plan per operation (``{"getOrders": {"rate": 0.05, "burst":
    20}}``); the limits are also corrected from ``x-amzn-RateLimit-Limit`` on every response.
    ``listing_visibility_seconds`` is how long after Amazon ACCEPTED a quantity write the connector reports that
    quantity instead of the older one Amazon still shows (Amazon shows accepted changes minutes later; 0 turns it
    off). ``max_attempts``/``max_retry_seconds`` bound the retries of one request (429s included).

    ``returns_report`` turns on reading returns from ``GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE`` (the application
    needs Amazon's "Direct to Consumer Shipping (Restricted)" role): the first poll reaches
    ``returns_lookback_days`` back, a new report is requested every ``returns_poll_minutes`` reaching
    ``returns_overlap_hours`` before the last one ended, and a report is polled every ``report_poll_seconds`` for
    up to ``returns_report_wait_seconds`` before it is left for the next poll (see :mod:`connectors.amazon.returns`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoint: HttpUrl = HttpUrl(DEFAULT_ENDPOINT)
    lwa_endpoint: HttpUrl = HttpUrl(DEFAULT_LWA_ENDPOINT)
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    refresh_token: SecretStr
    seller_id: str = Field(min_length=1)
    marketplace_id: str = Field(default=US_MARKETPLACE, min_length=1)
    forwarder_secret: SecretStr | None = None
    product_type: str = Field(default="PRODUCT", min_length=1)
    language_tag: str = Field(default="en_US", min_length=2)
    feed_threshold: int = Field(default=50, ge=1)
    feed_poll_seconds: float = Field(default=30.0, gt=0)
    feed_timeout_seconds: float = Field(default=3600.0, gt=0)
    # getOrders windows end two minutes before now: a shorter look-back would ask for an empty (refused) window.
    order_lookback_minutes: int = Field(default=1440, ge=3)
    poll_overlap_seconds: int = Field(default=300, ge=0)
    lwa_refresh_margin_seconds: float = Field(default=60.0, ge=0)
    rate_limits: dict[str, RateLimitOverride] = Field(default_factory=dict)
    max_attempts: int = Field(default=5, ge=1)
    max_retry_seconds: float = Field(default=300.0, gt=0)
    concurrency: int = Field(default=5, ge=1)
    listing_visibility_seconds: float = Field(default=300.0, ge=0)
    timeout_seconds: float = Field(default=30.0, gt=0)
    returns_report: bool = False
    feed_notifications: bool = False
    notification_destination_arn: str | None = Field(default=None, pattern=r"^arn:aws:sqs:[^:]+:\d+:.+$")
    returns_lookback_days: int = Field(default=30, ge=1, le=730)
    returns_overlap_hours: int = Field(default=24, ge=0, le=720)
    returns_poll_minutes: float = Field(default=60.0, ge=0)
    report_poll_seconds: float = Field(default=15.0, gt=0)
    returns_report_wait_seconds: float = Field(default=120.0, ge=0)

    @model_validator(mode="after")
    def _feed_notifications_need_a_queue(self) -> AmazonSettings:
        if self.feed_notifications and (self.notification_destination_arn is None or self.forwarder_secret is None):
            raise ValueError(
                "feed_notifications needs notification_destination_arn (the SQS queue Amazon delivers to) and "
                "forwarder_secret (the key of the forwarder that posts its messages to omnibridge)"
            )
        return self

    @field_validator("rate_limits")
    @classmethod
    def _known_operations(cls, value: dict[str, RateLimitOverride]) -> dict[str, RateLimitOverride]:
        unknown = sorted(set(value) - set(DEFAULT_LIMITS))
        if unknown:
            raise ValueError(
                f"unknown operation(s) {', '.join(unknown)} in rate_limits; expected one of "
                f"{', '.join(sorted(DEFAULT_LIMITS))}"
            )
        return value
