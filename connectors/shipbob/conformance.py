"""The ShipBob connector's conformance harness: :class:`~connectors.shipbob.client.ShipBobConnector` built by the
spec's factory, against :mod:`connectors.shipbob.emulator` served on a local port.

Injected failures are the emulator's own (``fail_next``: ShipBob's bodies, a 429 with ``x-retry-after``;
``lose_next_response``: the order is created, then the answer is a 503). The write probe is
``submit_fulfilment``: a lost answer is retried, ShipBob refuses the repeated ``reference_id`` with 422 and the
connector reads the order back. ``tests/conformance/test_shipbob.py`` runs the suite.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from connectors.shipbob import connector, mapper
from connectors.shipbob.emulator import ShipBobEmulator, ShipBobEmulatorConfig
from connectors.shipbob.settings import ShipBobSettings
from connectors.shipbob.webhooks import signature_headers
from omnibridge.sdk.channel import FulfilmentEvent, FulfilmentLineEvent, ShipTo, StockLevel
from omnibridge.sdk.emulator import run_server
from omnibridge.sdk.fulfilment import FulfilmentLine, FulfilmentRequest
from omnibridge.testing import ConformanceHarness, ConformanceSession, EmulatorControl, MapperFixture, WebhookVector

__all__ = ["ShipBobControl", "ShipBobHarness"]

CENTRE = 6
_OBSERVED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
_SHIP_TO = ShipTo("US", "Ada Buyer", "1 Main St", None, "Chicago", "IL", "60601")

SHIPMENT = {
    "id": 500123,
    "order_id": 100123,
    "reference_id": "submit:a-1",
    "status": "Completed",
    "actual_fulfillment_date": "2026-12-01T12:00:00+00:00",
    "location": {"id": CENTRE, "name": "Cicero (IL)"},
    "tracking": {"carrier": "USPS", "tracking_number": "9400111", "tracking_url": "https://t.example/9400111"},
    "products": [
        {"id": 3001, "reference_id": "CONF-SKU-1", "sku": "CONF-SKU-1", "inventory_items": [{"id": 1, "quantity": 2}]}
    ],
}
ORDER = {
    "id": 100123,
    "reference_id": "submit:a-1",
    "status": "Fulfilled",
    "tags": [{"name": f"{mapper.LINE_TAG_PREFIX}1", "value": "shopify:1001:L1"}],
    "products": [{"id": 3001, "reference_id": "CONF-SKU-1", "quantity": 2, "external_line_id": 1}],
    "shipments": [SHIPMENT],
}


class ShipBobControl(EmulatorControl):
    """The back door into one emulated ShipBob account."""

    def __init__(self, emulator: ShipBobEmulator) -> None:
        self.emulator = emulator

    def refused_requests(self) -> int:
        return self.emulator.refused

    def api_requests(self) -> int:
        return self.emulator.answered

    def fail_next(self, status: int, *, count: int = 1) -> None:
        self.emulator.fail_next(status, count)

    def lose_next_response(self, *, count: int = 1) -> None:
        self.emulator.lose_next_response(count)

    def seed_stock(self, sku: str, location_ref: str, quantity: int) -> None:
        self.emulator.set_stock(sku, int(location_ref), quantity)

    def shown_stock(self, sku: str, location_ref: str) -> int:
        return self.emulator.state.fulfillable(sku, int(location_ref))

    def sample_fulfilment(self, reference: str) -> FulfilmentRequest:
        self.emulator.set_stock("CONF-SKU-1", CENTRE, 10)
        line = FulfilmentLine("conformance:line-1", "CONF-SKU-1", 2, "Conformance item")
        return FulfilmentRequest(reference, "#CONF-1", str(CENTRE), (line,), _SHIP_TO, _OBSERVED)

    def fulfilments_held(self, reference: str) -> int:
        return sum(1 for order in self.emulator.state.orders.values() if order["reference_id"] == reference)


class ShipBobHarness(ConformanceHarness):
    spec = connector

    @asynccontextmanager
    async def session(self) -> AsyncIterator[ConformanceSession]:
        emulator = ShipBobEmulator(ShipBobEmulatorConfig())
        async with run_server(emulator.app) as server:
            settings = ShipBobSettings(
                base_url=server.url,
                personal_access_token=emulator.config.token,
                shipbob_channel_id=emulator.config.channel_id,
                webhook_secret=emulator.config.webhook_secret,
                max_attempts=4,
                initial_backoff_seconds=0.05,
            )
            client = connector.factory(settings) if connector.factory else None
            try:
                yield ConformanceSession(
                    connector=client,
                    settings=settings,
                    control=ShipBobControl(emulator),
                    sku="CONF-SKU-1",
                    location_ref=str(CENTRE),
                )
            finally:
                if client is not None:
                    await client.aclose()

    def mapper_fixtures(self) -> Sequence[MapperFixture]:
        product = {
            "id": 3001,
            "reference_id": "CONF-SKU-1",
            "fulfillable_quantity_by_fulfillment_center": [
                {
                    "id": CENTRE,
                    "name": "Cicero",
                    "onhand_quantity": 9,
                    "committed_quantity": 2,
                    "fulfillable_quantity": 7,
                }
            ],
        }
        shipped = FulfilmentEvent(
            "500123",
            "submit:a-1",
            datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
            (FulfilmentLineEvent("shopify:1001:L1", "CONF-SKU-1", 2),),
            str(CENTRE),
            "9400111",
            "USPS",
        )
        return (
            MapperFixture(
                "product fulfillable per centre",
                product,
                lambda p: mapper.levels_from_product(p, _OBSERVED),
                [StockLevel("CONF-SKU-1", str(CENTRE), 7, _OBSERVED)],
            ),
            MapperFixture("order with a shipped shipment", ORDER, lambda o: mapper.order_events(o)[0], [shipped]),
        )

    def webhook_vectors(self) -> Sequence[WebhookVector]:
        secret = ShipBobEmulatorConfig().webhook_secret
        body = json.dumps(SHIPMENT, separators=(",", ":")).encode()
        # The timestamp is checked against now (5 minutes' tolerance), so vectors are signed when asked for.
        stamp = int(datetime.now(UTC).timestamp())
        headers = signature_headers(secret, "msg_conformance1", stamp, body, "order_shipped")
        stale = signature_headers(secret, "msg_conformance2", stamp - 3600, body, "order_shipped")
        wrong = signature_headers("whsec_" + "d3Jvbmctc2VjcmV0", "msg_conformance3", stamp, body, "order_shipped")
        names = ("webhook-signature", "webhook-id", "webhook-timestamp")
        return (
            WebhookVector(
                "order_shipped", body, headers, signature_headers=names, expected_delivery_id="msg_conformance1"
            ),
            WebhookVector("an hour old (replayed)", body, stale, valid=False),
            WebhookVector("signed with another secret", body, wrong, valid=False),
        )
