"""The Shopify connector's conformance harness: :class:`~connectors.shopify.client.ShopifyClient` built by the
spec's factory, against :mod:`connectors.shopify.emulator` served on a local port.

The emulator has no failure back door of its own, so the harness puts a
:class:`~omnibridge.testing.checks_faults.FaultInjector` in front of it, answering injected failures the way
Shopify does: 401 with ``[API] Invalid API key ...``, 5xx with ``{"errors": "..."}`` and a throttle (``429``) as
Shopify's GraphQL API throttles — HTTP 200 with a ``THROTTLED`` error and the bucket's ``throttleStatus``.
``tests/conformance/test_shopify.py`` runs the suite on it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse, Response

from connectors.shopify import connector
from connectors.shopify.emulator import ShopifyEmulator, ShopifyEmulatorConfig
from connectors.shopify.emulator.graphql_api import UNAUTHORIZED
from connectors.shopify.mapper import map_inventory_item, map_location
from connectors.shopify.settings import ShopifySettings
from connectors.shopify.webhooks import parse_inventory_level
from omnibridge.sdk import RetryPolicy, hmac_sha256_base64
from omnibridge.sdk.channel import ChannelLocation
from omnibridge.sdk.emulator import run_server
from omnibridge.testing import ConformanceHarness, ConformanceSession, EmulatorControl, MapperFixture, WebhookVector
from omnibridge.testing.checks_faults import FaultInjector

__all__ = ["ShopifyControl", "ShopifyHarness"]

TOKEN = "shpat_conformance"  # noqa: S105 - the emulator's credential, not a real one
SECRET = "conformance-webhook-secret"  # noqa: S105 - idem
RETRIES = RetryPolicy(max_attempts=4, max_elapsed=10.0, initial_backoff=0.05, max_backoff=0.5)
_OBSERVED = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)


def _error_response(status: int) -> Response:
    if status == 401:
        return JSONResponse({"errors": UNAUTHORIZED}, status_code=401)
    if status == 429:
        body = {
            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": {
                "cost": {
                    "requestedQueryCost": 50,
                    "actualQueryCost": None,
                    "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 20.0, "restoreRate": 100.0},
                }
            },
        }
        return JSONResponse(body, status_code=200)
    if status == 400:
        return JSONResponse({"errors": {"query": "Required parameter missing or invalid"}}, status_code=400)
    return JSONResponse({"errors": "Service Unavailable" if status == 503 else f"HTTP {status}"}, status_code=status)


def _is_mutation(method: str, path: str, body: bytes) -> bool:
    try:
        query = json.loads(body).get("query", "")
    except (ValueError, AttributeError):
        return False
    return isinstance(query, str) and query.lstrip().startswith("mutation")


class ShopifyControl(EmulatorControl):
    """The back door into one emulated shop."""

    def __init__(self, emulator: ShopifyEmulator, faults: FaultInjector) -> None:
        self.emulator = emulator
        self.faults = faults

    def refused_requests(self) -> int:
        return self.emulator.calls["throttled"]

    def api_requests(self) -> int:
        return self.faults.api_requests

    def fail_next(self, status: int, *, count: int = 1) -> None:
        self.faults.fail_next(status, count=count)

    def lose_next_response(self, *, count: int = 1) -> None:
        self.faults.lose_next_response(count=count)

    def seed_stock(self, sku: str, location_ref: str, quantity: int) -> None:
        if sku not in {variant.sku for variant in self.emulator.state.variants.values()}:
            self.emulator.add_product(sku, title=f"Product {sku}", price="10.00")
        self.emulator.set_available(sku, location_ref, quantity)

    def shown_stock(self, sku: str, location_ref: str) -> int:
        return self.emulator.available(sku, location_ref)

    def place_order(self, sku: str, location_ref: str, quantity: int) -> str:
        payload = self.emulator.place_order([(sku, quantity)], location_ref)
        return str(payload["admin_graphql_api_id"])

    def order_cancelled(self, order_ref: str) -> bool:
        return self.emulator.state.order(int(order_ref.rsplit("/", 1)[-1])).cancelled_at is not None

    def listing(self, sku: str) -> tuple[str | None, str | None]:
        return self.emulator.listing(sku)


class ShopifyHarness(ConformanceHarness):
    """Shopify at API version 2026-04 (compare-and-set with ``changeFromQuantity``, ``@idempotent`` writes)."""

    spec = connector
    rate_probe_requests = 60
    """About 40 points each: more than the emulator's 2,000-point bucket, so the client's cost bucket must pace."""

    @asynccontextmanager
    async def session(self) -> AsyncIterator[ConformanceSession]:
        emulator = ShopifyEmulator(
            ShopifyEmulatorConfig(access_token=TOKEN, api_secret=SECRET, bucket_size=1000.0, restore_rate=50.0)
        )
        location = emulator.add_location("Main warehouse")
        faults = FaultInjector(
            emulator.app,
            is_api=lambda path: path.startswith("/admin/api/"),
            is_write=_is_mutation,
            error_response=_error_response,
        )
        try:
            async with run_server(faults) as server:
                settings = ShopifySettings.model_validate(
                    {"shop_url": server.url, "access_token": TOKEN, "api_secret": SECRET, "api_version": "2026-04"}
                )
                assert connector.factory is not None
                client = connector.factory(settings)
                # ShopifySettings has no retry knob: shorten the policy so failure checks take seconds.
                client.http.retry_policy = RETRIES
                try:
                    yield ConformanceSession(client, settings, ShopifyControl(emulator, faults), location_ref=location)
                finally:
                    await client.aclose()
        finally:
            await emulator.aclose()

    def mapper_fixtures(self) -> Sequence[MapperFixture]:
        def levels(node: Any) -> list[tuple[str, str, int]] | None:
            item = map_inventory_item(node, _OBSERVED).value
            return None if item is None else [(lv.sku, lv.location_ref, lv.available) for lv in item.levels]

        item = {
            "id": "gid://shopify/InventoryItem/43729076",
            "sku": "TEE-BLK-M",
            "inventoryLevels": {
                "nodes": [
                    {
                        "location": {"id": "gid://shopify/Location/64224165939"},
                        "quantities": [{"name": "available", "quantity": 12}],
                    },
                    {"location": {"id": "gid://shopify/Location/64224198707"}, "quantities": []},
                ],
                "pageInfo": {"hasNextPage": False, "endCursor": "eyJsYXN0X2lkIjo2NDIyNDE5ODcwN30="},
            },
        }
        level_update = {
            "inventory_item_id": 43729076,
            "location_id": 64224198707,
            "available": 2,
            "updated_at": "2026-11-23T14:30:00-04:00",
        }
        return (
            MapperFixture(
                "location node",
                {"id": "gid://shopify/Location/64224165939", "name": "Main warehouse", "isActive": True},
                lambda node: map_location(node).value,
                ChannelLocation("gid://shopify/Location/64224165939", "Main warehouse", True),
            ),
            MapperFixture(
                "inventory item (a level without available is skipped)",
                item,
                levels,
                [("TEE-BLK-M", "gid://shopify/Location/64224165939", 12)],
            ),
            MapperFixture(
                "inventory_levels/update webhook",
                level_update,
                lambda body: (lambda v: None if v is None else (v.item_id, v.location_id, v.available))(
                    parse_inventory_level(body).value
                ),
                ("gid://shopify/InventoryItem/43729076", "gid://shopify/Location/64224198707", 2),
            ),
        )

    def webhook_vectors(self) -> Sequence[WebhookVector]:
        body = b'{"inventory_item_id":43729076,"location_id":64224198707,"available":2}'
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": "inventory_levels/update",
            "X-Shopify-Shop-Domain": "demo-outfitters.myshopify.com",
            "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
            "X-Shopify-Event-Id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
            "X-Shopify-Hmac-Sha256": hmac_sha256_base64(SECRET, body),
        }
        return (
            WebhookVector(
                "inventory_levels/update",
                body,
                headers,
                signature_headers=("X-Shopify-Hmac-Sha256",),
                expected_delivery_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
            ),
            WebhookVector(
                "signed with another secret",
                body,
                {**headers, "X-Shopify-Hmac-Sha256": hmac_sha256_base64("another-secret", body)},
                valid=False,
            ),
            WebhookVector("unsigned", body, {k: v for k, v in headers.items() if "Hmac" not in k}, valid=False),
            WebhookVector(
                "signed but without X-Shopify-Webhook-Id",
                body,
                {k: v for k, v in headers.items() if k != "X-Shopify-Webhook-Id"},
                valid=False,
            ),
        )
