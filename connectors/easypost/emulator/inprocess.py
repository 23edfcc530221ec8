"""Wire the real connector to an emulator in the same process (no port): for tests and the demo."""

from __future__ import annotations

from typing import Any

import httpx

from connectors.easypost.client import EasyPostConnector
from connectors.easypost.emulator.app import EasyPostEmulator
from connectors.easypost.settings import EasyPostSettings
from connectors.easypost.webhooks import SIGNATURE_HEADER, sign
from omnibridge.sdk import RetryPolicy, Sleeper

__all__ = ["connect", "signed_deliveries"]


async def _no_sleep(seconds: float) -> None:
    """Retries and pacing without waiting."""


def connect(emu: EasyPostEmulator, *, sleep: Sleeper = _no_sleep, **settings: Any) -> EasyPostConnector:
    """An :class:`EasyPostConnector` talking to ``emu.app`` through an ASGI transport, with the emulator's key and
    webhook secret, a generous pace and fast retries (``settings`` overrides any :class:`EasyPostSettings` field)."""
    values: dict[str, Any] = {
        "base_url": "http://easypost.emulator/v2",
        "api_key": emu.config.api_key,
        "webhook_secret": emu.config.webhook_secret,
        "requests_per_second": 1000.0,
        "burst": 1000,
        "max_attempts": 3,
        "initial_backoff_seconds": 0.0,
    }
    values.update(settings)
    parsed = EasyPostSettings.model_validate(values)
    policy = RetryPolicy(max_attempts=parsed.max_attempts, initial_backoff=parsed.initial_backoff_seconds, jitter=0.0)
    return EasyPostConnector(parsed, transport=httpx.ASGITransport(app=emu.app), retry_policy=policy, sleep=sleep)


def signed_deliveries(emu: EasyPostEmulator) -> list[tuple[dict[str, str], bytes]]:
    """Every webhook the emulator built, as ``(headers, raw body)`` signed the way EasyPost signs them (whether
    or not a webhook URL is configured): feed them to ``verify_webhook`` / ``ShippingService.receive_webhook``."""
    return [
        ({**record.headers, SIGNATURE_HEADER: sign(emu.config.webhook_secret, record.body)}, record.body)
        for record in emu.webhooks.deliveries
        if not record.duplicate
    ]
