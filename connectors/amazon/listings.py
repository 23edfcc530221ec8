"""Listings Items 2021-08-01: read the merchant-fulfilled quantity, write patches (one SKU a call, or a feed).

Reads go 20 SKUs a call through ``searchListingsItems`` (``identifiers`` + ``identifiersType=SKU``, 5/s, burst 5):
10,000 SKUs are 500 calls, about 100 s at the default plan, where ``getListingsItem`` (5/s, burst 10) one SKU a
call would take 2,000 s. A read of one SKU (the engine's re-read after a notification) still uses
``getListingsItem``: its own, larger bucket leaves the search bucket to bulk reads.

``patchListingsItem`` (5/s, burst 5) takes one SKU, so writing many SKUs one by one is slow (10,000 SKUs take
2,000 s). From ``feed_threshold`` SKUs on, writes go as ``JSON_LISTINGS_FEED`` instead
(:mod:`connectors.amazon.feeds`): a handful of calls whatever the count.

Amazon shows an ACCEPTED change some minutes after accepting it ("changes can take up to 15 minutes"). Meanwhile a
read gets the quantity from before the write, which the engine would take for a change made on Amazon (drift, or
a sale to pass on to other channels). So :class:`Listings` remembers the quantities Amazon accepted from this
connector and, for ``listing_visibility_seconds`` after each, reports the accepted quantity instead of a different
one it reads: it is what Amazon will show. A read that shows the accepted quantity ends the overlay for that SKU
early (the change is visible; later changes are Amazon's own). The memory is per connector instance: a new
process (``sync --once`` run again) starts without it.
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
SEARCH_BATCH = 20  # searchListingsItems: identifiers maxItems 20, pageSize maximum 20 (default 10)
SEARCH_INCLUDED_DATA = "summaries,fulfillmentAvailability"
_MAX_SEARCH_PAGES = 50  # Amazon pages through at most 1,000 results: 50 pages of 20
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
        self._accepted: dict[str, tuple[int, datetime]] = {}

    def accepted(self, sku: str, quantity: int) -> None:
        """Amazon ACCEPTED ``quantity`` for ``sku`` just now: report it until Amazon shows it (see the module
        docstring)."""
        if self._settings.listing_visibility_seconds > 0:
            self._accepted[sku] = (quantity, self._now())

    def _shown(self, sku: str, read: int | None, now: datetime) -> int | None:
        """What Amazon will show for ``sku`` given the ``read`` quantity: an accepted write still in its window,
        otherwise ``read``."""
        written = self._accepted.get(sku)
        if written is None:
            return read
        quantity, at = written
        if read == quantity or (now - at).total_seconds() >= self._settings.listing_visibility_seconds:
            del self._accepted[sku]
            return read
        return quantity

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

    async def search_quantities(self, skus: Sequence[str]) -> dict[str, int | None]:
        """The DEFAULT quantity of each of up to :data:`SEARCH_BATCH` ``skus`` (none holding ``,``) by
        ``searchListingsItems``; SKUs Amazon has no listing for are absent, those without a merchant-fulfilled
        offer map to ``None``. Follows ``pagination.nextToken`` should Amazon answer in several pages."""
        if not 1 <= len(skus) <= SEARCH_BATCH or any("," in sku for sku in skus):
            raise ValueError(f"searchListingsItems takes 1 to {SEARCH_BATCH} SKUs without ','")
        wanted = set(skus)
        params = {
            "marketplaceIds": self._settings.marketplace_id,
            "identifiers": ",".join(skus),
            "identifiersType": "SKU",
            "includedData": SEARCH_INCLUDED_DATA,
            "pageSize": str(SEARCH_BATCH),
        }
        path = f"{LISTINGS_PATH}/{quote(self._settings.seller_id, safe='')}"
        found: dict[str, int | None] = {}
        token: str | None = None
        for _ in range(_MAX_SEARCH_PAGES):
            page = params if token is None else {**params, "pageToken": token}
            _, body = await self._api.call("searchListingsItems", "GET", path, params=page)
            items = body.get("items") if isinstance(body, dict) else None
            for item in items if isinstance(items, list) else []:
                sku = item.get("sku") if isinstance(item, dict) else None
                if isinstance(sku, str) and sku in wanted:
                    found[sku] = mapper.mfn_quantity(item)
            pagination = body.get("pagination") if isinstance(body, dict) else None
            token = pagination.get("nextToken") if isinstance(pagination, dict) else None
            if not isinstance(token, str) or not token or len(found) == len(wanted):
                break
        return found

    async def _single(self, sku: str) -> dict[str, int | None]:
        quantity = await self.quantity(sku)
        return {sku: quantity}

    async def read_levels(self, skus: Sequence[str]) -> list[StockLevel]:
        """One :class:`StockLevel` at ``DEFAULT`` per SKU that has a merchant-fulfilled listing, in the order
        asked. Batches of :data:`SEARCH_BATCH` go through ``searchListingsItems``; a batch of one SKU, and any
        SKU holding ``,`` (``identifiers`` is a comma-separated list), through ``getListingsItem``."""
        wanted = unique_skus(skus)
        observed_at = self._now()
        listable = [sku for sku in wanted if "," not in sku]
        batches = [listable[i : i + SEARCH_BATCH] for i in range(0, len(listable), SEARCH_BATCH)]
        batches += [[sku] for sku in wanted if "," in sku]
        reads = [self._single(batch[0]) if len(batch) == 1 else self.search_quantities(batch) for batch in batches]
        quantities: dict[str, int | None] = {}
        for found in await asyncio.gather(*(self._gated(read) for read in reads)):
            quantities.update(found)
        return [
            StockLevel(sku, mapper.MFN_CHANNEL, quantity, observed_at)
            for sku in wanted
            if sku in quantities and (quantity := self._shown(sku, quantities[sku], observed_at)) is not None
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
        feeds. A call that fails after another write of the batch landed is that item's outcome (``UNKNOWN``, or
        ``FAILED`` when refused); when none landed, the first failure is raised (see :func:`mapper.settled`)."""
        if not items:
            return []
        if len(items) >= self._settings.feed_threshold:
            return await self._feeds.submit(items)
        calls = (self._gated(self.patch(sku, patches)) for sku, patches in items)
        return mapper.settled(await asyncio.gather(*calls, return_exceptions=True))
