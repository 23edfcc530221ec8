"""The ``square`` section of a merchant profile."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, field_validator

DEFAULT_SQUARE_VERSION = "2025-08-20"


class SquareSettings(BaseModel):
    """Connection to one Square seller account.

    ``access_token`` (personal or OAuth access token) and ``webhook_signature_key`` are ``SecretStr`` so they
    never reach output. ``webhook_notification_url`` must be byte-identical to the URL of the webhook
    subscription: Square signs ``notification_url + raw body``, and webhooks cannot be verified without it.
    ``location_ids`` restricts the connector to those locations (``None``: every location of the seller).
    ``requests_per_second`` and ``burst`` pace the client at the 10/s with bursts of 20 the emulator (and Square's
    observed behaviour: Square publishes no numbers) allows; no margin below it is needed, because the client's
    bucket counts each request until its answer arrives.
    ``order_lookback_minutes`` is how far back the first poll (no bookmark) reaches; ``poll_overlap_seconds``
    is how far before the bookmark every later poll starts (Square's ``updated_at`` is eventually consistent).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: HttpUrl = HttpUrl("https://connect.squareup.com")
    access_token: SecretStr
    square_version: str = Field(default=DEFAULT_SQUARE_VERSION, pattern=r"^\d{4}-\d{2}-\d{2}$")
    webhook_signature_key: SecretStr | None = None
    webhook_notification_url: str | None = None
    location_ids: list[str] | None = None
    requests_per_second: float = Field(default=10.0, gt=0)
    burst: int = Field(default=20, ge=1)
    order_lookback_minutes: int = Field(default=1440, ge=1)
    poll_overlap_seconds: int = Field(default=300, ge=0)
    timeout_seconds: float = Field(default=30.0, gt=0)

    @field_validator("location_ids")
    @classmethod
    def _non_empty_locations(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            if not value:
                raise ValueError("location_ids must name at least one location (omit it for all locations)")
            if any(not item.strip() for item in value):
                raise ValueError("location_ids must not contain blank ids")
        return value

    @field_validator("webhook_notification_url")
    @classmethod
    def _url_verbatim(cls, value: str | None) -> str | None:
        # Kept as a plain str, not HttpUrl: pydantic would normalise it (trailing slash, case) and the HMAC
        # is over the exact bytes Square has on the subscription.
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("webhook_notification_url must be the absolute URL of the webhook subscription")
        return value
