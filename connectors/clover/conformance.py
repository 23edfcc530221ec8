"""The Clover connector's conformance harness: the real connector against its emulator served over HTTP.

``tests/conformance/test_clover.py`` turns it into a test class with
``omnibridge.testing.conformance_suite(CloverHarness)``.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta

from connectors.clover import connector as spec
from connectors.clover import mapper
from connectors.clover.emulator import CloverEmulator, CloverEmulatorConfig
from connectors.clover.settings import CloverSettings
from connectors.clover.webhooks import AUTH_HEADER
from omnibridge.sdk import from_minor_units
from omnibridge.sdk.channel import OrderEvent, OrderEventKind, OrderLineEvent, StockLevel
from omnibridge.sdk.emulator import run_server
from omnibridge.testing import (
    ConformanceHarness,
    ConformanceSession,
    EmulatorControl,
    MapperFixture,
    WebhookVector,
)

__all__ = ["CloverControl", "CloverHarness"]

MERCHANT_ID = "CONFMERCHANT1"
TOKEN = "clover-conformance-token"  # noqa: S105 - the emulator's test token
AUTH_CODE = "0307e264-b33a-4913-88aa-37b10014a0b8"
_AT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


class CloverControl(EmulatorControl):
    """The conformance back door onto a :class:`CloverEmulator` (one merchant = one location)."""

    def __init__(self, emu: CloverEmulator) -> None:
        self.emu = emu

    def _check(self, location_ref: str) -> None:
        if location_ref != self.emu.config.merchant_id:
            raise ValueError(f"Clover has one location, the merchant {self.emu.config.merchant_id}: {location_ref!r}")

    def refused_requests(self) -> int:
        return self.emu.refused

    def api_requests(self) -> int:
        return self.emu.api_requests

    def fail_next(self, status: int, *, count: int = 1) -> None:
        self.emu.fail_next(status, count)

    def lose_next_response(self, *, count: int = 1) -> None:
        self.emu.lose_next_response(count)

    def seed_stock(self, sku: str, location_ref: str, quantity: int) -> None:
        self._check(location_ref)
        self.emu.seed_stock(sku, quantity)

    def shown_stock(self, sku: str, location_ref: str) -> int:
        self._check(location_ref)
        return math.floor(self.emu.quantity(sku))

    def place_order(self, sku: str, location_ref: str, quantity: int) -> str:
        self._check(location_ref)
        return str(self.emu.pos_sale([(sku, quantity)])["id"])

    def listing(self, sku: str) -> tuple[str | None, str | None]:
        name, cents = self.emu.listing(sku)
        return name, str(from_minor_units(cents, self.emu.config.currency))


def _notification(object_id: str, ts: int) -> bytes:
    body = {"appId": "CONFAPP000001", "merchants": {MERCHANT_ID: [{"objectId": object_id, "type": "CREATE", "ts": ts}]}}
    return json.dumps(body, separators=(",", ":")).encode()


class CloverHarness(ConformanceHarness):
    """Starts a :class:`CloverEmulator` on a local port per session and builds the connector via ``spec.factory``."""

    spec = spec
    rate_probe_requests = 50

    def session(self) -> AbstractAsyncContextManager[ConformanceSession]:
        return self._session()

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[ConformanceSession]:
        emu = CloverEmulator(
            CloverEmulatorConfig(
                access_token=TOKEN, merchant_id=MERCHANT_ID, auth_code=AUTH_CODE, latency_ms=(1.0, 3.0)
            )
        )
        async with run_server(emu.app) as server:
            settings = CloverSettings(
                base_url=server.url,
                merchant_id=MERCHANT_ID,
                access_token=TOKEN,
                webhook_auth_code=AUTH_CODE,
                retry_attempts=4,
                retry_initial_backoff=0.05,
                order_lookback_minutes=60,
            )
            client = self.spec.factory(settings) if self.spec.factory is not None else None
            try:
                yield ConformanceSession(client, settings, CloverControl(emu), "CONF-SKU-1", MERCHANT_ID)
            finally:
                if client is not None:
                    await client.aclose()
                await emu.webhooks.aclose()

    def mapper_fixtures(self) -> Sequence[MapperFixture]:
        item = {"id": "3Z29BX6C013XC", "name": "Tent", "sku": "TENT-1", "price": 19900, "itemStock": {"quantity": 7.6}}
        order = {
            "id": "GHIVJT2ABCRSC",
            "currency": "USD",
            "total": 2500,
            "paymentState": "PAID",
            "state": "locked",
            "modifiedTime": 1772463600000,
            "lineItems": {"elements": [{"id": "LINE000000001", "item": {"id": "3Z29BX6C013XC"}, "price": 2500}]},
        }
        at = datetime.fromtimestamp(1772463600, tz=UTC)
        return (
            MapperFixture(
                "item with fractional stock (rounded down)",
                item,
                lambda raw: mapper.map_item_level(raw, MERCHANT_ID, _AT).value,
                StockLevel("TENT-1", MERCHANT_ID, 7, _AT),
            ),
            MapperFixture(
                "paid POS order",
                order,
                lambda raw: mapper.map_order(raw, MERCHANT_ID, {"3Z29BX6C013XC": "TENT-1"}).value,
                (
                    OrderEvent(
                        "GHIVJT2ABCRSC",
                        OrderEventKind.COMPLETED,
                        at,
                        (OrderLineEvent("LINE000000001", "TENT-1", 1, MERCHANT_ID, "2500"),),
                        currency="USD",
                        total="2500",
                        status="PAID",
                    ),
                    [],
                ),
            ),
        )

    def webhook_vectors(self) -> Sequence[WebhookVector]:
        ts = int((_AT - timedelta(seconds=1)).timestamp() * 1000)
        body = _notification("O:GHIVJT2ABCRSC", ts)
        return (
            WebhookVector(
                "order created",
                body,
                {"Content-Type": "application/json", AUTH_HEADER: AUTH_CODE},
                signature_headers=(AUTH_HEADER,),
                body_signed=False,  # X-Clover-Auth is a static code, not a signature over the body
            ),
            WebhookVector(
                "another app's auth code",
                body,
                {"Content-Type": "application/json", AUTH_HEADER: "not-the-auth-code"},
                valid=False,
                signature_headers=(AUTH_HEADER,),
            ),
            WebhookVector("verification POST", b'{"verificationCode":"ce7643c1-83ea-4218"}', {}, valid=False),
        )
