"""The ``acme-wms`` section of a merchant profile."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr


class AcmeSettings(BaseModel):
    """Connection to one ACME warehouse. ``api_key`` is a ``SecretStr`` so it never reaches output."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: HttpUrl
    api_key: SecretStr
    warehouse_code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Z0-9_-]+$")
    requests_per_second: float = Field(default=5.0, gt=0)
    burst: int = Field(default=10, ge=1)
