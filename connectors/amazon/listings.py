"""Listings Items 2021-08-01: read the merchant-fulfilled quantity, write patches (one SKU a call, or a feed).

``getListingsItem`` (5/s, burst 10) and ``patchListingsItem`` (5/s, burst 5) take one SKU each, so writing many
SKUs one by one is slow: 10,000 SKUs take 2,000 s at the default plan. From ``feed_threshold`` SKUs on, writes go
as ``JSON_LISTINGS_FEED`` instead (:mod:`connectors.amazon.feeds`): a handful of calls whatever the count.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from connectors.amazon import mapper
from connectors.amazon.feeds import FeedSubmitter
from connectors.amazon.settings import AmazonSettings
from omnibridge.sdk.channel import PushStatus, StockLevel, unique_skus

if TYPE_CHECKING:
    from connectors.amazon.client import AmazonApi

LISTINGS_PATH = "/listings/2021-08-01/items"
T = TypeVar("T")
Patch = dict[str, Any]


class Listings:
    """Per-SKU listing reads and writes for one seller and marketplace."""

    def __init__(
        self, api: AmazonApi, settings: AmazonSettings, feeds: FeedSubmitter, *, now: Callable[[], datetime]
    ) -> None:
        self._api = api
        self._settings = settings
        self._feeds = feeds
        self._now = now
        self._gate = asyncio.Semaphore(settings.concurrency)

    def _path(self, sku: str) -> str:
        # SKUs may hold "/", "#", spaces...: Amazon requires the path segment URL-encoded.
        return f"{LISTINGS_PATH}/{quote(self._settings.seller_id, safe='')}/{quote(sku, safe='')}"

    async def _gated(self, work: Awaitable[T]) -> T:
        async with self._gate:
            return await work

    async def quantity(self, sku: str) -> int | None:
        """The DEFAULT (merchant-fulfilled) quantity Amazon shows for ``sku``; ``None`` when there is no listing
        (404) or it has no merchant-fulfilled offer."""
        status, body = await self._api.call(
            "getListingsItem",
            "GET",
            self._path(sku),
            params={"marketplaceIds": self._settings.marketplace_id, "includedData": "fulfillmentAvailability"},
            expected=(404,),
        )
        return None if status == 404 else mapper.mfn_quantity(body)

    async def read_levels(self, skus: Sequence[str]) -> list[StockLevel]:
        """One :class:`StockLevel` at ``DEFAULT`` per SKU that has a merchant-fulfilled listing."""
        wanted = unique_skus(skus)
        observed_at = self._now()
        quantities = await asyncio.gather(*(self._gated(self.quantity(sku)) for sku in wanted))
        return [
            StockLevel(sku, mapper.MFN_CHANNEL, quantity, observed_at)
            for sku, quantity in zip(wanted, quantities, strict=True)
            if quantity is not None
        ]

    async def patch(self, sku: str, patches: Sequence[Patch]) -> mapper.WriteOutcome:
        """One ``patchListingsItem``: ACCEPTED → APPLIED; INVALID → FAILED or UNKNOWN_SKU by issue code; a 400
        (bad request for this SKU) → FAILED; a 404 → UNKNOWN_SKU."""
        status, body = await self._api.call(
            "patchListingsItem",
            "PATCH",
            self._path(sku),
            params={"marketplaceIds": self._settings.marketplace_id, "issueLocale": self._settings.language_tag},
            json=mapper.patch_body(self._settings.product_type, patches),
            expected=(400, 404),
        )
        if status == 404:
            return mapper.WriteOutcome(PushStatus.UNKNOWN_SKU, "Amazon has no listing with this SKU")
        if status == 400:
            return mapper.WriteOutcome(
                PushStatus.FAILED, f"HTTP 400 {mapper.describe_errors(mapper.amazon_errors(body))}"
            )
        return mapper.outcome_of_submission(body)

    async def write(self, items: Sequence[tuple[str, Sequence[Patch]]]) -> list[mapper.WriteOutcome]:
        """Apply each ``(sku, patches)``; one outcome per item, in order. Fewer than ``feed_threshold`` items go
        through ``patchListingsItem`` (up to ``concurrency`` at a time, paced by its bucket), more through
        feeds."""
        if not items:
            return []
        if len(items) >= self._settings.feed_threshold:
            return await self._feeds.submit(items)
        return list(await asyncio.gather(*(self._gated(self.patch(sku, patches)) for sku, patches in items)))
