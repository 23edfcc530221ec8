"""Settings of the Square emulator (credentials it accepts, rate limit, fault knobs)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SquareEmulatorConfig"]


@dataclass
class SquareEmulatorConfig:
    """How a :class:`~connectors.square.emulator.SquareEmulator` behaves.

    * ``access_token``: the only bearer token accepted; anything else is 401 ``UNAUTHORIZED``.
    * ``signature_key`` / ``notification_url``: the webhook subscription. Deliveries are signed over
      ``notification_url + raw body`` and POSTed there; with no URL, events are still built and kept
      (see ``SquareEmulator.events``) but not sent.
    * ``requests_per_second`` / ``burst``: a token bucket per access token. Square publishes no numbers, so
      these are free settings; over the bucket a request gets 429 ``RATE_LIMITED`` (without Retry-After).
    * ``latency_ms``, ``error_rate``, ``seed``: :class:`omnibridge.sdk.emulator.EmulatorKnobs` (injected 503
      ``SERVICE_UNAVAILABLE``).
    * ``reject_unknown_fields``: answer a body field the OpenAPI schema does not declare with 400
      ``UNKNOWN_BODY_PARAMETER`` (catches misspelt fields in a client).
    * ``environment``: value of the ``square-environment`` webhook header (``Production`` or ``Sandbox``).
    """

    access_token: str = "EAAA-emulator"  # noqa: S105 - the emulator's public demo token
    signature_key: str = "emulator-signature-key"
    notification_url: str | None = None
    requests_per_second: float = 10.0
    burst: int = 20
    latency_ms: tuple[float, float] = (0.0, 0.0)
    error_rate: float = 0.0
    seed: int = 0
    merchant_id: str = "MLEMULATOR"
    reject_unknown_fields: bool = True
    environment: str = "Sandbox"

    def __post_init__(self) -> None:
        if self.requests_per_second <= 0:
            raise ValueError(f"requests_per_second must be > 0, got {self.requests_per_second!r}")
        if self.burst < 1:
            raise ValueError(f"burst must be >= 1, got {self.burst!r}")
