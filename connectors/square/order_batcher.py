"""Coalesce the order fetches of concurrent webhook deliveries into one ``BatchRetrieveOrders`` call.

A rush at the till sends one ``order.updated`` per sale; fetching each order on its own costs one request per
sale against a rate limit Square does not publish. Callers that ask for an order while a fetch is being put
together join it: up to :data:`ORDERS_PER_RETRIEVE` ids go in one request, and each caller gets its own order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

ORDERS_PER_RETRIEVE = 100  # BatchRetrieveOrders accepts at most 100 order_ids

Order = Mapping[str, Any]
FetchOrders = Callable[[list[str]], Awaitable[tuple[dict[str, Order], str]]]
"""``ids -> (orders found by id, a description of Square's errors for the rest)``."""


class OrderBatcher:
    """Fetches orders through ``fetch``, batching the requests of callers that arrive together."""

    def __init__(self, fetch: FetchOrders) -> None:
        self._fetch = fetch
        self._waiting: dict[str, list[asyncio.Future[tuple[Order | None, str]]]] = {}
        self._flush: asyncio.Task[None] | None = None

    async def get(self, order_id: str) -> tuple[Order | None, str]:
        """The order (None if Square did not return it) and Square's error detail for a missing one."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[Order | None, str]] = loop.create_future()
        self._waiting.setdefault(order_id, []).append(future)
        if self._flush is None or self._flush.done():
            self._flush = loop.create_task(self._run())
        return await future

    async def _run(self) -> None:
        # Let the callers scheduled in the same pass of the event loop join this batch.
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        while self._waiting:
            batch = dict(list(self._waiting.items())[:ORDERS_PER_RETRIEVE])
            for order_id in batch:
                del self._waiting[order_id]
            try:
                found, detail = await self._fetch(list(batch))
            except BaseException as exc:  # each waiting caller gets the failure of its fetch
                for futures in batch.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for order_id, futures in batch.items():
                for future in futures:
                    if not future.done():
                        future.set_result((found.get(order_id), detail))
