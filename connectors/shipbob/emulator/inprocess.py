"""Wire the real connector to an emulator in the same process (no port): for tests and the demo."""

from __future__ import annotations

from typing import Any

import httpx

from connectors.shipbob.client import ShipBobConnector
from connectors.shipbob.emulator.app import ShipBobEmulator
from connectors.shipbob.settings import ShipBobSettings
from omnibridge.sdk import Clock, RetryPolicy, Sleeper

__all__ = ["connect", "settings_for"]


async def _no_sleep(seconds: float) -> None:
    """Retries and pacing without waiting."""


def settings_for(emu: ShipBobEmulator, **settings: Any) -> ShipBobSettings:
    """Settings pointing at ``emu`` with its token, channel and webhook secret (``settings`` overrides any)."""
    values: dict[str, Any] = {
        "base_url": "http://shipbob.emulator",
        "personal_access_token": emu.config.token,
        "shipbob_channel_id": emu.config.channel_id,
        "webhook_secret": emu.config.webhook_secret,
        "max_attempts": 3,
        "initial_backoff_seconds": 0.0,
    }
    values.update(settings)
    return ShipBobSettings.model_validate(values)


def connect(
    emu: ShipBobEmulator, *, sleep: Sleeper = _no_sleep, clock: Clock | None = None, **settings: Any
) -> ShipBobConnector:
    """A :class:`ShipBobConnector` talking to ``emu.app`` through an ASGI transport, with fast retries."""
    parsed = settings_for(emu, **settings)
    policy = RetryPolicy(max_attempts=parsed.max_attempts, initial_backoff=parsed.initial_backoff_seconds, jitter=0.0)
    extra: dict[str, Any] = {} if clock is None else {"clock": clock}
    return ShipBobConnector(
        parsed, transport=httpx.ASGITransport(app=emu.app), retry_policy=policy, sleep=sleep, now=emu.clock, **extra
    )
