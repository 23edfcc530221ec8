"""The Square connector's conformance harness: :class:`~connectors.square.client.SquareConnector` built by the
spec's factory, against :mod:`connectors.square.emulator` served on a local port.

Injected failures come from a :class:`~omnibridge.testing.checks_faults.FaultInjector` in front of the emulator
and carry Square's error bodies (``AUTHENTICATION_ERROR/UNAUTHORIZED``, ``RATE_LIMIT_ERROR/RATE_LIMITED`` without
``Retry-After``, ``API_ERROR/SERVICE_UNAVAILABLE``, ``INVALID_REQUEST_ERROR/BAD_REQUEST``). Writes, for lost
responses, are ``BatchChangeInventory`` and catalog upserts. ``tests/conformance/test_square.py`` runs the suite.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse, Response

from connectors.square import connector
from connectors.square.emulator import SquareEmulator, SquareEmulatorConfig
from connectors.square.emulator.events import signer
from connectors.square.mapper import map_count, map_location
from connectors.square.settings import SquareSettings
from omnibridge.sdk import RetryPolicy
from omnibridge.sdk.channel import ChannelLocation, StockLevel
from omnibridge.sdk.emulator import run_server
from omnibridge.testing import ConformanceHarness, ConformanceSession, EmulatorControl, MapperFixture, WebhookVector
from omnibridge.testing.checks_faults import FaultInjector

__all__ = ["SquareControl", "SquareHarness"]

TOKEN = "EAAA-conformance"  # noqa: S105 - the emulator's credential, not a real one
SIGNATURE_KEY = "conformance-signature-key"
NOTIFICATION_URL = "https://omnibridge.example/webhooks/square"
RETRIES = RetryPolicy(max_attempts=4, max_elapsed=10.0, initial_backoff=0.05, max_backoff=0.5)
_OBSERVED = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
_WRITES = frozenset({"/v2/inventory/changes/batch-create", "/v2/catalog/object", "/v2/catalog/batch-upsert"})
_ERRORS = {
    400: ("INVALID_REQUEST_ERROR", "BAD_REQUEST", "The request is not valid."),
    401: ("AUTHENTICATION_ERROR", "UNAUTHORIZED", "This request could not be authorized."),
    429: ("RATE_LIMIT_ERROR", "RATE_LIMITED", "Too many requests; back off."),
    500: ("API_ERROR", "INTERNAL_SERVER_ERROR", "Internal server error."),
    503: ("API_ERROR", "SERVICE_UNAVAILABLE", "Service unavailable."),
}


def _error_response(status: int) -> Response:
    category, code, detail = _ERRORS.get(status, ("API_ERROR", "INTERNAL_SERVER_ERROR", f"HTTP {status}."))
    return JSONResponse({"errors": [{"category": category, "code": code, "detail": detail}]}, status_code=status)


class SquareControl(EmulatorControl):
    """The back door into one emulated Square seller."""

    def __init__(self, emulator: SquareEmulator, faults: FaultInjector) -> None:
        self.emulator = emulator
        self.faults = faults

    def refused_requests(self) -> int:
        return self.emulator.calls["rate_limited"]

    def api_requests(self) -> int:
        return self.faults.api_requests

    def fail_next(self, status: int, *, count: int = 1) -> None:
        self.faults.fail_next(status, count=count)

    def lose_next_response(self, *, count: int = 1) -> None:
        self.faults.lose_next_response(count=count)

    def seed_stock(self, sku: str, location_ref: str, quantity: int) -> None:
        try:
            self.emulator.state.variation_for_sku(sku)
        except KeyError:
            self.emulator.add_variation(sku, f"Item {sku}", price_cents=1000)
        self.emulator.set_count(sku, location_ref, quantity)

    def shown_stock(self, sku: str, location_ref: str) -> int:
        return self.emulator.quantity(sku, location_ref)

    def place_order(self, sku: str, location_ref: str, quantity: int) -> str:
        return str(self.emulator.pos_sale(location_ref, [(sku, quantity)])["id"])

    def listing(self, sku: str) -> tuple[str | None, str | None]:
        return self.emulator.listing(sku)


class SquareHarness(ConformanceHarness):
    """Square with the emulator's rate limit (10 requests/s, bursts of 20) and the connector's defaults."""

    spec = connector
    rate_probe_requests = 30
    """Above the burst of 20 (one request per read once the SKU is resolved): the client must pace the rest."""

    @asynccontextmanager
    async def session(self) -> AsyncIterator[ConformanceSession]:
        emulator = SquareEmulator(SquareEmulatorConfig(access_token=TOKEN, signature_key=SIGNATURE_KEY))
        location = emulator.add_location("Downtown store")
        faults = FaultInjector(
            emulator.app,
            is_api=lambda path: path.startswith("/v2/"),
            is_write=lambda method, path, body: method == "POST" and path in _WRITES,
            error_response=_error_response,
        )
        try:
            async with run_server(faults) as server:
                settings = SquareSettings.model_validate(
                    {
                        "base_url": server.url,
                        "access_token": TOKEN,
                        "webhook_signature_key": SIGNATURE_KEY,
                        "webhook_notification_url": NOTIFICATION_URL,
                    }
                )
                assert connector.factory is not None
                client = connector.factory(settings)
                # SquareSettings has no retry knob: shorten the policy so failure checks take seconds.
                client.http.retry_policy = RETRIES
                try:
                    yield ConformanceSession(client, settings, SquareControl(emulator, faults), location_ref=location)
                finally:
                    await client.aclose()
        finally:
            await emulator.webhooks.aclose()

    def mapper_fixtures(self) -> Sequence[MapperFixture]:
        count = {
            "catalog_object_id": "W62UWFY35CWMYGVWK6TWJDNI",
            "catalog_object_type": "ITEM_VARIATION",
            "state": "IN_STOCK",
            "location_id": "L88917AVBK2S5",
            "quantity": "12",
            "calculated_at": "2026-11-23T18:00:00.000Z",
        }

        def parse_count(raw: Any) -> StockLevel | None:
            return map_count(raw, {"W62UWFY35CWMYGVWK6TWJDNI": "TENT-2P-GRN"}, _OBSERVED).value

        return (
            MapperFixture(
                "location",
                {"id": "L88917AVBK2S5", "name": "Downtown store", "status": "ACTIVE"},
                lambda raw: map_location(raw).value,
                ChannelLocation("L88917AVBK2S5", "Downtown store", True),
            ),
            MapperFixture(
                "IN_STOCK count", count, parse_count, StockLevel("TENT-2P-GRN", "L88917AVBK2S5", 12, _OBSERVED)
            ),
            MapperFixture("fractional count is skipped", {**count, "quantity": "1.5"}, parse_count, None),
        )

    def webhook_vectors(self) -> Sequence[WebhookVector]:
        event = {
            "merchant_id": "MLEMULATOR",
            "type": "inventory.count.updated",
            "event_id": "df5f3813-a913-45a1-94e9-fdc3f7d5e3b6",
            "created_at": "2026-11-23T18:00:00.000Z",
            "data": {"type": "inventory_counts", "id": "84a8e3b8-a5b5-4f43-8d8c-7ef2e47cbd31", "object": {}},
        }
        body = json.dumps(event, separators=(",", ":")).encode()
        headers = {"content-type": "application/json", **signer(SIGNATURE_KEY)(body, NOTIFICATION_URL)}
        return (
            WebhookVector(
                "inventory.count.updated",
                body,
                headers,
                url=NOTIFICATION_URL,
                signature_headers=("x-square-hmacsha256-signature",),
                expected_delivery_id="df5f3813-a913-45a1-94e9-fdc3f7d5e3b6",
            ),
            WebhookVector(
                "signed for another notification URL",
                body,
                {"content-type": "application/json", **signer(SIGNATURE_KEY)(body, NOTIFICATION_URL + "/other")},
                url=NOTIFICATION_URL,
                valid=False,
            ),
            WebhookVector(
                "signed with another key",
                body,
                {"content-type": "application/json", **signer("another-key")(body, NOTIFICATION_URL)},
                url=NOTIFICATION_URL,
                valid=False,
            ),
            WebhookVector("unsigned", body, {"content-type": "application/json"}, url=NOTIFICATION_URL, valid=False),
        )
