"""Coalesce the order fetches of concurrent webhook deliveries into one ``BatchRetrieveOrders`` call.

A rush at the till sends one ``order.updated`` per sale; fetching each order on its own costs one request per
sale against a rate limit Square does not publish. Callers that ask for an order while a fetch is being put
together join it (:class:`omnibridge.sdk.CoalescingBatcher`): up to :data:`ORDERS_PER_RETRIEVE` ids go in one
request, and each caller gets its own order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from omnibridge.sdk import CoalescingBatcher

ORDERS_PER_RETRIEVE = 100  # BatchRetrieveOrders accepts at most 100 order_ids

Order = Mapping[str, Any]
FetchOrders = Callable[[list[str]], Awaitable[tuple[dict[str, Order], str]]]
"""``ids -> (orders found by id, a description of Square's errors for the rest)``."""


class OrderBatcher:
    """Fetches orders through ``fetch``, batching the requests of callers that arrive together."""

    def __init__(self, fetch: FetchOrders) -> None:
        self._fetch = fetch
        self._batcher: CoalescingBatcher[str, tuple[Order | None, str]] = CoalescingBatcher(
            self._read, batch_size=ORDERS_PER_RETRIEVE
        )

    async def get(self, order_id: str) -> tuple[Order | None, str]:
        """The order (None if Square did not return it) and Square's error detail for a missing one."""
        return await self._batcher.get(order_id)

    async def _read(self, ids: list[str]) -> dict[str, tuple[Order | None, str]]:
        found, detail = await self._fetch(ids)
        return {order_id: (found.get(order_id), detail) for order_id in ids}
