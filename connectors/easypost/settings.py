"""The ``easypost`` section of a merchant profile."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, field_validator

DEFAULT_BASE_URL = "https://api.easypost.com/v2"


class EasyPostSettings(BaseModel):
    """Connection to one EasyPost account.

    ``api_key`` (test keys start ``EZTK``, production ``EZAK``) and ``webhook_secret`` are ``SecretStr`` so they
    never reach output. ``carrier_accounts`` restricts rating to those EasyPost carrier account ids (``ca_…``;
    empty: every account of the user). ``base_url`` includes the ``/v2`` prefix. ``requests_per_second`` /
    ``burst`` pace every request (EasyPost allows 5 req/s on list endpoints and a load-based limit elsewhere).
    ``max_attempts`` and ``initial_backoff_seconds`` shape retries of 429/5xx/timeouts.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: HttpUrl = HttpUrl(DEFAULT_BASE_URL)
    api_key: SecretStr
    webhook_secret: SecretStr | None = None
    carrier_accounts: list[str] = Field(default_factory=list)
    requests_per_second: float = Field(default=5.0, gt=0)
    burst: int = Field(default=5, ge=1)
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    initial_backoff_seconds: float = Field(default=0.5, ge=0)

    @field_validator("api_key")
    @classmethod
    def _non_blank_key(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("api_key must not be blank (EasyPost keys start with EZTK or EZAK)")
        return value

    @field_validator("carrier_accounts")
    @classmethod
    def _account_ids(cls, value: list[str]) -> list[str]:
        bad = [item for item in value if not item.startswith("ca_")]
        if bad:
            raise ValueError(f"carrier_accounts must be EasyPost carrier account ids (ca_...), got {bad!r}")
        return value
