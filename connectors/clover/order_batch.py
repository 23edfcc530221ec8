"""Coalesce the order reads of concurrent webhook messages into one ``GET /orders?filter=modifiedTime>=…``.

A rush at the till sends one message per sale, each naming its order; reading each with
``GET /orders/{id}?expand=lineItems`` costs one request per sale against Clover's 16 requests/s per token, which
a busy store alone exceeds (and the stock writes need that budget too). Callers that ask for an order while a read
is being put together join it: the orders modified since the earliest of their notifications' times (less
:data:`MARGIN_MS`, as clocks differ) are listed in one paged request, and each caller gets its own order. An order
the list does not hold (modified before the margin) is read on its own, so a caller always gets what a single read
would have given it; a lone caller reads its order directly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

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
        self._waiting: dict[str, tuple[int, list[asyncio.Future[Any | None]]]] = {}
        self._run_task: asyncio.Task[None] | None = None

    async def get(self, order_id: str, ts: int) -> Any | None:
        """The order ``order_id`` a notification stamped ``ts`` (ms) named; None when Clover has none."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any | None] = loop.create_future()
        earliest, futures = self._waiting.get(order_id, (ts, []))
        futures.append(future)
        self._waiting[order_id] = (min(earliest, ts), futures)
        if self._run_task is None or self._run_task.done():
            self._run_task = loop.create_task(self._run())
        return await future

    async def _run(self) -> None:
        # Let the callers scheduled in the same pass of the event loop join this batch.
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        while self._waiting:
            batch, self._waiting = self._waiting, {}
            try:
                found = await self._read(batch)
            except BaseException as exc:  # each waiting caller gets the failure of its read
                for _, futures in batch.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for order_id, (_, futures) in batch.items():
                for future in futures:
                    if not future.done():
                        future.set_result(found.get(order_id))

    async def _read(self, batch: dict[str, tuple[int, list[asyncio.Future[Any | None]]]]) -> dict[str, Any]:
        if len(batch) == 1:
            [order_id] = batch
            return {order_id: await self._read_one(order_id)}
        since = min(ts for ts, _ in batch.values()) - MARGIN_MS
        listed = {
            order["id"]: order for order in await self._list_since(since) if isinstance(order, dict) and "id" in order
        }
        found: dict[str, Any] = {order_id: listed[order_id] for order_id in batch if order_id in listed}
        for order_id in batch:
            if order_id not in found:
                found[order_id] = await self._read_one(order_id)
        return found
