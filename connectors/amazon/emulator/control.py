"""The Amazon emulator's Python back door: seed listings, place and move orders, read what the "channel" shows,
inject failures. It is also the :class:`omnibridge.testing.harness.EmulatorControl` for the conformance kit.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connectors.amazon.emulator.common import format_time
from connectors.amazon.emulator.orders import DEFAULT_SHIPPING_ADDRESS
from omnibridge.testing.harness import EmulatorControl

if TYPE_CHECKING:
    from connectors.amazon.emulator.app import AmazonEmulator

__all__ = ["AmazonControl"]


def _money(value: Decimal | float | int | str | None) -> Decimal | None:
    if value is None:
        return None
    amount = Decimal(str(value))
    if amount < 0:
        raise ValueError(f"price must be >= 0, got {value!r}")
    return amount


class AmazonControl(EmulatorControl):
    """Back door of one :class:`~connectors.amazon.emulator.AmazonEmulator` (``emu.control``).

    Reading calls first move feeds along the emulator's clock, so what they read is current. Unknown SKUs or order
    ids raise ``KeyError``; bad values raise ``ValueError``.
    """

    def __init__(self, emulator: AmazonEmulator) -> None:
        self._emu = emulator

    # -- listings ------------------------------------------------------------------------------------------------

    def seed_listing(
        self,
        sku: str,
        *,
        title: str | None = None,
        price: Decimal | float | int | str | None = None,
        quantity: int | None = 0,
        product_type: str = "PRODUCT",
    ) -> None:
        """Create (or update) the listing ``sku`` with an item_name, a purchasable_offer (``price`` in the
        marketplace currency) and a DEFAULT fulfillment_availability of ``quantity``. ``None`` leaves a field out
        (or as it was)."""
        emu = self._emu
        listing = emu.listings.get(sku)
        if listing is None:
            listing = emu.listings[sku] = emu.new_listing(sku, product_type)
        marketplace, currency = emu.config.marketplace_id, emu.config.currency
        if title is not None:
            listing.attributes["item_name"] = [{"value": title, "language_tag": "en_US", "marketplace_id": marketplace}]
        amount = _money(price)
        if amount is not None:
            listing.attributes["purchasable_offer"] = [
                {
                    "marketplace_id": marketplace,
                    "currency": currency,
                    "audience": "ALL",
                    "our_price": [{"schedule": [{"value_with_tax": float(amount)}]}],
                }
            ]
        if quantity is not None:
            if quantity < 0:
                raise ValueError(f"quantity must be >= 0, got {quantity}")
            listing.set_quantity(quantity)
        listing.updated = emu.now()

    def has_listing(self, sku: str) -> bool:
        return sku in self._emu.listings

    def listing_quantity(self, sku: str) -> int | None:
        """The DEFAULT (merchant-fulfilled) quantity Amazon shows, None when unknown or unset."""
        self._emu.advance_feeds()
        self._emu.settle_listings()
        listing = self._emu.listings.get(sku)
        return None if listing is None else listing.quantity

    def listing_title(self, sku: str) -> str | None:
        self._emu.advance_feeds()
        self._emu.settle_listings()
        listing = self._emu.listings.get(sku)
        return None if listing is None else listing.title

    def listing_price(self, sku: str) -> str | None:
        """``our_price`` as a decimal string (``"19.99"``), None when unknown or unset."""
        self._emu.advance_feeds()
        self._emu.settle_listings()
        listing = self._emu.listings.get(sku)
        return None if listing is None else listing.price

    def listing_attributes(self, sku: str) -> dict[str, Any]:
        """A copy of the stored attributes (Amazon's shape)."""
        self._emu.advance_feeds()
        self._emu.settle_listings()
        return copy.deepcopy(self._emu.listings[sku].attributes)

    # -- orders ------------------------------------------------------------------------------------------------

    def create_order(
        self,
        sku: str | None = None,
        quantity: int = 1,
        *,
        status: str = "Unshipped",
        price: Decimal | float | int | str | None = None,
        lines: Sequence[tuple[str, int]] | None = None,
        shipping_address: Mapping[str, Any] | None = DEFAULT_SHIPPING_ADDRESS,
        pickup_at: str | None = None,
    ) -> str:
        """A buyer orders ``quantity`` of ``sku`` (or several ``lines`` of ``(sku, quantity)``) at ``price`` per
        unit (default: the listing's price), shipping to ``shipping_address`` (Orders v0 ``Address`` fields;
        default a sample buyer's, None: none), or for in-store pickup at the supply source ``pickup_at``
        (``IsISPU``; added to the seller's supply sources). Sends ORDER_CHANGE. Returns the AmazonOrderId."""
        wanted = list(lines) if lines is not None else ([(sku, quantity)] if sku is not None else [])
        if not wanted:
            raise ValueError("create_order needs a sku or lines")
        unit = _money(price)
        if shipping_address is not None and not isinstance(shipping_address.get("CountryCode"), str):
            raise ValueError("shipping_address needs a CountryCode")
        if pickup_at is not None:
            self.add_supply_source(pickup_at)
        lines_ = [(s, int(q), unit) for s, q in wanted]
        return self._emu.create_order(lines_, status, shipping_address, pickup_at).order_id

    def pickup_status(self, order_id: str) -> str | None:
        """The last ``updateShipmentStatus`` applied to an in-store pickup order (None: none yet)."""
        return self._emu.orders.get(order_id).pickup_status

    def set_order_status(self, order_id: str, status: str) -> dict[str, Any]:
        """Move the order to ``status`` (sends ORDER_CHANGE when it changes); returns the Order."""
        return dict(self._emu.set_order_status(order_id, status).order)

    def ship_order(self, order_id: str) -> dict[str, Any]:
        return self.set_order_status(order_id, "Shipped")

    def cancel_order(self, order_id: str) -> dict[str, Any]:
        return self.set_order_status(order_id, "Canceled")

    def order(self, order_id: str) -> dict[str, Any]:
        return dict(self._emu.orders.get(order_id).order)

    def order_ids(self) -> list[str]:
        return list(self._emu.orders.orders)

    def order_items(self, order_id: str) -> list[dict[str, Any]]:
        """Copies of the order's ``OrderItem`` objects (``OrderItemId``, ``QuantityShipped``...)."""
        return [dict(item) for item in self._emu.orders.get(order_id).items]

    def packages(self, order_id: str) -> dict[str, dict[str, Any]]:
        """The packages confirmShipment recorded for the order, by ``packageReferenceId`` (the ``PackageDetail``
        as last sent, plus ``createdTime``)."""
        return copy.deepcopy(self._emu.orders.get(order_id).packages)

    def add_supply_source(self, supply_source_id: str) -> None:
        """Make ``supply_source_id`` one of the seller's supply sources (a valid ``shipFromSupplySourceId``)."""
        if supply_source_id not in self._emu.config.supply_source_ids:
            self._emu.config.supply_source_ids.append(supply_source_id)

    # -- returns report ---------------------------------------------------------------------------------------

    def add_return(
        self,
        sku: str,
        quantity: int = 1,
        *,
        order_id: str | None = None,
        status: str = "Approved",
        requested_at: datetime | None = None,
        rma_id: str | None = None,
        reason: str = "UNWANTED_ITEM",
        delivered_at: datetime | None = None,
        refunded: str | None = None,
        **columns: str,
    ) -> dict[str, str]:
        """A returns report row (one SKU of one return request; Amazon's column names, see
        :data:`connectors.amazon.returns_report.COLUMNS`, others via ``columns`` with ``_`` for blanks, e.g.
        ``Tracking_ID="1Z..."``). ``order_id`` defaults to a new id, ``rma_id`` to one derived from it,
        ``requested_at`` to now. Reports created from now on whose range holds ``requested_at`` list it."""
        emu = self._emu
        if quantity < 1:
            raise ValueError(f"quantity must be >= 1, got {quantity}")
        when = requested_at or emu.now()
        order = order_id or emu.orders.new_order_id()
        values = {
            "Order ID": order,
            "Order date": format_time(when - timedelta(days=7)),
            "Return request date": format_time(when),
            "Return request status": status,
            "Amazon RMA ID": rma_id or f"D{emu.rng.randrange(10**9, 10**10)}",
            "Label type": "AmazonUnPaidLabel",
            "Currency code": emu.config.currency,
            "Merchant SKU": sku,
            "Item Name": (emu.listings[sku].title if sku in emu.listings else None) or sku,
            "Return quantity": str(quantity),
            "Return Reason": reason,
            "In policy": "Y",
            "Return type": "C-Returns",
            "Order quantity": str(quantity),
            **({"Return delivery date": format_time(delivered_at)} if delivered_at else {}),
            **({"Refunded Amount": refunded} if refunded is not None else {}),
            **{name.replace("_", " "): value for name, value in columns.items()},
        }
        emu.reports.add(values, when)
        return values

    def add_raw_return_row(self, line: str, *, requested_at: datetime | None = None) -> None:
        """A returns report line exactly as given (tab-separated; for malformed rows)."""
        self._emu.reports.add_raw(line, requested_at or self._emu.now())

    def fail_next_report(self, count: int = 1) -> None:
        """The next ``count`` reports end FATAL."""
        self._emu.reports.fail_next += count

    def reports(self) -> list[dict[str, Any]]:
        """Every report created (``Report`` as getReport shows it now)."""
        delay = timedelta(seconds=self._emu.config.report_processing_s)
        return [report.view(self._emu.now(), delay) for report in self._emu.reports.reports.values()]

    # -- traffic and feeds -------------------------------------------------------------------------------------

    def calls(self) -> dict[str, int]:
        """Requests per operationId that passed auth and the rate limit (``{"createFeed": 1, ...}``)."""
        return dict(self._emu.calls)

    def api_requests(self) -> int:
        return self._emu.api_requests

    def refused_requests(self) -> int:
        return self._emu.refused

    def feeds(self) -> list[dict[str, Any]]:
        """Every feed as getFeed shows it, oldest first."""
        self._emu.advance_feeds()
        self._emu.settle_listings()
        return [feed.to_json() for feed in self._emu.feeds.values()]

    def report(self, feed_id: str) -> dict[str, Any] | None:
        """The processing report of a finished feed (uncompressed), None while it runs."""
        self._emu.advance_feeds()
        self._emu.settle_listings()
        report = self._emu.feeds[feed_id].report
        return None if report is None else copy.deepcopy(report)

    def feed_document(self, feed_id: str) -> bytes | None:
        """The document body the feed was created with (None when nothing was uploaded)."""
        return self._emu.feeds[feed_id].body

    def uploaded_documents(self) -> dict[str, bytes]:
        """Every uploaded input document by feedDocumentId."""
        return {
            doc_id: doc.body
            for doc_id, doc in self._emu.documents.items()
            if doc.kind == "input" and doc.body is not None
        }

    def process_feeds(self) -> None:
        """Finish every queued or running feed now, whatever the clock says."""
        self._emu.advance_feeds(force=True)

    def notifications(self) -> list[dict[str, Any]]:
        """Every notification body published so far (the queue), oldest first."""
        self._emu.advance_feeds()
        self._emu.settle_listings()
        return copy.deepcopy(self._emu.notifications)

    def set_notification_url(self, url: str | None) -> None:
        self._emu.config.notification_url = url
        self._emu.webhooks.set_url(url)

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait until queued notification deliveries are delivered or given up."""
        self._emu.advance_feeds()
        self._emu.settle_listings()
        await self._emu.webhooks.drain(timeout=timeout)

    # -- tokens and failures -----------------------------------------------------------------------------------

    def issue_access_token(self) -> str:
        """An access token as LWA would issue it (skips the token exchange in tests)."""
        return self._emu.issue_token()

    def expire_access_tokens(self) -> None:
        """Make every issued access token expired (the next SP-API call gets 403 Unauthorized)."""
        now = self._emu.now()
        for token in self._emu.tokens.values():
            token.expires = now

    def fail_next(self, status: int, *, count: int = 1) -> None:
        """Answer the next ``count`` SP-API requests with ``status`` and Amazon's error body for it."""
        if not 400 <= status <= 599:
            raise ValueError(f"status must be a 4xx or 5xx, got {status}")
        self._emu.injected.extend([status] * count)

    def lose_next_response(self, *, count: int = 1) -> None:
        """Apply the next ``count`` write requests (patchListingsItem, createFeedDocument, createFeed), then
        answer 503 ServiceUnavailable."""
        self._emu.lose_next += count

    # -- EmulatorControl hooks ---------------------------------------------------------------------------------

    def seed_stock(self, sku: str, location_ref: str, quantity: int) -> None:
        """Amazon has one merchant-fulfilled quantity per SKU; ``location_ref`` is ignored."""
        if sku not in self._emu.listings:
            self.seed_listing(sku, title=sku, price="10.00", quantity=quantity)
        else:
            self.seed_listing(sku, quantity=quantity)

    def shown_stock(self, sku: str, location_ref: str) -> int:
        return self.listing_quantity(sku) or 0

    def place_order(self, sku: str, location_ref: str, quantity: int) -> str:
        return self.create_order(sku, quantity)

    def order_cancelled(self, order_ref: str) -> bool:
        return self._emu.orders.get(order_ref).status == "Canceled"

    def listing(self, sku: str) -> tuple[str | None, str | None]:
        return self.listing_title(sku), self.listing_price(sku)
