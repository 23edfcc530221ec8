"""Orders v0: polling with an overlapping ``LastUpdatedAfter`` window, and fetching one order a notification names.

Amazon only answers for windows that end at least two minutes before the request, and says where the window it
used ended (``LastUpdatedBefore`` in the first page). That instant is the new bookmark: every order updated
before it has been returned, and the bookmark never moves backwards. The next poll starts
``poll_overlap_seconds`` before it (``LastUpdateDate`` is eventually consistent); the engine's idempotency keys
absorb the repeats. Only merchant-fulfilled orders are asked for (``FulfillmentChannels=MFN``).

Each order's items come from ``getOrderItems`` (0.5/s): they are cached per ``(AmazonOrderId, LastUpdateDate)``, so
an unchanged order seen again in the overlap costs no call.

getOrders and getOrder are sent with a Restricted Data Token for ``shippingAddress`` (:mod:`connectors.amazon.rdt`),
so each order carries the buyer's whole ship-to address; without the Restricted role they go with the LWA token and
the address holds only city, region, postal code and country.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from connectors.amazon import mapper
from connectors.amazon.rdt import RestrictedTokens
from connectors.amazon.settings import AmazonSettings
from omnibridge.sdk import FatalConnectorError, MapMessage, MapResult
from omnibridge.sdk.channel import ChannelEvent, OrderEvent, PullResult

if TYPE_CHECKING:
    from connectors.amazon.client import AmazonApi

CONNECTOR_ID = "amazon"
ORDERS_PATH = "/orders/v0/orders"
_BOOKMARK_VERSION = 1
_ITEMS_CACHE = 5_000


class OrdersPoller:
    """Orders of one marketplace as :class:`OrderEvent` (mapping in :func:`connectors.amazon.mapper.map_order`)."""

    def __init__(self, api: AmazonApi, settings: AmazonSettings, *, now: Callable[[], datetime]) -> None:
        self._api = api
        self._settings = settings
        self._now = now
        self._items: OrderedDict[tuple[str, str], list[Any]] = OrderedDict()
        self._gate = asyncio.Semaphore(settings.concurrency)
        self.restricted = RestrictedTokens(api)

    async def pull(self, bookmark: str | None) -> PullResult:
        """Orders updated at or after the bookmark minus the overlap (``None``: ``order_lookback_minutes`` ago).

        Skipped orders (unknown status, Amazon-fulfilled, malformed) are reported in ``messages``.
        """
        mark = self._decode(bookmark)
        start = mark if bookmark is None else mark - timedelta(seconds=self._settings.poll_overlap_seconds)
        params: dict[str, Any] = {
            "MarketplaceIds": self._settings.marketplace_id,
            "LastUpdatedAfter": mapper.format_time(start),
            "FulfillmentChannels": "MFN",
        }
        orders: list[Any] = []
        window_end: datetime | None = None
        rdt = await self.restricted.shipping_address(ORDERS_PATH)
        while True:
            _, body = await self._api.call("getOrders", "GET", ORDERS_PATH, params=params, restricted_token=rdt)
            payload = body.get("payload") if isinstance(body, dict) else None
            if not isinstance(payload, dict):
                raise FatalConnectorError("getOrders answered without payload", connector=CONNECTOR_ID, op="getOrders")
            page = payload.get("Orders")
            orders.extend(page if isinstance(page, list) else [])
            window_end = window_end or mapper.parse_time(payload.get("LastUpdatedBefore"))
            token = payload.get("NextToken")
            if not isinstance(token, str) or not token:
                break
            params = {"MarketplaceIds": self._settings.marketplace_id, "NextToken": token}
        results = await asyncio.gather(*(self._map(order) for order in orders))
        events: list[ChannelEvent] = []
        messages: list[MapMessage] = []
        latest = mark
        for order, result in zip(orders, results, strict=True):
            messages.extend(result.messages)
            if result.value is not None:
                events.append(result.value)
            updated = mapper.parse_time(order.get("LastUpdateDate")) if isinstance(order, dict) else None
            latest = max(latest, updated) if updated else latest
        # Amazon's window end is authoritative; without one, the latest update seen is the best lower bound.
        new_mark = max(mark, window_end) if window_end is not None else latest
        return PullResult(events, self._encode(new_mark), messages)

    async def fetch(self, order_id: str) -> tuple[Any, MapResult[OrderEvent] | None]:
        """``getOrder`` + ``getOrderItems``: ``(raw order or None if Amazon has none, mapped result or None for
        an Amazon-fulfilled order)``."""
        path = f"{ORDERS_PATH}/{quote(order_id, safe='')}"
        rdt = await self.restricted.shipping_address(path)
        status, body = await self._api.call("getOrder", "GET", path, expected=(404,), restricted_token=rdt)
        order = body.get("payload") if isinstance(body, dict) and status == 200 else None
        if not isinstance(order, dict):
            return None, None
        if order.get("FulfillmentChannel") == "AFN":
            return order, None
        return order, await self._map(order)

    async def _map(self, order: Any) -> MapResult[OrderEvent]:
        if not isinstance(order, dict) or not isinstance(order.get("AmazonOrderId"), str):
            return mapper.map_order(order, [])
        if order.get("FulfillmentChannel") == "AFN" or order.get("OrderStatus") not in mapper.ORDER_KINDS:
            return mapper.map_order(order, [])  # skipped without spending a getOrderItems call
        return mapper.map_order(order, await self.items(order["AmazonOrderId"], str(order.get("LastUpdateDate"))))

    async def items(self, order_id: str, version: str = "") -> list[Any]:
        """Every ``OrderItem`` of ``order_id`` (following ``NextToken``), cached per ``(order_id, version)``."""
        key = (order_id, version)
        cached = self._items.get(key)
        if cached is not None and version:
            self._items.move_to_end(key)
            return cached
        items: list[Any] = []
        params: dict[str, Any] | None = None
        async with self._gate:
            while True:
                _, body = await self._api.call(
                    "getOrderItems", "GET", f"{ORDERS_PATH}/{quote(order_id, safe='')}/orderItems", params=params
                )
                payload = body.get("payload") if isinstance(body, dict) else None
                page = payload.get("OrderItems") if isinstance(payload, dict) else None
                items.extend(page if isinstance(page, list) else [])
                token = payload.get("NextToken") if isinstance(payload, dict) else None
                if not isinstance(token, str) or not token:
                    break
                params = {"NextToken": token}
        if version:
            self._items[key] = items
            while len(self._items) > _ITEMS_CACHE:
                self._items.popitem(last=False)
        return items

    def _decode(self, bookmark: str | None) -> datetime:
        if bookmark is None:
            return self._now() - timedelta(minutes=self._settings.order_lookback_minutes)
        try:
            data = json.loads(bookmark)
            mark = mapper.parse_time(data["orders"])
        except (ValueError, KeyError, TypeError):
            mark = None
        if mark is None:
            raise FatalConnectorError(
                f"unreadable bookmark {bookmark!r} (expected JSON with an ISO 8601 'orders' instant)",
                connector=CONNECTOR_ID,
                op="pull_events",
            )
        return mark

    @staticmethod
    def _encode(mark: datetime) -> str:
        return json.dumps({"v": _BOOKMARK_VERSION, "orders": mapper.format_time(mark)}, sort_keys=True)
