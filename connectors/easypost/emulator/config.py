"""Settings of the EasyPost emulator (credentials it accepts, carrier accounts, rate limits, fault knobs)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DEFAULT_ACCOUNTS", "EasyPostEmulatorConfig"]

DEFAULT_ACCOUNTS: dict[str, str] = {
    "ca_usps0000000000000000000000000001": "USPS",
    "ca_ups00000000000000000000000000002": "UPS",
    "ca_fedex000000000000000000000000003": "FedEx",
    "ca_dhlexpress0000000000000000000004": "DHLExpress",
}


@dataclass
class EasyPostEmulatorConfig:
    """How an :class:`~connectors.easypost.emulator.EasyPostEmulator` behaves.

    * ``api_key``: the only key accepted (``Bearer`` token, or HTTP Basic user with an empty password); anything
      else is 401.
    * ``webhook_secret`` / ``webhook_url``: the webhook subscription; Events are signed with
      ``X-Hmac-Signature``. With no URL, events are still built and kept (``EasyPostEmulator.events``).
    * ``carrier_accounts``: carrier account id -> EasyPost carrier name (USPS, UPS, FedEx, DHLExpress).
    * ``list_requests_per_second``: EasyPost's fixed limit on index (list) endpoints; a client over it gets 429.
      ``requests_per_second`` / ``burst`` model the load-based limit on every other endpoint (generous).
    * ``latency_ms``, ``error_rate``, ``seed``: :class:`omnibridge.sdk.emulator.EmulatorKnobs` (injected 503).
    """

    api_key: str = "EZTKemulator"
    webhook_secret: str = "emulator-webhook-secret"  # noqa: S105 - the emulator's public demo secret
    webhook_url: str | None = None
    carrier_accounts: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ACCOUNTS))
    list_requests_per_second: float = 5.0
    requests_per_second: float = 50.0
    burst: int = 50
    latency_ms: tuple[float, float] = (0.0, 0.0)
    error_rate: float = 0.0
    seed: int = 0
    user_id: str = "user_emulator00000000000000000000"

    def __post_init__(self) -> None:
        if self.list_requests_per_second <= 0 or self.requests_per_second <= 0:
            raise ValueError("requests per second must be > 0")
        if self.burst < 1:
            raise ValueError(f"burst must be >= 1, got {self.burst!r}")
        if not self.carrier_accounts:
            raise ValueError("carrier_accounts must name at least one account")
