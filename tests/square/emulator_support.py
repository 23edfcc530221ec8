"""Helpers for the Square emulator tests: a settable clock, a seeded emulator, a client and a webhook receiver."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from support import ManualClock, ManualMonotonic, WebhookReceiver

from connectors.square.emulator import SquareEmulator, SquareEmulatorConfig
from omnibridge.sdk.emulator import WebhookKnobs

T = TypeVar("T")

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
TOKEN = "EAAA-test-token"
SIGNATURE_KEY = "test-signature-key"
HOOK_URL = "https://hooks.example.com/omnibridge/square?profile=shop-1"
SKU = "TENT-2P-GRN"


@dataclass
class Shop:
    """A seeded emulator: one location, one variation with 10 in stock (counted an hour ago)."""

    emu: SquareEmulator
    clock: ManualClock
    mono: ManualMonotonic
    receiver: WebhookReceiver
    location_id: str
    variation_id: str

    def client(self, token: str = TOKEN) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.emu.app),
            base_url="https://connect.squareup.test",
            headers={"Authorization": f"Bearer {token}", "Square-Version": "2025-08-20"},
        )

    def iso(self, seconds_from_now: float = 0.0) -> str:
        return (self.clock.now + timedelta(seconds=seconds_from_now)).isoformat().replace("+00:00", "Z")


def make_shop(*, notification_url: str | None = HOOK_URL, **overrides: Any) -> Shop:
    clock, mono, receiver = ManualClock(START), ManualMonotonic(), WebhookReceiver()
    config = SquareEmulatorConfig(
        access_token=TOKEN, signature_key=SIGNATURE_KEY, notification_url=notification_url, **overrides
    )
    emu = SquareEmulator(
        config,
        clock=clock,
        monotonic=mono,
        webhook_transport=httpx.ASGITransport(app=receiver.app()),
        webhook_knobs=WebhookKnobs(retry_backoff_s=0.0),
    )
    location_id = emu.add_location("Downtown store")
    variation_id = emu.add_variation(sku=SKU, name="Trail tent", price_cents=19900, currency="USD")
    emu.set_count(SKU, location_id, 10)
    clock.advance(3600)  # the seeded count is an hour old: changes in the last hour come after it
    return Shop(emu, clock, mono, receiver, location_id, variation_id)


def run(factory: Callable[[], Awaitable[T]]) -> T:
    """Run one async test body on a fresh event loop."""

    async def main() -> T:
        return await factory()

    return asyncio.run(main())


def physical_count(shop: Shop, quantity: str, seconds_from_now: float = 0.0, **extra: Any) -> dict[str, Any]:
    body = {
        "catalog_object_id": shop.variation_id,
        "location_id": shop.location_id,
        "state": "IN_STOCK",
        "quantity": quantity,
        "occurred_at": shop.iso(seconds_from_now),
    }
    return {"type": "PHYSICAL_COUNT", "physical_count": body | extra}


def adjustment(
    shop: Shop, quantity: str, seconds_from_now: float = 0.0, from_state: str = "IN_STOCK", to_state: str = "SOLD"
) -> dict[str, Any]:
    body = {
        "catalog_object_id": shop.variation_id,
        "location_id": shop.location_id,
        "from_state": from_state,
        "to_state": to_state,
        "quantity": quantity,
        "occurred_at": shop.iso(seconds_from_now),
    }
    return {"type": "ADJUSTMENT", "adjustment": body}
