"""Coalesce the order reads of concurrent webhook messages into one ``GET /orders?filter=modifiedTime>=…``.

A rush at the till sends one message per sale, each naming its order; reading each with
``GET /orders/{id}?expand=lineItems`` costs one request per sale against Clover's 16 requests/s per token, which
a busy store alone exceeds (and the stock writes need that budget too). Callers that ask for an order while a read
is being put together join it (:class:`omnibridge.sdk.CoalescingBatcher`): the orders modified since the earliest
of their notifications' times (less :data:`MARGIN_MS`, as clocks differ) are listed in one paged request, and each
caller gets its own order. An order the list does not hold (modified before the margin) is read on its own, so a
caller always gets what a single read would have given it; a lone caller reads its order directly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from omnibridge.sdk import CoalescingBatcher

MARGIN_MS = 2_000
"""How far before a notification's ``ts`` its order's ``modifiedTime`` may lie and still be listed."""

ListSince = Callable[[int], Awaitable[list[Any]]]
"""``since_ms -> the orders (with line items) modified at or after it``."""
ReadOne = Callable[[str], Awaitable[Any | None]]
"""``order id -> the order with its line items`` (None: Clover has no such order)."""


class OrderBatcher:
    """Reads orders through ``list_since`` / ``read_one``, coalescing the callers that arrive together."""

    def __init__(self, list_since: ListSince, read_one: ReadOne) -> None:
        self._list_since = list_since
        self._read_one = read_one
        self._earliest: dict[str, int] = {}  # order id -> earliest ts of the callers waiting for its next read
        self._batcher: CoalescingBatcher[str, Any | None] = CoalescingBatcher(self._read)

    async def get(self, order_id: str, ts: int) -> Any | None:
        """The order ``order_id`` a notification stamped ``ts`` (ms) named; None when Clover has none."""
        self._earliest[order_id] = min(self._earliest.get(order_id, ts), ts)
        return await self._batcher.get(order_id)

    async def _read(self, order_ids: list[str]) -> dict[str, Any]:
        # Before the first await: the stamps of callers arriving from now on belong to the next read.
        stamps = [self._earliest.pop(order_id) for order_id in order_ids]
        if len(order_ids) == 1:
            [order_id] = order_ids
            return {order_id: await self._read_one(order_id)}
        since = min(stamps) - MARGIN_MS
        listed = {
            order["id"]: order for order in await self._list_since(since) if isinstance(order, dict) and "id" in order
        }
        found: dict[str, Any] = {order_id: listed[order_id] for order_id in order_ids if order_id in listed}
        for order_id in order_ids:
            if order_id not in found:
                found[order_id] = await self._read_one(order_id)
        return found
