"""Shared helpers of the Clover tests: fake clocks, an emulated merchant and a connector wired to it in process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connectors.clover.client import CloverConnector
from connectors.clover.emulator import CloverEmulator, CloverEmulatorConfig
from connectors.clover.settings import CloverSettings
from omnibridge.sdk import RetryPolicy
from omnibridge.sdk.emulator import WebhookKnobs

MERCHANT = "TESTMERCHANT1"
TOKEN = "clover-test-token"
AUTH_CODE = "0307e264-b33a-4913-88aa-37b10014a0b8"
HOOK_URL = "https://hooks.example.com/webhooks/clover"
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


class FakeSleep:
    """Records requested sleeps instead of sleeping and moves its monotonic ``clock`` on by them."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.now += seconds


class WallClock:
    """Aware UTC wall clock that only moves when told (shared by emulator and connector)."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class World:
    """One emulated Clover merchant, a webhook sink and a connector talking to the emulator over ASGI."""

    def __init__(self, **config: Any) -> None:
        self.wall = WallClock()
        self.sleep = FakeSleep()
        self.received: list[tuple[dict[str, str], bytes]] = []

        def receive(request: httpx.Request) -> httpx.Response:
            self.received.append((dict(request.headers), request.content))
            return httpx.Response(200)

        values: dict[str, Any] = {
            "access_token": TOKEN,
            "merchant_id": MERCHANT,
            "auth_code": AUTH_CODE,
            "notification_url": HOOK_URL,
        } | config
        self.emu = CloverEmulator(
            CloverEmulatorConfig(**values),
            self.wall,
            monotonic=self.sleep.clock,
            webhook_transport=httpx.MockTransport(receive),
            webhook_knobs=WebhookKnobs(retry_backoff_s=0.0),
        )

    def settings(self, **overrides: Any) -> CloverSettings:
        values: dict[str, Any] = {
            "base_url": "https://api.clover.test",
            "merchant_id": MERCHANT,
            "access_token": TOKEN,
            "webhook_auth_code": AUTH_CODE,
            "poll_overlap_seconds": 60,
            "order_lookback_minutes": 60,
        } | overrides
        return CloverSettings(**values)

    def connector(self, **overrides: Any) -> CloverConnector:
        return CloverConnector(
            self.settings(**overrides),
            transport=httpx.ASGITransport(app=self.emu.app),
            retry_policy=RetryPolicy(max_attempts=4, initial_backoff=0.5, jitter=0.0),
            clock=self.sleep.clock,
            sleep=self.sleep,
            now=self.wall,
        )

    def http(self, token: str = TOKEN, **headers: str) -> httpx.AsyncClient:
        """A raw client on the emulator's API (for emulator tests)."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.emu.app),
            base_url=f"https://api.clover.test/v3/merchants/{MERCHANT}",
            headers={"Authorization": f"Bearer {token}", "User-Agent": "tests/1.0", **headers},
        )
