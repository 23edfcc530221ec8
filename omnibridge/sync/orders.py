"""Channel orders kept as canonical :class:`~omnibridge.models.Order` records (routing and the resolver read them).

An order is stored under its channel identity ``(channel, ref)`` with the id ``<channel>:<ref>``. The status comes
from the channel's ``status_map`` when it maps the vendor's status, else from the event kind. An event older than
what is stored (a late webhook, an overlapping poll) never overwrites a newer state. Each line's allocation and
fulfilled and cancelled units come from its line record (:mod:`omnibridge.sync.lines`), which the same unit of
work has just brought up to date. The ship-to address is the event's (:class:`~omnibridge.sdk.channel.ShipTo`);
an event without one keeps the address already stored. An event with pickup details (``OrderEvent.pickup``) makes
it a pickup or curbside order at the store its ``location_ref`` maps to (routing pins it there).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from pydantic import ValidationError

from omnibridge.customers.directory import ObservedIdentity, new_customer_id, resolve
from omnibridge.models import Address, GeoPoint, LineStatus, Money, Order, OrderLine, OrderLineRecord, OrderStatus
from omnibridge.pickup.method import pickup_method
from omnibridge.sdk.channel import OrderEvent, OrderEventKind, OrderLineEvent, ShipTo
from omnibridge.store.unit_of_work import UnitOfWork
from omnibridge.sync.runtime import ChannelRuntime

_STATUS_BY_KIND = {
    OrderEventKind.PLACED: OrderStatus.ACCEPTED,
    OrderEventKind.COMPLETED: OrderStatus.COMPLETED,
    OrderEventKind.CANCELLED: OrderStatus.CANCELLED,
}


def is_stale(existing: Order | None, event: OrderEvent) -> bool:
    """Whether the stored order ``existing`` is newer than ``event`` (a late delivery that must not undo a later
    state)."""
    return existing is not None and existing.updated_at > event.occurred_at


def record_order(
    uow: UnitOfWork, channel: ChannelRuntime, event: OrderEvent, known_skus: set[str], existing: Order | None
) -> Order | None:
    """Save ``event`` as the channel's order (``existing``: what is stored under its identity, read once by the
    caller in the same unit of work); None when it has no line to keep or is older than what is stored."""
    if is_stale(existing, event):
        return None
    records = {record.line_ref: record for record in uow.lines_of_order(channel.id, event.ref)}
    lines = [
        line
        for line in (_line(channel, raw, event.currency, known_skus, records.get(raw.line_ref)) for raw in event.lines)
        if line
    ]
    if not lines:
        return None
    status = channel.channel.mappings.status_map.get(event.status) if event.status else None
    if status is None:
        status = _STATUS_BY_KIND.get(event.kind) or (existing.status if existing else OrderStatus.ACCEPTED)
    if existing is not None and existing.status is OrderStatus.ON_HOLD and status is OrderStatus.ACCEPTED:
        status = OrderStatus.ON_HOLD  # held by the resolver until the channel cancels or completes it
    method, pickup_at = pickup_method(channel, event.pickup)
    if event.pickup is None and existing is not None:
        method, pickup_at = existing.fulfilment_method, existing.pickup_location_id
    order = Order(
        id=existing.id if existing else f"{channel.id}:{event.ref}",
        channel=channel.id,
        external_id=event.ref,
        number=event.name or None,
        status=status,
        lines=lines,
        total=_money(event.total, event.currency),
        ship_to=ship_to_address(event.ship_to) or (existing.ship_to if existing else None),
        customer_id=_customer_id(uow, channel.id, event) or (existing.customer_id if existing else None),
        placed_at=existing.placed_at if existing else event.occurred_at,
        updated_at=event.occurred_at,
        priority=channel.channel.priority,
        fulfilment_method=method,
        pickup_location_id=pickup_at,
    )
    return uow.save_order(order)


def _customer_id(uow: UnitOfWork, channel_id: str, event: OrderEvent) -> str | None:
    """The canonical customer of the event's customer (resolved across channels), or None when not given."""
    who = event.customer
    if who is None or not who.ref:
        return None
    seen = ObservedIdentity(
        channel_id,
        who.ref,
        email=who.email,
        phone=who.phone,
        first_name=who.first_name,
        last_name=who.last_name,
        region=event.ship_to.country if event.ship_to else None,
    )
    return resolve(uow.session, seen, now=uow.now(), new_id=new_customer_id)


def ship_to_address(ship_to: ShipTo | None) -> Address | None:
    """The canonical :class:`Address` of a channel's ship-to; None when there is none or its country is not an
    ISO 3166-1 alpha-2 code."""
    if ship_to is None:
        return None
    try:
        return Address(
            name=ship_to.name or None,
            line1=ship_to.line1 or None,
            line2=ship_to.line2 or None,
            city=ship_to.city or None,
            region=ship_to.region or None,
            postal_code=ship_to.postal_code or None,
            country=(ship_to.country or "").strip().upper(),
            phone=ship_to.phone or None,
            coordinates=_coordinates(ship_to),
        )
    except ValidationError:
        return None


def _coordinates(ship_to: ShipTo) -> GeoPoint | None:
    if ship_to.latitude is None or ship_to.longitude is None:
        return None
    try:
        return GeoPoint(lat=ship_to.latitude, lon=ship_to.longitude)
    except ValidationError:
        return None


def refresh_fulfilment(uow: UnitOfWork, channel_id: str, order_ref: str) -> None:
    """Bring a stored order's lines and status in line with its line records after a shipment."""
    order = uow.find_order(channel_id, order_ref)
    if order is None:
        return
    records = {record.line_ref: record for record in uow.lines_of_order(channel_id, order_ref)}
    lines = [_from_record(line, records.get(line.line_id)) for line in order.lines]
    status = order.status
    if status not in (OrderStatus.CANCELLED, OrderStatus.COMPLETED):
        if all(line.open_quantity == 0 for line in lines) and any(line.fulfilled_quantity for line in lines):
            status = OrderStatus.FULFILLED
        elif any(line.fulfilled_quantity for line in lines):
            status = OrderStatus.PARTIALLY_FULFILLED
    uow.save_order(order.model_copy(update={"lines": lines, "status": status}))


def _line(
    channel: ChannelRuntime,
    raw: OrderLineEvent,
    currency: str | None,
    known_skus: set[str],
    record: OrderLineRecord | None,
) -> OrderLine | None:
    if not raw.sku or raw.quantity <= 0:
        return None
    sku = channel.master_sku(raw.sku)
    if sku not in known_skus:
        return None
    line = OrderLine(
        line_id=raw.line_ref,
        sku=sku,
        quantity=raw.quantity,
        unit_price=_money(raw.unit_price, currency),
        location_id=channel.location_id(raw.location_ref),
    )
    return _from_record(line, record)


def _from_record(line: OrderLine, record: OrderLineRecord | None) -> OrderLine:
    if record is None:
        return line
    shipped = min(record.shipped, line.quantity)
    cancelled = min(record.cancelled, line.quantity - shipped)
    if record.status is LineStatus.CANCELLED:
        cancelled = line.quantity - shipped
    return line.model_copy(
        update={
            "location_id": record.location_id or line.location_id,
            "fulfilled_quantity": shipped,
            "cancelled_quantity": cancelled,
        }
    )


def _money(amount: str | None, currency: str | None) -> Money | None:
    if amount is None or not currency:
        return None
    try:
        return Money(amount=Decimal(amount), currency=currency)
    except (InvalidOperation, ValueError):
        return None
