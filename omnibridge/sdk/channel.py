"""The runtime contract between the sync engine and a sales-channel connector.

A sales channel (store front, marketplace, POS) is anything that shows stock to buyers and takes orders. The
engine talks to it only through :class:`ChannelConnector`, in the channel's *own* vocabulary: SKUs as the
channel spells them and the channel's location ids. The engine maps both to omnibridge's master SKUs and
location ids through the profile's mapping tables; a connector never sees the ledger.

Flow, as the engine drives it::

    pull_events(bookmark) ──► OrderEvent / RefundEvent / StockChangeEvent ──► ledger movements
    webhook: verify_webhook(raw) ─► inbox (dedupe on delivery_id) ─► webhook_events(delivery) ─► same as above
    read_levels(skus) ──► what the channel shows now ─► compare with the ledger's projection
    push_levels(targets) ──► compare-and-set where the channel supports it; a per-target PushResult

Contracts every implementation keeps:

* Reads never change the channel. ``pull_events`` returns every event changed at or after the bookmark's
  instant (windows may overlap; the engine's idempotency keys absorb repeats) and a new bookmark that never
  moves backwards.
* Every event has a stable ``ref`` built from the vendor's own ids, so the same business fact gives the same
  ref however it arrives (poll or webhook, first delivery or retry).
* Stock changes made *by omnibridge* (its own pushes, recognisable by the reference the connector attached) are
  never reported as :class:`StockChangeEvent`: no echo.
* ``push_levels`` returns exactly one :class:`PushResult` per target, in order. One bad target never fails the
  others. A failure that ends the batch before anything of it was written raises a
  :class:`~omnibridge.errors.ConnectorError` (the engine then treats every target of the batch as ``UNKNOWN`` and
  backs the channel off). Once part of the batch has landed the connector never raises for the rest: the landed
  targets are ``APPLIED`` and the others get a result each — ``FAILED`` only for a definite refusal,
  ``UNKNOWN`` when the write may or may not have landed (a timeout, a 5xx after the request was sent) or was
  never sent because the batch broke off before it (:func:`unsettled` builds both from the error).
* ``verify_webhook`` is pure and raises :class:`~omnibridge.errors.WebhookError` for a forged, unsigned or
  malformed delivery; it never does I/O. ``webhook_events`` may call the vendor (e.g. to fetch the order a
  notification points at).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from omnibridge.errors import FatalConnectorError
from omnibridge.sdk.mapping import MapMessage
from omnibridge.sdk.pickup import PickupDetails, PickupEvent
from omnibridge.sdk.privacy import PrivacyRequestEvent
from omnibridge.sdk.returns import ReturnEvent
from omnibridge.sdk.webhooks import WebhookDelivery

__all__ = [
    "ChannelConnector",
    "ChannelEvent",
    "ChannelLocation",
    "CustomerRef",
    "FulfilmentEvent",
    "FulfilmentLineEvent",
    "FulfilmentStatus",
    "FulfilmentStatusEvent",
    "OrderEvent",
    "OrderEventKind",
    "OrderLineEvent",
    "PullResult",
    "PushResult",
    "PushStatus",
    "RefundEvent",
    "RefundLineEvent",
    "RestockType",
    "ShipTo",
    "StockChangeEvent",
    "StockChangeKind",
    "StockLevel",
    "StockObservedEvent",
    "StockTarget",
    "unsettled",
    "unsettled_status",
]


def _require_aware(name: str, value: datetime | None) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True, slots=True)
class ChannelLocation:
    """A location as the channel knows it. ``external_id`` is what every other record refers to."""

    external_id: str
    name: str
    active: bool = True


@dataclass(frozen=True, slots=True)
class StockLevel:
    """The sellable quantity the channel shows for one SKU at one of its locations, and when it was read."""

    sku: str
    location_ref: str
    available: int
    observed_at: datetime

    def __post_init__(self) -> None:
        _require_aware("observed_at", self.observed_at)


@dataclass(frozen=True, slots=True)
class StockTarget:
    """What the engine wants the channel to show.

    ``expected`` is the value the engine last read from the channel (``expected_at`` when): connectors with
    compare-and-set send it as the compare value; connectors without it may use ``expected_at`` to order an
    absolute write after that read (Square applies changes by ``occurred_at``). ``reference`` is the engine's
    id for this push; connectors attach it to the write so their own changes are recognisable later (and may
    derive idempotency keys from it, see :mod:`omnibridge.sdk.idempotency`).

    ``retry_stale``: when the channel refuses a compare-and-set because the level moved, a connector may re-read
    and retry with the fresh compare value (True, the default) — or, when False, must report ``STALE`` without
    retrying: the engine then reads the channel and decides itself (the move may be a sale it has not imported).
    """

    sku: str
    location_ref: str
    quantity: int
    expected: int | None = None
    expected_at: datetime | None = None
    reference: str = ""
    retry_stale: bool = True

    def __post_init__(self) -> None:
        _require_aware("expected_at", self.expected_at)


class PushStatus(StrEnum):
    """The outcome of one target."""

    APPLIED = "applied"
    """The channel now shows ``quantity``."""
    UNCHANGED = "unchanged"
    """A fresh read showed the channel already at ``quantity``; nothing was written."""
    STALE = "stale"
    """Compare-and-set kept failing because the channel kept changing; retry on the next cycle."""
    UNKNOWN_SKU = "unknown_sku"
    """The channel has no item with this SKU (or it is not stocked at that location)."""
    FAILED = "failed"
    """The channel refused this target (a definite refusal: nothing was written); ``message`` says why."""
    UNKNOWN = "unknown"
    """The write may or may not have landed — a timeout or a failure after sending (or it was never sent because
    its batch broke off before it); ``message`` says why. The engine forgets what the channel is known to show
    there and re-reads it before writing again."""


@dataclass(frozen=True, slots=True)
class PushResult:
    """The outcome of one :class:`StockTarget`. ``shown`` is what the channel shows afterwards, when known."""

    target: StockTarget
    status: PushStatus
    shown: int | None = None
    message: str = ""


def unsettled(target: StockTarget, error: Exception, *, sent: bool = True) -> PushResult:
    """The result of ``target`` when its part of a batch failed with ``error`` after other parts had landed.

    Sent: ``FAILED`` when the vendor refused it (a :class:`~omnibridge.errors.FatalConnectorError`: auth, a
    permanent 4xx — nothing was written), else ``UNKNOWN`` (a timeout, a 5xx or a 429 that outlasted the retries:
    it may have landed). Not ``sent`` (the batch broke off before it): ``UNKNOWN``, so the engine re-reads the
    position before it writes there again.
    """
    if not sent:
        return PushResult(target, PushStatus.UNKNOWN, message=f"not sent: an earlier part of the batch failed: {error}")
    return PushResult(target, unsettled_status(error), message=str(error))


def unsettled_status(error: Exception) -> PushStatus:
    """``FAILED`` for a definite refusal (:class:`~omnibridge.errors.FatalConnectorError`), else ``UNKNOWN``."""
    return PushStatus.FAILED if isinstance(error, FatalConnectorError) else PushStatus.UNKNOWN


class OrderEventKind(StrEnum):
    """What happened to an order, as far as stock is concerned."""

    PLACED = "placed"
    """Sold but not yet handed over (online order): the units are committed at ``location_ref``."""
    COMPLETED = "completed"
    """Sold and handed over (POS sale): the units have left ``location_ref``."""
    CANCELLED = "cancelled"
    """Cancelled before hand-over: commitments taken for it are released."""
    UPDATED = "updated"
    """Changed in a way that does not move stock (payment, tags...)."""


@dataclass(frozen=True, slots=True)
class OrderLineEvent:
    """One line of an order. ``line_ref`` is the vendor's line id, stable for the life of the order."""

    line_ref: str
    sku: str | None
    quantity: int
    location_ref: str | None = None
    unit_price: str | None = None


@dataclass(frozen=True, slots=True)
class ShipTo:
    """Where an order ships, as the channel gives it: only what a carrier label needs (personal data kept minimal).

    ``country`` is the ISO 3166-1 alpha-2 code (``US``); ``region`` the state or province code; every other field
    may be missing (a channel that withholds the street, Amazon without a Restricted Data Token, sends only
    city, region, postal code and country). ``phone`` only when the channel gives one.
    """

    country: str
    name: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    phone: str | None = None
    latitude: float | None = None
    """WGS84 latitude of the address when the channel geocodes it (Shopify does), for nearest-location routing."""
    longitude: float | None = None
    """WGS84 longitude, given together with ``latitude``."""


@dataclass(frozen=True, slots=True)
class CustomerRef:
    """Who placed an order, as the channel gives it: ``ref`` is the channel's customer id; the contact details
    only where the channel shares them (omnibridge resolves them into one customer across channels)."""

    ref: str
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """An order created or changed on the channel. ``ref`` is the vendor's order id; ``name`` the number or name
    merchants see (Shopify ``#1001``), which ``omnibridge orders`` and ``shipments ship`` accept too. ``ship_to``
    is the address the order ships to, when the channel gives one (None: not given, or a counter sale); ``customer``
    who placed it, when the channel says (None: a guest or not shared); ``pickup`` how it is collected, when it is."""

    ref: str
    kind: OrderEventKind
    occurred_at: datetime
    lines: tuple[OrderLineEvent, ...]
    name: str = ""
    currency: str | None = None
    total: str | None = None
    status: str = ""
    ship_to: ShipTo | None = None
    customer: CustomerRef | None = None
    pickup: PickupDetails | None = None
    """Set when the customer collects the order (click-and-collect or curbside) instead of having it shipped."""

    def __post_init__(self) -> None:
        _require_aware("occurred_at", self.occurred_at)


class RestockType(StrEnum):
    """What a refund does with the units (Shopify's ``restock_type`` values)."""

    NO_RESTOCK = "no_restock"
    CANCEL = "cancel"
    """The units never left: release the commitment."""
    RETURN = "return"
    """The units came back to ``location_ref``."""


@dataclass(frozen=True, slots=True)
class RefundLineEvent:
    line_ref: str
    sku: str | None
    quantity: int
    restock_type: RestockType
    location_ref: str | None = None


@dataclass(frozen=True, slots=True)
class RefundEvent:
    """A refund (or return) on the channel. ``ref`` is the vendor's refund id, ``order_ref`` its order's id."""

    ref: str
    order_ref: str
    occurred_at: datetime
    lines: tuple[RefundLineEvent, ...]

    def __post_init__(self) -> None:
        _require_aware("occurred_at", self.occurred_at)


@dataclass(frozen=True, slots=True)
class FulfilmentLineEvent:
    """Units of one order line that left. ``line_ref`` is the order line's own ref (as in :class:`OrderLineEvent`)."""

    line_ref: str
    sku: str | None
    quantity: int


@dataclass(frozen=True, slots=True)
class FulfilmentEvent:
    """Units of an order shipped or handed over from ``location_ref`` (a Shopify fulfillment, a partial shipment).

    ``ref`` is the vendor's id of the fulfilment, stable across deliveries; ``order_ref`` the order's. The engine
    turns each line into a shipment of the order line's commitment at that location, once per fulfilment line.
    A channel whose orders simply complete (a POS sale) keeps sending :attr:`OrderEventKind.COMPLETED` instead.
    """

    ref: str
    order_ref: str
    occurred_at: datetime
    lines: tuple[FulfilmentLineEvent, ...]
    location_ref: str | None = None
    tracking_number: str | None = None
    carrier: str | None = None

    def __post_init__(self) -> None:
        _require_aware("occurred_at", self.occurred_at)


class FulfilmentStatus(StrEnum):
    """What a provider said about a request, after taking it."""

    ACKNOWLEDGED = "acknowledged"
    """It will ship it (a supplier's acknowledgement)."""
    REJECTED = "rejected"
    """It will not (out of stock, cannot reach the address): omnibridge re-routes without it."""
    CANCELLED = "cancelled"
    """It cancelled what it had accepted: omnibridge re-routes what did not ship."""


@dataclass(frozen=True, slots=True)
class FulfilmentStatusEvent:
    """A provider's word on the request ``reference`` (``ref``: the vendor's id of this message, stable across
    deliveries)."""

    ref: str
    reference: str
    status: FulfilmentStatus
    occurred_at: datetime
    reason: str = ""

    def __post_init__(self) -> None:
        _require_aware("occurred_at", self.occurred_at)


class StockChangeKind(StrEnum):
    """A stock change people made on the channel itself (not an order, not omnibridge)."""

    RECEIPT = "receipt"
    """``quantity`` units were received (positive)."""
    ADJUSTMENT = "adjustment"
    """On hand changed by ``quantity`` (signed): damage, shrinkage, corrections."""
    COUNT = "count"
    """A stock take: ``quantity`` is the absolute count at ``occurred_at``."""


@dataclass(frozen=True, slots=True)
class StockChangeEvent:
    """A stock change made on the channel. ``ref`` is the vendor's change id."""

    ref: str
    kind: StockChangeKind
    sku: str
    location_ref: str
    quantity: int
    occurred_at: datetime

    def __post_init__(self) -> None:
        _require_aware("occurred_at", self.occurred_at)


@dataclass(frozen=True, slots=True)
class StockObservedEvent:
    """The channel reports a level (``inventory_levels/update``...). It never creates a movement by itself:
    the engine re-reads and reconciles that SKU, which is how our own writes coming back stay harmless."""

    sku: str | None
    location_ref: str
    available: int | None
    observed_at: datetime
    item_ref: str | None = None

    def __post_init__(self) -> None:
        _require_aware("observed_at", self.observed_at)


ChannelEvent = (
    OrderEvent
    | RefundEvent
    | FulfilmentEvent
    | FulfilmentStatusEvent
    | StockChangeEvent
    | StockObservedEvent
    | PrivacyRequestEvent
    | PickupEvent
    | ReturnEvent
)


@dataclass(frozen=True, slots=True)
class PullResult:
    """Events since a bookmark. ``bookmark`` is opaque to the engine and is stored only after the events are
    applied; ``messages`` report records that were skipped (with the reason) without failing the pull."""

    events: list[ChannelEvent]
    bookmark: str | None
    messages: list[MapMessage] = field(default_factory=list)


@runtime_checkable
class ChannelConnector(Protocol):
    """A live connection to one sales channel; built by the connector spec's ``factory`` from its settings."""

    async def list_locations(self) -> list[ChannelLocation]:
        """Every location of the channel that can hold stock."""
        ...

    async def read_levels(self, skus: Sequence[str]) -> list[StockLevel]:
        """What the channel shows for these SKUs at every location; SKUs the channel lacks are left out."""
        ...

    async def push_levels(self, targets: Sequence[StockTarget]) -> list[PushResult]:
        """Make the channel show each target's quantity; one result per target, in order (see module doc)."""
        ...

    async def pull_events(self, bookmark: str | None) -> PullResult:
        """Orders, refunds and stock changes at or after ``bookmark`` (``None``: the connector's look-back)."""
        ...

    def verify_webhook(self, raw_body: bytes, headers: Mapping[str, str], url: str) -> WebhookDelivery:
        """Check the signature and identify the delivery; raise ``WebhookError`` if forged or malformed."""
        ...

    async def webhook_events(self, delivery: WebhookDelivery) -> list[ChannelEvent]:
        """The events a verified delivery carries (may fetch from the vendor what the notification names)."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class OrderCanceller(Protocol):
    """Optional: a channel connector that can cancel an order on the channel (declare ``orders.cancel``).

    The oversell resolver calls it for an order it put on hold. ``cancel_order`` must be safe to call again
    for an order already cancelled (return normally); it raises ``ConnectorError`` when the channel refuses.
    The cancellation comes back as the channel's own cancelled-order event, which releases what is left.
    """

    async def cancel_order(self, order_ref: str, reason: str) -> None:
        """Cancel the order ``order_ref`` (the ref of its events) on the channel, restocking its items."""
        ...


@runtime_checkable
class CatalogAware(Protocol):
    """Optional, for a stock source that applies a batch whole or not at all (an ERP/WMS file): before each pull the
    engine tells it which SKUs (in the channel's spelling, after ``sku_aliases``) and location refs omnibridge knows,
    so a batch naming any other is refused whole with the reason, instead of its rows being skipped one by one."""

    def use_catalog(self, known_sku: Callable[[str], bool], known_location: Callable[[str], bool]) -> None:
        """Remember the predicates for the following pulls."""
        ...


def unique_skus(skus: Sequence[str]) -> list[str]:
    """``skus`` without repeats, in first-seen order (a helper for ``read_levels`` implementations)."""
    return list(dict.fromkeys(skus))
