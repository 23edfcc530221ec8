"""The ``acme-wms`` section of a merchant profile."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr

from omnibridge.sdk import RetryPolicy


class AcmeSettings(BaseModel):
    """Connection to one ACME warehouse. ``api_key`` is a ``SecretStr`` so it never reaches output.

    ``write_mode`` picks how stock is written: ``set`` (the default) PUTs the absolute count, which is idempotent;
    ``adjust`` POSTs the difference from the count the engine last read (``StockTarget.expected``) as an
    adjustment, so concurrent warehouse movements are kept; adjustments carry an ``Idempotency-Key`` derived from
    the push reference, which is what makes retrying them safe. ``retry_attempts`` and
    ``retry_initial_backoff_seconds`` shape the retry policy of transient failures. ``requests_per_second`` and
    ``burst`` are the client's own limit: keep ``burst`` below the account's ``X-RateLimit-Limit`` (requests in
    flight are counted by ACME only when they arrive).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: HttpUrl
    api_key: SecretStr
    warehouse_code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Z0-9_-]+$")
    requests_per_second: float = Field(default=5.0, gt=0)
    burst: int = Field(default=10, ge=1)
    write_mode: Literal["set", "adjust"] = "set"
    retry_attempts: int = Field(default=5, ge=1, le=10)
    retry_initial_backoff_seconds: float = Field(default=0.5, gt=0, le=60)

    def retry_policy(self) -> RetryPolicy:
        """The client's retry policy from these settings."""
        return RetryPolicy(
            max_attempts=self.retry_attempts,
            initial_backoff=self.retry_initial_backoff_seconds,
            max_backoff=max(30.0, self.retry_initial_backoff_seconds),
        )
