"""Settings of the Clover emulator (credentials it accepts, Clover's rate limits, webhook target, fault knobs)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CloverEmulatorConfig"]


@dataclass
class CloverEmulatorConfig:
    """How a :class:`~connectors.clover.emulator.CloverEmulator` behaves.

    * ``access_token``: the only bearer token accepted; anything else is 401 (as Clover, also for a token that
      lacks a permission). ``merchant_id``: the one merchant served; another ``mId`` in a path is 401 too.
    * ``auth_code``: the "Clover Auth Code" sent in ``X-Clover-Auth`` with every notification;
      ``notification_url``: where notifications are POSTed (none: built and kept, not sent); ``app_id``.
    * ``requests_per_second`` / ``concurrent_limit``: Clover's per-token limits (16/s as a token bucket that
      holds one second of requests; 5 in flight). Over either: 429 naming the limit in
      ``X-RateLimit-tokenLimit`` / ``X-RateLimit-tokenConcurrentLimit`` (concurrency 429s add ``retry-after``).
    * ``require_user_agent``: a request without ``User-Agent`` is 400 (required since April 2026).
    * ``latency_ms``, ``error_rate``, ``seed``: :class:`omnibridge.sdk.emulator.EmulatorKnobs`.
    """

    access_token: str = "clover-emulator-token"  # noqa: S105 - the emulator's public demo token
    merchant_id: str = "EMUMERCHANT01"
    merchant_name: str = "omnibridge Clover emulator"
    app_id: str = "EMUAPP0000001"
    auth_code: str = "clover-emulator-auth-code"
    notification_url: str | None = None
    currency: str = "USD"
    requests_per_second: float = 16.0
    concurrent_limit: int = 5
    require_user_agent: bool = True
    latency_ms: tuple[float, float] = (0.0, 0.0)
    error_rate: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.requests_per_second <= 0:
            raise ValueError(f"requests_per_second must be > 0, got {self.requests_per_second!r}")
        if self.concurrent_limit < 1:
            raise ValueError(f"concurrent_limit must be >= 1, got {self.concurrent_limit!r}")
