"""ACME WMS API I/O on the SDK's shared HTTP client, behind the channel contract. No mapping logic here.

ACME knows stock only: the connector reads counts per location, sets them (``PUT``, absolute) or adjusts them
(``POST`` with an ``Idempotency-Key``), and has no orders and no webhooks — so ``pull_events`` returns no events
and ``verify_webhook`` refuses every delivery.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from omnibridge.sdk import (
    Clock,
    ConnectorError,
    ConnectorHttpClient,
    FatalConnectorError,
    MapMessage,
    RateLimitObservation,
    RetryPolicy,
    Sleeper,
    TokenBucket,
    WebhookDelivery,
    WebhookError,
    collect,
    get_logger,
    ratelimit_remaining_headers,
)
from omnibridge.sdk.channel import (
    ChannelEvent,
    ChannelLocation,
    PullResult,
    PushResult,
    PushStatus,
    StockLevel,
    StockTarget,
    unique_skus,
    unsettled,
)
from omnibridge.sdk.idempotency import derived_key
from omnibridge_acme import mapper
from omnibridge_acme.settings import AcmeSettings

CONNECTOR_ID = "acme-wms"
# Per-target answers read by push_levels instead of raising: they concern that one target only.
_TARGET_ERRORS = frozenset({400, 404, 422})


def _utcnow() -> datetime:
    return datetime.now(UTC)


class _RemainingBoundedBucket(TokenBucket):
    """A token bucket that ACME's rate-limit headers may lower but never raise.

    A response's ``X-RateLimit-Remaining`` was counted before the requests still in flight reached ACME, and
    ACME's own bucket stops refilling at its limit while they travel: adopting the header's level (or its
    ``X-RateLimit-Limit`` as capacity) would let a concurrent burst through that ACME refuses with 429. So the
    configured ``burst`` stays the ceiling (keep it below ACME's limit) and a reported level only lowers ours.
    """

    def apply(self, observation: RateLimitObservation) -> None:
        capacity, before = self.capacity, self.available
        super().apply(observation)
        self.capacity = min(self.capacity, capacity)
        self.available = min(self.available, before, self.capacity)


class AcmeClient:
    """A :class:`~omnibridge.sdk.channel.ChannelConnector` for the stock of one ACME warehouse.

    ``transport``, ``retry_policy`` (default: from the settings), ``clock``/``sleep`` and ``now`` are for tests.
    """

    def __init__(
        self,
        settings: AcmeSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_policy: RetryPolicy | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleeper = asyncio.sleep,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.settings = settings
        self._now = now
        self._log = get_logger("omnibridge_acme")
        self._base = f"/v1/warehouses/{quote(settings.warehouse_code, safe='')}"
        self.http = ConnectorHttpClient(
            CONNECTOR_ID,
            str(settings.base_url),
            auth_headers={"X-Api-Key": settings.api_key},
            rate_limiter=_RemainingBoundedBucket(
                settings.requests_per_second,
                settings.burst,
                observers=(ratelimit_remaining_headers,),
                clock=clock,
                sleep=sleep,
            ),
            retry_policy=retry_policy if retry_policy is not None else settings.retry_policy(),
            idempotency_header="Idempotency-Key",
            transport=transport,
            clock=clock,
            sleep=sleep,
        )

    async def aclose(self) -> None:
        """Release connections."""
        await self.http.aclose()

    # -- raw API -----------------------------------------------------------------------------------------------

    async def fetch_stock(self, skus: Sequence[str] = ()) -> tuple[list[mapper.StockLevel], list[MapMessage]]:
        """Stock rows of the warehouse (only ``skus`` when given), following ``next_cursor``; bad rows come back
        as messages."""
        levels: list[mapper.StockLevel] = []
        messages: list[MapMessage] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": "500"} | ({"cursor": cursor} if cursor else {})
            if skus:
                params["item_code"] = list(skus)
            response = await self.http.get(f"{self._base}/stock", op="fetch_stock", params=params)
            page = self._json_object(response, "fetch_stock")
            rows = page.get("rows")
            if not isinstance(rows, list):
                raise FatalConnectorError("response has no 'rows' list", connector=CONNECTOR_ID, op="fetch_stock")
            values, notes = collect(
                mapper.map_stock_row(row, default_location=self.settings.warehouse_code) for row in rows
            )
            levels.extend(values)
            messages.extend(notes)
            next_cursor = page.get("next_cursor")
            if not isinstance(next_cursor, str) or not next_cursor:
                return levels, messages
            cursor = next_cursor

    async def set_stock(self, level: mapper.StockLevel) -> httpx.Response:
        """Set an absolute on-hand count. A PUT of a count is idempotent, so the client may retry it. Returns the
        response (a 400/404/422 about this item is returned, not raised)."""
        return await self.http.put(
            f"{self._base}/stock/{quote(level.sku, safe='')}",
            op="set_stock",
            json=mapper.stock_update_body(level),
            expected_statuses=_TARGET_ERRORS,
        )

    async def adjust_stock(self, sku: str, location: str, delta: int, *, idempotency_key: str) -> httpx.Response:
        """Apply a delta. ACME dedupes by ``Idempotency-Key``, which is what makes retrying this POST safe.
        Returns the response (a 400/404/422 about this item is returned, not raised)."""
        return await self.http.post(
            f"{self._base}/adjustments",
            op="adjust_stock",
            json=mapper.adjustment_body(sku, location, delta),
            idempotency_key=idempotency_key,
            expected_statuses=_TARGET_ERRORS,
        )

    # -- channel contract --------------------------------------------------------------------------------------

    async def list_locations(self) -> list[ChannelLocation]:
        """The warehouse's locations (``GET .../locations``), keyed by location code."""
        response = await self.http.get(f"{self._base}/locations", op="list_locations")
        rows = self._json_object(response, "list_locations").get("locations")
        if not isinstance(rows, list):
            raise FatalConnectorError("response has no 'locations' list", connector=CONNECTOR_ID, op="list_locations")
        locations, messages = collect(mapper.map_location(row) for row in rows)
        self._log_messages("list_locations", messages)
        return locations

    async def read_levels(self, skus: Sequence[str]) -> list[StockLevel]:
        """On-hand counts of these SKUs at every location ACME has a row for; unknown SKUs are left out."""
        wanted = unique_skus(skus)
        if not wanted:
            return []
        observed_at = self._now()
        rows, messages = await self.fetch_stock(wanted)
        self._log_messages("read_levels", messages)
        wanted_set = set(wanted)
        return [StockLevel(row.sku, row.location, row.quantity, observed_at) for row in rows if row.sku in wanted_set]

    async def push_levels(self, targets: Sequence[StockTarget]) -> list[PushResult]:
        """One request per target: an absolute ``PUT`` (``write_mode: set``) or, in ``adjust`` mode, an
        adjustment by ``quantity - expected`` (read first when ``expected`` is unknown) whose idempotency key is
        derived from the target's reference and content. A 404 is ``UNKNOWN_SKU``, a 400/422 ``FAILED``; another
        failure (after the client's retries) raises when nothing was written yet, and otherwise ends the batch
        with :func:`~omnibridge.sdk.channel.unsettled` results for that target and the ones not sent."""
        results: list[PushResult] = []
        for position, target in enumerate(targets):
            try:
                results.append(await self._push_one(target))
            except ConnectorError as exc:
                if not any(result.status is PushStatus.APPLIED for result in results):
                    raise
                results.append(unsettled(target, exc))
                results += [unsettled(later, exc, sent=False) for later in targets[position + 1 :]]
                break
        return results

    async def _push_one(self, target: StockTarget) -> PushResult:
        if self.settings.write_mode == "set":
            level = mapper.StockLevel(target.sku, target.location_ref, target.quantity)
            return self._result(target, await self.set_stock(level))
        expected = target.expected
        if expected is None:
            current = {(lv.sku, lv.location_ref): lv.available for lv in await self.read_levels([target.sku])}
            expected = current.get((target.sku, target.location_ref), 0)
        delta = target.quantity - expected
        if delta == 0:
            return PushResult(target, PushStatus.UNCHANGED, shown=expected)
        body = mapper.adjustment_body(target.sku, target.location_ref, delta)
        key = derived_key(target.reference or f"{target.sku}@{target.location_ref}:{self._now().isoformat()}", body)
        return self._result(
            target, await self.adjust_stock(target.sku, target.location_ref, delta, idempotency_key=key)
        )

    def _result(self, target: StockTarget, response: httpx.Response) -> PushResult:
        if response.status_code < 400:
            row = mapper.map_stock_row(self._json_object(response, "push_levels"), default_location=target.location_ref)
            return PushResult(target, PushStatus.APPLIED, shown=row.value.quantity if row.value else None)
        message = mapper.error_message(response.status_code, self._body(response))
        if response.status_code == 404 and "unknown_item" in message:
            return PushResult(target, PushStatus.UNKNOWN_SKU, message=message)
        return PushResult(target, PushStatus.FAILED, message=message)

    async def pull_events(self, bookmark: str | None) -> PullResult:
        """ACME has no orders and no change feed: no events; the bookmark is kept (or set to now)."""
        return PullResult([], bookmark or self._now().isoformat())

    def verify_webhook(self, raw_body: bytes, headers: Mapping[str, str], url: str) -> WebhookDelivery:
        """ACME sends no webhooks, so every delivery is refused."""
        raise WebhookError(f"{CONNECTOR_ID}: ACME WMS sends no webhooks; refusing the delivery to {url}")

    async def webhook_events(self, delivery: WebhookDelivery) -> list[ChannelEvent]:
        """No webhooks, no events."""
        return []

    # -- helpers -----------------------------------------------------------------------------------------------

    def _log_messages(self, op: str, messages: Sequence[MapMessage]) -> None:
        for message in messages:
            self._log.warning(
                "acme.record", op=op, field=message.field_path, record=message.record_id, message=message.message
            )

    @staticmethod
    def _body(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            return None

    @classmethod
    def _json_object(cls, response: httpx.Response, op: str) -> dict[str, Any]:
        body = cls._body(response)
        if not isinstance(body, dict):
            raise FatalConnectorError("response is not a JSON object", connector=CONNECTOR_ID, op=op)
        return body
