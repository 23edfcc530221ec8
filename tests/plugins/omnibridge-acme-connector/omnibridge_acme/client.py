"""ACME WMS API I/O on the SDK's shared HTTP client: auth, rate limit, paging. No mapping logic here."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import quote

import httpx

from omnibridge.sdk import (
    Clock,
    ConnectorHttpClient,
    FatalConnectorError,
    MapMessage,
    RetryPolicy,
    Sleeper,
    TokenBucket,
    collect,
    ratelimit_remaining_headers,
)
from omnibridge_acme.mapper import StockLevel, map_stock_row, stock_update_body
from omnibridge_acme.settings import AcmeSettings

CONNECTOR_ID = "acme-wms"


class AcmeClient:
    """Reads and writes stock levels of the configured warehouse.

    ``transport``, ``clock`` and ``sleep`` are for tests (an emulator transport, a fake clock).
    """

    def __init__(
        self,
        settings: AcmeSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_policy: RetryPolicy | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleeper = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self._base = f"/v1/warehouses/{quote(settings.warehouse_code, safe='')}"
        self.http = ConnectorHttpClient(
            CONNECTOR_ID,
            str(settings.base_url),
            auth_headers={"X-Api-Key": settings.api_key},
            rate_limiter=TokenBucket(
                settings.requests_per_second,
                settings.burst,
                observers=(ratelimit_remaining_headers,),
                clock=clock,
                sleep=sleep,
            ),
            retry_policy=retry_policy,
            idempotency_header="Idempotency-Key",
            transport=transport,
            clock=clock,
            sleep=sleep,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def fetch_stock(self) -> tuple[list[StockLevel], list[MapMessage]]:
        """Every stock row of the warehouse, following ``next_cursor``; bad rows come back as messages."""
        levels: list[StockLevel] = []
        messages: list[MapMessage] = []
        cursor: str | None = None
        while True:
            params = {"limit": "500"} | ({"cursor": cursor} if cursor else {})
            response = await self.http.get(f"{self._base}/stock", op="fetch_stock", params=params)
            page = self._json_object(response, "fetch_stock")
            rows = page.get("rows")
            if not isinstance(rows, list):
                raise FatalConnectorError("response has no 'rows' list", connector=CONNECTOR_ID, op="fetch_stock")
            values, notes = collect(map_stock_row(row, default_location=self.settings.warehouse_code) for row in rows)
            levels.extend(values)
            messages.extend(notes)
            next_cursor = page.get("next_cursor")
            if not isinstance(next_cursor, str) or not next_cursor:
                return levels, messages
            cursor = next_cursor

    async def set_stock(self, level: StockLevel) -> None:
        """Set an absolute on-hand count. A PUT of a count is idempotent, so the client may retry it."""
        await self.http.put(
            f"{self._base}/stock/{quote(level.sku, safe='')}", op="set_stock", json=stock_update_body(level)
        )

    async def adjust_stock(self, sku: str, location: str, delta: int, *, idempotency_key: str) -> None:
        """Apply a delta. ACME dedupes by ``Idempotency-Key``, which is what makes retrying this POST safe."""
        await self.http.post(
            f"{self._base}/adjustments",
            op="adjust_stock",
            json={"item_code": sku, "location": location, "delta": delta},
            idempotency_key=idempotency_key,
        )

    @staticmethod
    def _json_object(response: httpx.Response, op: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise FatalConnectorError("response is not a JSON object", connector=CONNECTOR_ID, op=op)
        return body
