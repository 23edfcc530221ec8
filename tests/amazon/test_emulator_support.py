"""Shared helpers for the Amazon emulator tests (no tests here): clocks, a seeded seller, a client, a receiver."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from support import ManualClock, ManualMonotonic, WebhookReceiver

from connectors.amazon.emulator import AmazonEmulator, AmazonEmulatorConfig
from omnibridge.sdk.emulator import RequestRecorder, WebhookKnobs

T = TypeVar("T")

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
SELLER = "A2SELLERTEST"
MARKETPLACE = "ATVPDKIKX0DER"
CLIENT_ID = "amzn1.application-oa2-client.test"
CLIENT_SECRET = "test-client-secret"
REFRESH_TOKEN = "Atzr|test-refresh"
FORWARDER_SECRET = "test-forwarder-secret"
HOOK_URL = "https://hooks.example.com/omnibridge/amazon"
SKU = "TENT-2P-GRN"
BASE = "https://sellingpartnerapi-na.amazon.test"


@dataclass
class Seller:
    """A seeded emulator (one listing, 10 in stock) with manual clocks and an access token."""

    emu: AmazonEmulator
    clock: ManualClock
    mono: ManualMonotonic
    receiver: WebhookReceiver
    token: str

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        """A client on the app; without ``token`` it carries a fresh live token (the manual clock may have
        moved past the seeded one's hour)."""
        if token is None:
            self.token = self.emu.control.issue_access_token()
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.emu.app),
            base_url=BASE,
            headers={"x-amz-access-token": self.token if token is None else token, "user-agent": "tests/1.0"},
        )

    def iso(self, seconds_from_now: float = 0.0) -> str:
        return (self.clock.now + timedelta(seconds=seconds_from_now)).isoformat().replace("+00:00", "Z")


def make_seller(
    *, notification_url: str | None = HOOK_URL, recorder: RequestRecorder | None = None, **overrides: Any
) -> Seller:
    clock, mono, receiver = ManualClock(START), ManualMonotonic(), WebhookReceiver()
    config = AmazonEmulatorConfig(
        seller_id=SELLER,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        refresh_token=REFRESH_TOKEN,
        forwarder_secret=FORWARDER_SECRET,
        notification_url=notification_url,
        **overrides,
    )
    emu = AmazonEmulator(
        config,
        clock=clock,
        monotonic=mono,
        webhook_transport=httpx.ASGITransport(app=receiver.app()),
        webhook_knobs=WebhookKnobs(retry_backoff_s=0.0),
        recorder=recorder or RequestRecorder("amazon", None),
    )
    emu.control.seed_listing(SKU, title="Trail tent", price="199.00", quantity=10)
    return Seller(emu, clock, mono, receiver, emu.control.issue_access_token())


def run(factory: Callable[[], Awaitable[T]]) -> T:
    """Run one async test body on a fresh event loop."""

    async def main() -> T:
        return await factory()

    return asyncio.run(main())


def listing_path(sku: str = SKU, seller: str = SELLER) -> str:
    return f"/listings/2021-08-01/items/{seller}/{sku}"


def patch_body(quantity: int, *, op: str = "replace") -> dict[str, Any]:
    return {
        "productType": "PRODUCT",
        "patches": [
            {
                "op": op,
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}],
            }
        ],
    }


def feed_message(message_id: int, sku: str, quantity: int) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "sku": sku,
        "operationType": "PATCH",
        "productType": "PRODUCT",
        "patches": [
            {
                "op": "replace",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}],
            }
        ],
    }
