"""ShipBob 1.0 I/O: the 3PL as a fulfilment provider and a read-only stock location. Auth, pacing, retries and
pagination are the shared client's; mapping is :mod:`connectors.shipbob.mapper`, webhook checks
:mod:`connectors.shipbob.webhooks`.

Calls (paths of the official 1.0 document, under ``<base_url>/1.0/``):

=================================  =====================================================================
``GET  fulfillmentCenter``         :meth:`ShipBobConnector.list_locations`
``GET  product?ReferenceIds=``     :meth:`~ShipBobConnector.read_levels` (fulfillable per fulfilment centre)
``POST order``                     :meth:`~ShipBobConnector.submit_fulfilment` (``reference_id`` = the key)
``GET  order?ReferenceIds=``       the read-back after a 422 "Duplicate reference ID"
``GET  order?LastUpdateStartDate``  :meth:`~ShipBobConnector.pull_events` (shipments, cancellations)
``GET  order/{id}``                :meth:`~ShipBobConnector.webhook_events` (the order a shipment belongs to)
=================================  =====================================================================
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import httpx

from connectors.shipbob import mapper
from connectors.shipbob.returns import ReturnsReader
from connectors.shipbob.settings import ShipBobSettings
from connectors.shipbob.webhooks import delivery_events, verify_delivery
from omnibridge.sdk import (
    Clock,
    ConnectorHttpClient,
    FatalConnectorError,
    HttpFatalError,
    MapMessage,
    RetryPolicy,
    Sleeper,
    SlidingWindow,
    WebhookDelivery,
    get_logger,
)
from omnibridge.sdk.channel import (
    ChannelEvent,
    ChannelLocation,
    PullResult,
    PushResult,
    PushStatus,
    StockChangeEvent,
    StockChangeKind,
    StockLevel,
    StockTarget,
    unique_skus,
)
from omnibridge.sdk.fulfilment import FulfilmentRequest, Submission

__all__ = ["CONNECTOR_ID", "PUSH_REFUSED", "ShipBobConnector"]

CONNECTOR_ID = "shipbob"
PUSH_REFUSED = (
    "ShipBob holds the stock it ships: omnibridge reads it (fulfillable per fulfilment centre), never writes it"
)
REMAINING_HEADER = "x-remaining-calls"
RETRY_AFTER_HEADER = "x-retry-after"
WINDOW_SECONDS = 60.0
_REFERENCE_CHUNK = 50
# ShipBob's 4xx that we read ourselves; 429 and 5xx stay with the shared client's retries.
_CLIENT_ERRORS = frozenset({400, 401, 403, 404, 409, 422})


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ShipBobConnector:
    """A ShipBob account behind the ``ChannelConnector`` and ``FulfilmentProvider`` contracts.

    * ``submit_fulfilment`` creates the order with ``reference_id`` = the request's reference. The write is safe
      to repeat (ShipBob refuses a second order with the same ``reference_id`` with 422), so it is retried like
      an idempotent call; a 422 "Duplicate reference ID" is answered by reading the order back
      (``duplicate=True``). Any other 4xx is a refusal (``accepted=False`` with ShipBob's text); 401/403 raise
      :class:`FatalConnectorError`; 429, 5xx and timeouts raise ``RetriableConnectorError`` once retries are out.
    * Stock is polled (ShipBob sends no inventory webhook): ``read_levels`` reports the fulfillable quantity per
      fulfilment centre; ``push_levels`` refuses every target (:data:`PUSH_REFUSED`).
    * ``pull_events`` reports shipments of orders created through ``shipbob_channel_id`` as ``FulfilmentEvent``
      and cancelled shipments as ``FulfilmentStatusEvent`` ``CANCELLED``; with ``returns`` (the default) also
      ShipBob's return orders as ``ReturnEvent`` (see :mod:`connectors.shipbob.returns`).
    * Every call goes through one sliding window of ``requests_per_minute`` per 60 s, corrected by
      ``x-remaining-calls``; a 429 waits ``x-retry-after``.
    """

    def __init__(
        self,
        settings: ShipBobSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_policy: RetryPolicy | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleeper = asyncio.sleep,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.settings = settings
        self._now = now
        self._log = get_logger("connectors.shipbob")
        self._counted: dict[tuple[str, str], int] = {}
        """On hand last reported per (SKU, centre), so an unchanged count is not reported again."""
        self.limiter = SlidingWindow(
            settings.requests_per_minute,
            WINDOW_SECONDS,
            remaining_header=REMAINING_HEADER,
            retry_after_header=RETRY_AFTER_HEADER,
            clock=clock,
            sleep=sleep,
        )
        policy = retry_policy or RetryPolicy(
            max_attempts=settings.max_attempts, initial_backoff=settings.initial_backoff_seconds, max_elapsed=120.0
        )
        self.http = ConnectorHttpClient(
            CONNECTOR_ID,
            settings.api_root(),
            auth_headers={"Authorization": f"Bearer {settings.personal_access_token.get_secret_value()}"},
            headers={
                "Accept": "application/json",
                "Content-Type": "application/json",
                "shipbob_channel_id": str(settings.shipbob_channel_id),
            },
            rate_limiter=self.limiter,
            retry_policy=policy,
            transport=transport,
            timeout=settings.timeout_seconds,
            retry_after_header=RETRY_AFTER_HEADER,
            clock=clock,
            sleep=sleep,
        )
        self.returns = ReturnsReader(self._pages, self._shipment, lookback_days=settings.lookback_days)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()

    # --- HTTP ---------------------------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        url: str,
        op: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        accept: frozenset[int] = frozenset(),
    ) -> httpx.Response:
        """One request; 2xx and ``accept`` are returned, other ShipBob 4xx raise :class:`HttpFatalError`."""
        response = await self.http.request(
            method, url, op=op, params=params, json=body, idempotent=True, expected_statuses=_CLIENT_ERRORS
        )
        status = response.status_code
        if status >= 400 and status not in accept:
            payload = _json(response)
            raise HttpFatalError(
                f"ShipBob answered {status}: {mapper.error_text(payload) or response.reason_phrase}",
                connector=CONNECTOR_ID,
                op=op,
                status_code=status,
                body_excerpt=response.text[:300],
            )
        return response

    async def _pages(self, path: str, op: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every item of a list endpoint, following ShipBob's ``next-page`` header until there is none."""
        items: list[dict[str, Any]] = []
        url: str = path
        query: Mapping[str, Any] | None = {**params, "Limit": self.settings.page_size}
        for _ in range(10_000):
            response = await self._call("GET", url, op, params=query)
            page = _json(response)
            if not isinstance(page, list):
                raise FatalConnectorError(f"expected a JSON array from {path}", connector=CONNECTOR_ID, op=op)
            items.extend(item for item in page if isinstance(item, dict))
            next_page = response.headers.get("next-page")
            if not next_page or not page:
                break
            url, query = urljoin(str(response.request.url), next_page), None
        return items

    # --- locations and stock ------------------------------------------------------------------------------

    async def list_locations(self) -> list[ChannelLocation]:
        """ShipBob's fulfilment centres (``GET /1.0/fulfillmentCenter``); ``external_id`` is the centre's id,
        the ``location_id`` orders are sent to."""
        response = await self._call("GET", "fulfillmentCenter", "list_locations")
        body = _json(response)
        centres = body if isinstance(body, list) else []
        return [loc for fc in centres if isinstance(fc, dict) and (loc := mapper.location_from_fc(fc)) is not None]

    async def read_levels(self, skus: Sequence[str]) -> list[StockLevel]:
        """Fulfillable quantity (on hand - committed) of each SKU (the product ``reference_id``) per centre."""
        wanted = unique_skus(skus)
        levels: dict[tuple[str, str], StockLevel] = {}
        observed = self._now()
        for start in range(0, len(wanted), _REFERENCE_CHUNK):
            chunk = wanted[start : start + _REFERENCE_CHUNK]
            products = await self._pages("product", "read_levels", {"ReferenceIds": ",".join(chunk)})
            for product in products:
                for level in mapper.levels_from_product(product, observed):
                    if level.sku in chunk:
                        levels.setdefault((level.sku, level.location_ref), level)
        return list(levels.values())

    async def push_levels(self, targets: Sequence[StockTarget]) -> list[PushResult]:
        """Refuses every target: a 3PL's stock is counted by the 3PL (the engine never pushes to a 3PL)."""
        return [PushResult(target, PushStatus.FAILED, message=PUSH_REFUSED) for target in targets]

    # --- fulfilment ---------------------------------------------------------------------------------------

    async def submit_fulfilment(self, request: FulfilmentRequest) -> Submission:
        """``POST /1.0/order``; see the class docstring for duplicates, refusals and failures."""
        built = mapper.order_body(request, self.settings.default_shipping_method)
        if built.value is None:
            reason = "; ".join(message.message for message in built.messages)
            return Submission(request.reference, accepted=False, message=f"not sent to ShipBob: {reason}")
        response = await self._call(
            "POST", "order", "submit_fulfilment", body=built.value, accept=frozenset({400, 404, 409, 422})
        )
        payload = _json(response)
        if response.status_code < 400:
            order_id = payload.get("id") if isinstance(payload, dict) else None
            return Submission(request.reference, accepted=True, provider_ref=_text(order_id))
        if response.status_code == 422 and mapper.duplicate_reference(payload):
            existing = await self.find_order(request.reference)
            if existing is not None:
                self._log.info("shipbob.submit.duplicate", reference=request.reference, order=existing.get("id"))
                return Submission(
                    request.reference, accepted=True, provider_ref=_text(existing.get("id")), duplicate=True
                )
        message = mapper.error_text(payload) or f"HTTP {response.status_code}"
        return Submission(request.reference, accepted=False, message=f"ShipBob refused the order: {message}")

    async def find_order(self, reference: str) -> dict[str, Any] | None:
        """The order created with ``reference_id`` = ``reference`` (``GET /1.0/order?ReferenceIds=``), or None."""
        response = await self._call("GET", "order", "find_order", params={"ReferenceIds": reference})
        body = _json(response)
        for order in body if isinstance(body, list) else []:
            if isinstance(order, dict) and order.get("reference_id") == reference:
                return order
        return None

    # --- events -------------------------------------------------------------------------------------------

    async def pull_events(self, bookmark: str | None) -> PullResult:
        """Shipments and cancellations of omnibridge's orders updated at or after the bookmark (``None``:
        ``lookback_days`` ago), and with ``returns`` the return orders (:mod:`connectors.shipbob.returns`). The
        bookmark is when this pull started, so nothing falls between: an ISO instant, or with returns
        ``{"orders": instant, "returns": {...}}`` (a plain instant from before is read as the orders part)."""
        started = self._now()
        orders_mark, returns_part = _bookmark_parts(bookmark)
        since = mapper.parse_time(orders_mark) if orders_mark else None
        if since is None:
            since = started - timedelta(days=self.settings.lookback_days)
        orders = await self._pages(
            "order", "pull_events", {"LastUpdateStartDate": _stamp(since), "SortOrder": "Oldest"}
        )
        events: list[ChannelEvent] = []
        messages: list[MapMessage] = []
        for order in orders:
            channel = order.get("channel")
            channel = channel if isinstance(channel, dict) else {}
            if channel.get("id") != self.settings.shipbob_channel_id:
                continue  # another integration's order (a store's own ShipBob app): not omnibridge's to report
            found, notes = mapper.order_events(order)
            events.extend(found)
            messages.extend(notes)
        events.extend(await self._changed_counts(started))
        next_mark = _stamp(max(since, started))
        if not self.settings.returns:
            return PullResult(events, next_mark, messages)
        returned, part, notes = await self.returns.pull(returns_part, started)
        bookmark_out = json.dumps({"orders": next_mark, "returns": part}, sort_keys=True)
        return PullResult([*events, *returned], bookmark_out, [*messages, *notes])

    async def _shipment(self, shipment_id: int) -> dict[str, Any] | None:
        """``GET /1.0/shipment/{id}`` when its order is one of ``shipbob_channel_id``'s (``GET /1.0/order/{id}``),
        else None (ShipBob has no such shipment, or another integration's order: not omnibridge's to report)."""
        response = await self._call("GET", f"shipment/{shipment_id}", "pull_returns", accept=frozenset({404}))
        body = _json(response)
        if response.status_code >= 400 or not isinstance(body, dict) or not isinstance(body.get("order_id"), int):
            return None
        found = await self._call("GET", f"order/{body['order_id']}", "pull_returns", accept=frozenset({404}))
        order = _json(found)
        channel = order.get("channel") if found.status_code < 400 and isinstance(order, dict) else None
        ours = isinstance(channel, dict) and channel.get("id") == self.settings.shipbob_channel_id
        return body if ours else None

    async def _changed_counts(self, observed_at: datetime) -> list[ChannelEvent]:
        """A COUNT of on hand per SKU and centre whose value changed since this connector last reported it (every
        one after a restart): ShipBob sends no inventory webhook, so its stock reaches the ledger by this poll."""
        products = await self._pages("product", "pull_events", {})
        counts: list[ChannelEvent] = []
        for product in products:
            for sku, centre, on_hand in mapper.on_hand_from_product(product):
                if self._counted.get((sku, centre)) == on_hand:
                    continue
                self._counted[(sku, centre)] = on_hand
                ref = f"count:{sku}@{centre}:{on_hand}:{_stamp(observed_at)}"
                counts.append(StockChangeEvent(ref, StockChangeKind.COUNT, sku, centre, on_hand, observed_at))
        return counts

    def verify_webhook(self, raw_body: bytes, headers: Mapping[str, str], url: str) -> WebhookDelivery:
        """Standard Webhooks signature over ``{id}.{timestamp}.{body}``; ``url`` is not signed. Pure."""
        secret = self.settings.webhook_secret
        return verify_delivery(
            None if secret is None else secret.get_secret_value(),
            raw_body,
            headers,
            received_at=self._now(),
            tolerance_seconds=self.settings.webhook_tolerance_seconds,
        )

    async def webhook_events(self, delivery: WebhookDelivery) -> list[ChannelEvent]:
        """``order_shipped`` → ``FulfilmentEvent``, ``shipment_cancelled`` → ``FulfilmentStatusEvent``; the
        shipment's order is read (``GET /1.0/order/{id}``) for the line refs omnibridge tagged it with."""
        try:
            shipment = json.loads(delivery.raw_body)
        except ValueError:
            return []
        order: dict[str, Any] | None = None
        order_id = shipment.get("order_id") if isinstance(shipment, dict) else None
        if isinstance(order_id, int) and delivery.topic in ("order_shipped", "shipment_cancelled"):
            response = await self._call("GET", f"order/{order_id}", "webhook_events", accept=frozenset({404}))
            body = _json(response)
            order = body if response.status_code < 400 and isinstance(body, dict) else None
            channel = (order or {}).get("channel") or {}
            if order is not None and channel.get("id") != self.settings.shipbob_channel_id:
                return []
        events, _ = delivery_events(delivery, order)
        return list(events)

    async def check(self) -> str:
        """``omnibridge check``: ``GET /1.0/channel`` proves the token and names the configured channel."""
        response = await self._call("GET", "channel", "check")
        body = _json(response)
        channels = {c.get("id"): c for c in body if isinstance(c, dict)} if isinstance(body, list) else {}
        mine = channels.get(self.settings.shipbob_channel_id)
        if mine is None:
            raise FatalConnectorError(
                f"shipbob_channel_id {self.settings.shipbob_channel_id} is not a channel of this token; "
                f"expected one of {sorted(k for k in channels if isinstance(k, int))}",
                connector=CONNECTOR_ID,
                op="check",
            )
        return f"token accepted; writing as channel {mine.get('name')!r} ({self.settings.shipbob_channel_id})"


def _bookmark_parts(bookmark: str | None) -> tuple[str | None, Any]:
    """``(orders instant, returns part)`` of a bookmark (a plain instant: orders only)."""
    if not bookmark or not bookmark.lstrip().startswith("{"):
        return bookmark, None
    try:
        data = json.loads(bookmark)
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    orders = data.get("orders")
    return (orders if isinstance(orders, str) else None), data.get("returns")


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
