"""Profile sections of the carrier accounts driven through karrio (``ups``, ``fedex``, ``usps``, ``dhl_express``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr


class KarrioCarrierSettings(BaseModel):
    """What every karrio-driven carrier account takes.

    ``server_url`` replaces the carrier's API host (karrio picks production or sandbox from ``test_mode``);
    it exists for emulators and API gateways, merchants leave it unset. ``timeout_seconds`` bounds each
    operation: karrio's own HTTP calls have no timeout, so the connector stops waiting after this long (the
    worker thread is abandoned, not killed). Read operations (rates, tracking) are retried ``max_attempts``
    times on throttling, 5xx and connection failures with ``retry_backoff_seconds`` doubling between tries;
    label purchases are never retried (the carriers' ship endpoints have no idempotency key).
    ``max_concurrency`` caps the carrier calls in flight (none of these carriers publishes rate limits; they throttle
    bursts with 429).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    account_number: str = Field(min_length=1)
    test_mode: bool = False
    server_url: HttpUrl | None = None
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=3, ge=1, le=10)
    retry_backoff_seconds: float = Field(default=1.0, ge=0)
    max_concurrency: int = Field(default=4, ge=1, le=32)


class UpsSettings(KarrioCarrierSettings):
    """A UPS account: an OAuth app's ``client_id``/``client_secret`` (client-credentials grant) and the
    6-character shipper ``account_number`` billed for labels."""

    client_id: SecretStr
    client_secret: SecretStr


class FedexSettings(KarrioCarrierSettings):
    """A FedEx account: the project's API key/secret (OAuth client credentials) and the 9-digit account
    ``account_number``. FedEx issues separate Track API credentials; when ``track_api_key`` and
    ``track_secret_key`` are unset the shipping credentials are used for tracking too."""

    api_key: SecretStr
    secret_key: SecretStr
    track_api_key: SecretStr | None = None
    track_secret_key: SecretStr | None = None


class UspsSettings(KarrioCarrierSettings):
    """A USPS account (USPS APIs v3): the app's ``client_id``/``client_secret``, the Enterprise Payment System
    ``account_number`` paying for labels (``account_type``), and the ``crid``/``mid`` (Customer Registration ID,
    Mailer ID) the label-payment authorization names; ``manifest_mid`` when manifests use another MID."""

    client_id: SecretStr
    client_secret: SecretStr
    crid: str = Field(min_length=1)
    mid: str = Field(min_length=1)
    manifest_mid: str | None = None
    account_type: Literal["EPS", "PERMIT", "METER"] = "EPS"


class DhlExpressSettings(KarrioCarrierSettings):
    """A DHL Express account on the MyDHL API: the API ``username``/``password`` (HTTP Basic) DHL issues per
    application, and the shipper ``account_number`` billed for labels."""

    username: SecretStr
    password: SecretStr
