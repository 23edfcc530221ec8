"""The database tables (SQLModel over SQLAlchemy 2). Private to the store: callers see canonical models only.

Nested value objects (addresses, money, attributes, lines) are JSON columns holding the canonical model's
``model_dump(mode="json")``; everything that is queried or constrained is a real column. The migrations
(``0001_initial``, ``0002_sync_state``, ``0003_propagation``) create exactly this schema; the store contract test
checks that the two never drift.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from omnibridge.store.types import UTCDateTime

_registry = registry(
    metadata=sa.MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
)


class StoreModel(SQLModel, registry=_registry):
    """Base of the store's tables. Their own registry keeps them out of ``SQLModel.metadata``, so other
    packages' tables never leak into this schema or its migrations."""


metadata: sa.MetaData = _registry.metadata

JsonObject = dict[str, Any]


def _ts(*, nullable: bool) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable)


class ProductRow(StoreModel, table=True):
    __tablename__ = "products"

    id: str = Field(primary_key=True, max_length=255)
    title: str
    product_type: str | None = None
    vendor: str | None = None
    attributes: JsonObject = Field(default_factory=dict, sa_type=sa.JSON, nullable=False)


class VariantRow(StoreModel, table=True):
    __tablename__ = "variants"

    sku: str = Field(primary_key=True, max_length=255)
    product_id: str = Field(foreign_key="products.id", ondelete="CASCADE", index=True, max_length=255)
    title: str | None = None
    barcodes: list[str] = Field(default_factory=list, sa_type=sa.JSON, nullable=False)
    option_values: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON, nullable=False)
    price: JsonObject | None = Field(default=None, sa_type=sa.JSON)
    weight_grams: int | None = None
    tracked: bool = True
    allow_backorder: bool = False


class LocationRow(StoreModel, table=True):
    __tablename__ = "locations"

    id: str = Field(primary_key=True, max_length=64)
    name: str
    type: str = Field(max_length=32)
    address: JsonObject | None = Field(default=None, sa_type=sa.JSON)
    coordinates: JsonObject | None = Field(default=None, sa_type=sa.JSON)
    capabilities: list[str] = Field(default_factory=list, sa_type=sa.JSON, nullable=False)
    pickup_hours: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON, nullable=False)
    active: bool = True


class PositionRow(StoreModel, table=True):
    __tablename__ = "inventory_positions"

    sku: str = Field(primary_key=True, max_length=255)
    location_id: str = Field(primary_key=True, max_length=255)
    on_hand: int = 0
    committed: int = 0
    reserved: int = 0
    safety_stock: int = 0
    incoming: int = 0
    updated_at: datetime | None = _ts(nullable=True)


class MovementRow(StoreModel, table=True):
    __tablename__ = "stock_movements"
    __table_args__ = (
        sa.UniqueConstraint("idempotency_key"),
        sa.Index("ix_stock_movements_position_time", "sku", "location_id", "occurred_at"),
        # the latest count at a position, looked up by every movement (0006)
        sa.Index("ix_stock_movements_position_kind_time", "sku", "location_id", "kind", "occurred_at"),
        sa.Index("ix_stock_movements_reference", "reference"),
        sa.Index("ix_stock_movements_recorded_at_id", "recorded_at", "id"),  # the warehouse export (0019)
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=255)
    fingerprint: str = Field(max_length=64)
    source: str = Field(max_length=128)
    kind: str = Field(max_length=32)
    sku: str = Field(max_length=255)
    location_id: str = Field(max_length=255)
    quantity: int
    counted_quantity: int | None = None
    delta_on_hand: int
    delta_committed: int
    delta_reserved: int
    delta_incoming: int
    occurred_at: datetime = _ts(nullable=False)
    recorded_at: datetime = _ts(nullable=False)
    reference: str | None = None
    note: str | None = None
    superseded_by_count: bool = False


class BindingRow(StoreModel, table=True):
    __tablename__ = "channel_bindings"
    __table_args__ = (
        sa.UniqueConstraint("channel", "record", "external_id"),
        sa.UniqueConstraint("channel", "record", "internal_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=128)
    record: str = Field(max_length=32)
    external_id: str = Field(max_length=255)
    internal_id: str = Field(max_length=255)
    extra: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON, nullable=False)


class OrderRow(StoreModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        sa.UniqueConstraint("channel", "external_id"),
        sa.Index("ix_orders_channel_number", "channel", "number"),  # 0010_orders_number
        sa.Index("ix_orders_updated_at_id", "updated_at", "id"),  # the warehouse export (0019)
    )

    id: str = Field(primary_key=True, max_length=255)
    channel: str = Field(max_length=128)
    external_id: str = Field(max_length=255)
    number: str | None = None
    status: str = Field(max_length=32)
    fulfilment_method: str = Field(max_length=32)
    pickup_location_id: str | None = None
    lines: list[JsonObject] = Field(default_factory=list, sa_type=sa.JSON, nullable=False)
    ship_to: JsonObject | None = Field(default=None, sa_type=sa.JSON)
    customer_id: str | None = Field(default=None, index=True)
    total: JsonObject | None = Field(default=None, sa_type=sa.JSON)
    placed_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)
    priority: int = 0


class ShipmentRow(StoreModel, table=True):
    __tablename__ = "shipments"
    __table_args__ = (sa.Index("ix_shipments_created_at_id", "created_at", "id"),)  # the warehouse export (0019)

    id: str = Field(primary_key=True, max_length=255)
    order_id: str = Field(index=True, max_length=255)
    from_location_id: str = Field(max_length=255)
    carrier: str = Field(max_length=64)
    service: str | None = None
    tracking_number: str | None = Field(default=None, index=True)
    label_url: str | None = None
    cost: JsonObject | None = Field(default=None, sa_type=sa.JSON)
    ship_to: JsonObject | None = Field(default=None, sa_type=sa.JSON)
    lines: list[JsonObject] = Field(default_factory=list, sa_type=sa.JSON, nullable=False)
    status: str = Field(max_length=32)
    created_at: datetime = _ts(nullable=False)


class TrackingEventRow(StoreModel, table=True):
    __tablename__ = "shipment_tracking_events"
    __table_args__ = (
        sa.UniqueConstraint("shipment_id", "occurred_at", "carrier_status", name="uq_tracking_events_event"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shipment_id: str = Field(foreign_key="shipments.id", ondelete="CASCADE", max_length=255)
    status: str = Field(max_length=32)
    carrier_status: str
    occurred_at: datetime = _ts(nullable=False)
    message: str | None = None
    location: str | None = None


class ReturnRow(StoreModel, table=True):
    """A return (RMA). ``external_id`` is the channel's id of it (unique per channel); ``status`` a
    :class:`~omnibridge.sdk.returns.ReturnState`. ``0017_returns`` added where it comes back (``at_store``), its
    label (``carrier``, ``tracking_number``, ``label_url``), ``reason``, ``event_at`` (the newest channel event
    applied: an older one never undoes it) and ``updated_at``; its units are in ``return_lines``."""

    __tablename__ = "returns"
    __table_args__ = (
        sa.UniqueConstraint("channel", "external_id", name="uq_returns_channel_external_id"),
        sa.Index("ix_returns_created_at_id", "created_at", "id"),  # the warehouse export (0019)
    )

    id: str = Field(primary_key=True, max_length=255)
    order_id: str = Field(index=True, max_length=255)
    channel: str = Field(max_length=128)
    external_id: str | None = None
    location_id: str | None = None
    status: str = Field(max_length=32)
    lines: list[JsonObject] = Field(default_factory=list, sa_type=sa.JSON, nullable=False)
    refund: JsonObject | None = Field(default=None, sa_type=sa.JSON)
    created_at: datetime = _ts(nullable=False)
    at_store: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    carrier: str | None = None
    tracking_number: str | None = None
    label_url: str | None = None
    reason: str | None = None
    event_at: datetime | None = _ts(nullable=True)
    updated_at: datetime | None = _ts(nullable=True)


class ReturnLineRow(StoreModel, table=True):
    """One order line's units in a return (``0017_returns``) and the disposition of every unit: ``restocked`` at
    ``location_id``, ``damaged``, ``inspect`` (held until decided), ``missing``; the rest are not received yet.
    ``channel_line_ref`` is the channel's id of the return line; ``decisions`` counts the decisions on inspected
    units (each restock's idempotency key names its step)."""

    __tablename__ = "return_lines"

    id: str = Field(primary_key=True, max_length=800)
    return_id: str = Field(index=True, max_length=255)
    position: int
    order_line_id: str = Field(index=True, max_length=800)
    sku: str = Field(max_length=255)
    quantity: int
    reason: str | None = None
    channel_line_ref: str | None = None
    restocked: int = 0
    damaged: int = 0
    inspect: int = 0
    missing: int = 0
    location_id: str | None = Field(default=None, max_length=255)
    decisions: int = 0


class CustomerRow(StoreModel, table=True):
    """A canonical customer. ``email_key``/``phone_key`` (``0015_customers``) are the lookup keys of the normalised
    email and E.164 phone (see :mod:`omnibridge.customers.identity`); ``merged_into`` names the customer this one
    was merged into (a merged customer keeps no identities)."""

    __tablename__ = "customers"

    id: str = Field(primary_key=True, max_length=255)
    email: str | None = Field(default=None, index=True)
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    default_address: JsonObject | None = Field(default=None, sa_type=sa.JSON)
    consent: JsonObject = Field(default_factory=dict, sa_type=sa.JSON, nullable=False)
    redacted_at: datetime | None = _ts(nullable=True)
    email_key: str | None = Field(default=None, max_length=128, index=True)
    phone_key: str | None = Field(default=None, max_length=128, index=True)
    merged_into: str | None = Field(default=None, max_length=255)


class CustomerIdentityRow(StoreModel, table=True):
    """Who a customer is on one channel. ``email_key``/``phone_key`` and ``details`` (``0015_customers``): the
    lookup keys and the contact data that channel gave (kept per identity so a split can re-derive each side)."""

    __tablename__ = "customer_identities"

    channel: str = Field(primary_key=True, max_length=128)
    external_id: str = Field(primary_key=True, max_length=255)
    customer_id: str = Field(foreign_key="customers.id", ondelete="CASCADE", index=True, max_length=255)
    position: int = 0
    email_key: str | None = Field(default=None, max_length=128, index=True)
    phone_key: str | None = Field(default=None, max_length=128, index=True)
    details: JsonObject | None = Field(default=None, sa_type=sa.JSON)
    seen_at: datetime | None = _ts(nullable=True)


class ListingRow(StoreModel, table=True):
    __tablename__ = "listings"

    channel: str = Field(primary_key=True, max_length=128)
    sku: str = Field(primary_key=True, max_length=255)
    external_id: str | None = None
    title: str | None = None
    price: JsonObject | None = Field(default=None, sa_type=sa.JSON)
    compare_at_price: JsonObject | None = Field(default=None, sa_type=sa.JSON)
    status: str = Field(max_length=32)
    shown_quantity: int | None = None
    updated_at: datetime | None = _ts(nullable=True)


class SyncBookmarkRow(StoreModel, table=True):
    """Where each channel's pull got to (opaque to the store; the connector's own format)."""

    __tablename__ = "sync_bookmarks"

    channel: str = Field(primary_key=True, max_length=128)
    value: str
    updated_at: datetime = _ts(nullable=False)


class InboxRow(StoreModel, table=True):
    """Webhook deliveries, stored before they are acknowledged; the unique key makes a re-delivery a no-op.
    ``next_attempt_at`` and ``last_error`` (``0007_inbox_retries``): a pending entry whose fetch failed retriably
    waits until then, with the reason. ``discarded_at`` and ``discard_reason`` (``0009_discarded``): when and why a
    person set a dead entry aside (status ``discarded``). ``body_sha256`` (``0013_inbox_body_digest``): the hex
    SHA-256 of the signed body, unique per channel, so a captured body re-sent with fresh (unsigned) ids is a
    duplicate; NULL on entries stored before 0012."""

    __tablename__ = "webhook_inbox"
    __table_args__ = (
        sa.UniqueConstraint("channel", "dedupe_key"),
        sa.Index("ux_webhook_inbox_channel_body_sha256", "channel", "body_sha256", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=128)
    dedupe_key: str = Field(max_length=255)
    delivery_id: str = Field(max_length=255)
    event_id: str | None = Field(default=None, max_length=255)
    topic: str = Field(max_length=128)
    raw_body: bytes = Field(sa_type=sa.LargeBinary, nullable=False)
    headers: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON, nullable=False)
    received_at: datetime = _ts(nullable=False)
    status: str = Field(max_length=16, index=True)
    attempts: int = 0
    error: str | None = None
    processed_at: datetime | None = _ts(nullable=True)
    next_attempt_at: datetime | None = _ts(nullable=True)
    last_error: str | None = None
    discarded_at: datetime | None = _ts(nullable=True)
    discard_reason: str | None = None
    body_sha256: str | None = Field(default=None, max_length=64)


class ChannelLevelRow(StoreModel, table=True):
    """What each channel is known (expected) to show, per master SKU and profile location: ``quantity``, from
    our last write or read and the channel's own imported activity (``source``; ``unknown`` after a write of
    unknown outcome: not trusted until a read). ``shown`` is what it was last seen showing (as of ``shown_at``, in
    our clock or the vendor's); ``vendor_seen_at`` is the latest vendor time of a level the channel reported
    (a notification stamped before it is ignored); ``unexplained_since`` is set while the two differ and nothing
    explains it (see :mod:`omnibridge.sync.reconcile`)."""

    __tablename__ = "channel_levels"
    # the console's drift counts (0018_console)
    __table_args__ = (sa.Index("ix_channel_levels_unexplained_since", "unexplained_since", "channel"),)

    channel: str = Field(primary_key=True, max_length=128)
    sku: str = Field(primary_key=True, max_length=255)
    location_id: str = Field(primary_key=True, max_length=128)
    quantity: int
    source: str = Field(max_length=16)
    updated_at: datetime = _ts(nullable=False)
    shown: int | None = None
    shown_at: datetime | None = _ts(nullable=True)
    unexplained_since: datetime | None = _ts(nullable=True)
    vendor_seen_at: datetime | None = _ts(nullable=True)
    version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    """Bumped when what the channel is known to show changes (not by a level it reports): a channel's writer
    remembers a write only over the version it read."""
    basis_at: datetime | None = _ts(nullable=True)
    """``quantity`` already includes the channel's own events up to this time (``0023_level_basis``): set when a
    read replaced what was known, so an older event arriving later does not move it again."""


class OutboxRow(StoreModel, table=True):
    """A stock write recorded before it is sent; ``batch_key`` is the idempotency reference it is sent with."""

    __tablename__ = "push_outbox"

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=128)
    batch_key: str = Field(max_length=64)
    sku: str = Field(max_length=255)
    channel_sku: str = Field(max_length=255)
    location_id: str = Field(max_length=128)
    location_ref: str = Field(max_length=255)
    quantity: int
    expected: int | None = None
    expected_at: datetime | None = _ts(nullable=True)
    status: str = Field(max_length=16, index=True)
    message: str | None = None
    created_at: datetime = _ts(nullable=False)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True, index=True)  # 0017


class IncidentRow(StoreModel, table=True):
    """A decision the conflict resolver took (drift, oversell, race), with what happened and why."""

    __tablename__ = "incidents"
    __table_args__ = (sa.Index("ix_incidents_created_at_id", "created_at", "id"),)  # the warehouse export (0019)

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=255, unique=True)
    kind: str = Field(max_length=32, index=True)
    decision: str = Field(max_length=32)
    channel: str | None = Field(default=None, max_length=128)
    sku: str | None = Field(default=None, max_length=255)
    location_id: str | None = Field(default=None, max_length=128)
    order_id: str | None = Field(default=None, max_length=255)
    summary: str
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON, nullable=False)
    created_at: datetime = _ts(nullable=False)
    resolved_at: datetime | None = _ts(nullable=True)
    """When a person marked it resolved (``0012_access``); None while open."""
    resolved_by: str | None = Field(default=None, max_length=255)
    resolution: str | None = None


class OrderLineRow(StoreModel, table=True):
    """An order line as the ledger tracks it (``0006_order_lines``); movements reference it by ``id``."""

    __tablename__ = "order_lines"
    __table_args__ = (
        sa.Index("ix_order_lines_position_status", "sku", "location_id", "status"),
        sa.Index("ix_order_lines_updated_at_id", "updated_at", "id"),  # the warehouse export (0019)
    )

    id: str = Field(primary_key=True, max_length=512)
    channel: str = Field(max_length=128)
    order_ref: str = Field(max_length=255, index=True)
    line_ref: str = Field(max_length=255)
    sku: str = Field(max_length=255)
    quantity: int
    location_id: str | None = Field(default=None, max_length=255)
    channel_location_id: str | None = Field(default=None, max_length=255)
    status: str = Field(max_length=16)
    committed: int = 0
    shipped: int = 0
    cancelled: int = 0
    returned: int = 0
    version: int = 0
    placed_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)


class PendingWorkRow(StoreModel, table=True):
    """What the engine still has to do, kept across errors and restarts (``0006_order_lines``): a SKU to
    reconcile on a channel (``kind`` ``push``). ``seq`` grows with every mark, so finishing a pass removes only
    what was marked before it read the work."""

    __tablename__ = "pending_work"

    channel: str = Field(primary_key=True, max_length=128)
    kind: str = Field(primary_key=True, max_length=16)
    key: str = Field(primary_key=True, max_length=255)
    seq: int = 0
    marked_at: datetime = _ts(nullable=False)


def table(row: type[StoreModel]) -> sa.Table:
    """The Core ``Table`` behind a row class (for dialect inserts and bulk updates)."""
    result = row.__table__  # type: ignore[attr-defined]
    assert isinstance(result, sa.Table)
    return result


PRODUCTS = table(ProductRow)
VARIANTS = table(VariantRow)
LOCATIONS = table(LocationRow)
POSITIONS = table(PositionRow)
MOVEMENTS = table(MovementRow)
BINDINGS = table(BindingRow)
ORDERS = table(OrderRow)
SHIPMENTS = table(ShipmentRow)
TRACKING_EVENTS = table(TrackingEventRow)
RETURNS = table(ReturnRow)
RETURN_LINES = table(ReturnLineRow)
CUSTOMERS = table(CustomerRow)
CUSTOMER_IDENTITIES = table(CustomerIdentityRow)
LISTINGS = table(ListingRow)
SYNC_BOOKMARKS = table(SyncBookmarkRow)
INBOX = table(InboxRow)
CHANNEL_LEVELS = table(ChannelLevelRow)
OUTBOX = table(OutboxRow)
INCIDENTS = table(IncidentRow)
ORDER_LINES = table(OrderLineRow)
PENDING_WORK = table(PendingWorkRow)


class CarrierShipmentRow(StoreModel, table=True):
    """The carrier's side of a shipment (``0004_carrier_shipments``): the vendor shipment and chosen rate are
    stored *before* the label is bought, so a crash between the two resumes instead of buying again."""

    __tablename__ = "carrier_shipments"
    __table_args__ = (sa.UniqueConstraint("connector", "vendor_shipment_id"),)

    shipment_id: str = Field(primary_key=True, foreign_key="shipments.id", ondelete="CASCADE", max_length=255)
    connector: str = Field(max_length=128)
    vendor_shipment_id: str  # no length limit (0005): a karrio quote reference is the encoded request
    rate_id: str | None = Field(default=None, max_length=255)
    state: str = Field(max_length=16)
    carrier: str | None = Field(default=None, max_length=64)
    tracking_code: str | None = Field(default=None, max_length=255, index=True)
    label_url: str | None = None
    tracker_ref: str | None = Field(default=None, max_length=255)
    updated_at: datetime = _ts(nullable=False)


class CarrierTrackingRefRow(StoreModel, table=True):
    """Tracking updates already applied, by the carrier's event ref (webhooks and polls repeat them)."""

    __tablename__ = "carrier_tracking_refs"

    connector: str = Field(primary_key=True, max_length=128)
    ref: str = Field(primary_key=True, max_length=512)
    shipment_id: str = Field(foreign_key="shipments.id", ondelete="CASCADE", max_length=255)
    applied_at: datetime = _ts(nullable=False)


CARRIER_SHIPMENTS = table(CarrierShipmentRow)
CARRIER_TRACKING_REFS = table(CarrierTrackingRefRow)


class RoutingDecisionRow(StoreModel, table=True):
    """Every routing decision, with each candidate location and the rule that ranked or eliminated it
    (``0011_routing``). ``attempt`` counts the decisions of one order (1 = first routing, then re-routes)."""

    __tablename__ = "routing_decisions"
    __table_args__ = (sa.UniqueConstraint("order_id", "attempt"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(max_length=512, index=True)
    attempt: int
    decided_at: datetime = _ts(nullable=False)
    outcome: str = Field(max_length=16)
    strategy: str = Field(max_length=64)
    trigger: str = Field(max_length=255)
    """What caused it: ``placed``, ``rejected at <location>: <reason>``, ``manual``."""
    decision: JsonObject = Field(default_factory=dict, sa_type=sa.JSON, nullable=False)
    """Allocations, verdicts, unallocated units, excluded locations and the reason, as recorded."""


class FulfilmentAssignmentRow(StoreModel, table=True):
    """Units of an order handed to one location by a routing decision (``0011_routing``): a warehouse, a store
    that accepts or rejects it, a dropship supplier or a 3PL. ``id`` is ``<order id>@<location>#<attempt>``."""

    __tablename__ = "fulfilment_assignments"
    __table_args__ = (sa.Index("ix_fulfilment_assignments_location_status", "location_id", "status"),)

    id: str = Field(primary_key=True, max_length=800)
    order_id: str = Field(max_length=512, index=True)
    attempt: int
    location_id: str = Field(max_length=255)
    status: str = Field(max_length=16)
    lines: list[JsonObject] = Field(default_factory=list, sa_type=sa.JSON, nullable=False)
    reason: str | None = None
    provider_ref: str | None = Field(default=None, max_length=255)
    created_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)


class FulfilmentTaskRow(StoreModel, table=True):
    """A call to a vendor that carries a fulfilment decision out (``0011_routing``), recorded in the same
    transaction as the decision and done later by the dispatcher, like the stock outbox: assign lines on the
    sales channel, submit to a provider, confirm a shipment. ``id`` is the idempotency key."""

    __tablename__ = "fulfilment_tasks"
    __table_args__ = (sa.Index("ix_fulfilment_tasks_status_next_at", "status", "next_at"),)

    id: str = Field(primary_key=True, max_length=800)
    kind: str = Field(max_length=16)
    order_id: str = Field(max_length=512, index=True)
    channel: str = Field(max_length=128)
    payload: JsonObject = Field(default_factory=dict, sa_type=sa.JSON, nullable=False)
    status: str = Field(max_length=16)
    attempts: int = 0
    next_at: datetime = _ts(nullable=False)
    last_error: str | None = None
    result: JsonObject | None = Field(default=None, sa_type=sa.JSON, nullable=True)
    created_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)


ROUTING_DECISIONS = table(RoutingDecisionRow)
FULFILMENT_ASSIGNMENTS = table(FulfilmentAssignmentRow)
FULFILMENT_TASKS = table(FulfilmentTaskRow)


class ApiTokenRow(StoreModel, table=True):
    """A bearer token of the admin API (``0012_access``): only the SHA-256 of the token is kept; ``id`` is the
    short public part shown in lists and audit records."""

    __tablename__ = "api_tokens"

    id: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=128)
    role: str = Field(max_length=16)
    token_hash: str = Field(max_length=64)
    created_at: datetime = _ts(nullable=False)
    created_by: str = Field(max_length=255)
    expires_at: datetime | None = _ts(nullable=True)
    revoked_at: datetime | None = _ts(nullable=True)
    revoked_by: str | None = Field(default=None, max_length=255)


class AuditRecordRow(StoreModel, table=True):
    """One record of the audit log (``0012_access``), hash-chained: ``hash`` is the SHA-256 of ``prev_hash`` and
    the record's canonical content; ``id`` is its position in the chain (1, 2, 3...)."""

    __tablename__ = "audit_log"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = _ts(nullable=False)
    actor: str = Field(max_length=255)
    action: str = Field(max_length=64, index=True)
    subject: str = Field(max_length=512)
    before: Any = Field(default=None, sa_type=sa.JSON, nullable=True)
    after: Any = Field(default=None, sa_type=sa.JSON, nullable=True)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHeadRow(StoreModel, table=True):
    """The audit log's head (``0012_access``): one row (``id`` 1) with the last record's position and hash. An
    append locks it first, so concurrent writers queue and the chain never forks."""

    __tablename__ = "audit_head"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_id: int = 0
    last_hash: str = Field(max_length=64)


API_TOKENS = table(ApiTokenRow)
AUDIT_LOG = table(AuditRecordRow)
AUDIT_HEAD = table(AuditHeadRow)


class CustomerMergeRow(StoreModel, table=True):
    """History of merges and splits of customers (``0015_customers``): ``kind`` ``merge`` moved ``identities``
    from ``other_id`` into ``customer_id``; ``split`` moved them from ``customer_id`` out to ``other_id``."""

    __tablename__ = "customer_merges"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    customer_id: str = Field(max_length=255, index=True)
    other_id: str = Field(max_length=255, index=True)
    identities: list[JsonObject] = Field(default_factory=list, sa_type=sa.JSON, nullable=False)
    reason: str | None = None
    actor: str | None = Field(default=None, max_length=255)
    at: datetime = _ts(nullable=False)


class ConsentDecisionRow(StoreModel, table=True):
    """Every consent decision, as recorded (``0015_customers``). The current consent of a purpose is the decision
    with the latest ``decided_at`` (ties: the later ``id``); ``writeback`` keeps what each channel answered."""

    __tablename__ = "consent_decisions"
    __table_args__ = (sa.Index("ix_consent_decisions_customer_purpose", "customer_id", "purpose"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: str = Field(max_length=255)
    purpose: str = Field(max_length=32)
    granted: bool
    source: str = Field(max_length=128)
    decided_at: datetime = _ts(nullable=False)
    recorded_at: datetime = _ts(nullable=False)
    writeback: JsonObject | None = Field(default=None, sa_type=sa.JSON)


class PrivacyRequestRow(StoreModel, table=True):
    """A data-subject request (``0015_customers``): from a channel's compliance webhook (unique per channel and
    delivery) or made by a person. ``deadline_at`` is when it must be done; ``result`` what was done or not."""

    __tablename__ = "privacy_requests"
    __table_args__ = (sa.UniqueConstraint("channel", "external_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=128)
    external_ref: str = Field(max_length=255)
    kind: str = Field(max_length=32)
    customer_ref: str | None = Field(default=None, max_length=255)
    customer_id: str | None = Field(default=None, max_length=255)
    subject: JsonObject | None = Field(default=None, sa_type=sa.JSON)
    received_at: datetime = _ts(nullable=False)
    deadline_at: datetime = _ts(nullable=False)
    status: str = Field(max_length=16, index=True)
    result: JsonObject | None = Field(default=None, sa_type=sa.JSON)
    done_at: datetime | None = _ts(nullable=True)


CUSTOMER_MERGES = table(CustomerMergeRow)
CONSENT_DECISIONS = table(ConsentDecisionRow)
PRIVACY_REQUESTS = table(PrivacyRequestRow)


class PickupRow(StoreModel, table=True):
    """A pickup (click-and-collect or curbside) booked for an order at one store (``0016_pickups``): its window,
    the units held there until ``expires_at`` and where it stands (``reserved``, ``ready``, ``arrived``,
    ``collected``, ``cancelled``, ``expired``, ``rejected``: :class:`~omnibridge.sdk.pickup.PickupState`).
    ``id`` is ``<order id>#<attempt>``: a fallback to another window or store is a new attempt. ``lines`` lists
    ``{"line_id", "sku", "quantity"}`` of the order lines it holds. ``version`` counts its changes (the
    idempotency key of each change names it)."""

    __tablename__ = "pickups"
    __table_args__ = (
        sa.Index("ix_pickups_location_window", "location_id", "window_start"),
        sa.Index("ix_pickups_status_expires_at", "status", "expires_at"),
    )

    id: str = Field(primary_key=True, max_length=800)
    order_id: str = Field(max_length=512, index=True)
    channel: str = Field(max_length=128)
    attempt: int = 1
    location_id: str = Field(max_length=255)
    window_start: datetime = _ts(nullable=False)
    window_end: datetime = _ts(nullable=False)
    curbside: bool = False
    status: str = Field(max_length=16)
    expires_at: datetime = _ts(nullable=False)
    lines: list[JsonObject] = Field(default_factory=list, sa_type=sa.JSON, nullable=False)
    reason: str | None = None
    version: int = 1
    created_at: datetime = _ts(nullable=False)
    updated_at: datetime = _ts(nullable=False)


PICKUPS = table(PickupRow)


class ApiCallCountRow(StoreModel, table=True):
    """Vendor API calls of one connector's operation in one minute: attempts sent
    (``calls``), refused by the vendor's rate limit (``refusals``: 429 or throttled) and failed (``failures``: a
    5xx or no answer) (``0018_console``). Written by the daemon from what its HTTP clients observe
    (:mod:`omnibridge.console.api_calls`)."""

    __tablename__ = "api_call_counts"

    connector: str = Field(primary_key=True, max_length=128)
    op: str = Field(primary_key=True, max_length=255)
    minute: datetime = Field(primary_key=True, sa_type=UTCDateTime, index=True)
    calls: int = 0
    refusals: int = 0
    failures: int = 0


API_CALL_COUNTS = table(ApiCallCountRow)


class WarehouseBookmarkRow(StoreModel, table=True):
    """How far the warehouse export got in one table (``0019_warehouse_export``): the time and key of the last
    row written (rows are exported in ``(stamp, key)`` order), and how many rows were exported in all."""

    __tablename__ = "warehouse_bookmarks"

    name: str = Field(primary_key=True, max_length=64)
    stamp: datetime = _ts(nullable=False)
    key: str = Field(max_length=800)
    rows: int = 0
    updated_at: datetime = _ts(nullable=False)


WAREHOUSE_BOOKMARKS = table(WarehouseBookmarkRow)


class ChannelMemoryRow(StoreModel, table=True):
    """What a connector learned about its channel and keeps across restarts (``0020_channel_memory``): per
    ``channel`` and ``kind`` (e.g. ``item_id``, ``feed``), ``key`` -> ``value`` in the connector's own format."""

    __tablename__ = "channel_memory"

    channel: str = Field(primary_key=True, max_length=128)
    kind: str = Field(primary_key=True, max_length=64)
    key: str = Field(primary_key=True, max_length=255)
    value: str
    updated_at: datetime = _ts(nullable=False)


CHANNEL_MEMORY = table(ChannelMemoryRow)


class VendorBudgetRow(StoreModel, table=True):
    """A vendor rate-limit budget shared by every daemon on the store (``0022_vendor_budgets``): the bucket's
    ``level`` as of ``updated_at`` (database clock), its ``capacity`` and ``refill_rate`` per second, and the
    cost of the requests in flight (see :mod:`omnibridge.store.budgets`)."""

    __tablename__ = "vendor_budgets"

    channel: str = Field(primary_key=True, max_length=128)
    name: str = Field(primary_key=True, max_length=128)
    capacity: float
    refill_rate: float
    level: float
    in_flight: float
    updated_at: datetime = _ts(nullable=False)


class VendorBudgetLeaseRow(StoreModel, table=True):
    """One request in flight against a shared budget (``0022_vendor_budgets``); swept once ``holder`` (the backend
    pid of the session that took it) has ended or ``expires_at`` has passed, so a process that died mid-request
    does not keep its cost reserved."""

    __tablename__ = "vendor_budget_leases"
    __table_args__ = (sa.Index("ix_vendor_budget_leases_channel_name_expires_at", "channel", "name", "expires_at"),)

    id: str = Field(primary_key=True, max_length=36)
    channel: str = Field(max_length=128)
    name: str = Field(max_length=128)
    cost: float
    expires_at: datetime = _ts(nullable=False)
    holder: int | None = None


VENDOR_BUDGETS = table(VendorBudgetRow)
VENDOR_BUDGET_LEASES = table(VendorBudgetLeaseRow)
