"""Channel orders kept as canonical :class:`~omnibridge.models.Order` records (routing and the resolver read them).

An order is stored under its channel identity ``(channel, ref)`` with the id ``<channel>:<ref>``. The status comes
from the channel's ``status_map`` when it maps the vendor's status, else from the event kind. An event older than
what is stored (a late webhook, an overlapping poll) never overwrites a newer state.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from omnibridge.models import Money, Order, OrderLine, OrderStatus
from omnibridge.sdk.channel import OrderEvent, OrderEventKind, OrderLineEvent
from omnibridge.store import Store
from omnibridge.sync.runtime import ChannelRuntime

_STATUS_BY_KIND = {
    OrderEventKind.PLACED: OrderStatus.ACCEPTED,
    OrderEventKind.COMPLETED: OrderStatus.COMPLETED,
    OrderEventKind.CANCELLED: OrderStatus.CANCELLED,
}


def record_order(store: Store, channel: ChannelRuntime, event: OrderEvent, known_skus: set[str]) -> Order | None:
    """Save ``event`` as the channel's order; None when it has no line to keep or is older than what is stored."""
    existing = store.find_order(channel.id, event.ref)
    if existing is not None and existing.updated_at > event.occurred_at:
        return None
    lines = [line for line in (_line(channel, raw, event.currency, known_skus) for raw in event.lines) if line]
    if not lines:
        return None
    status = channel.channel.mappings.status_map.get(event.status) if event.status else None
    if status is None:
        status = _STATUS_BY_KIND.get(event.kind) or (existing.status if existing else OrderStatus.ACCEPTED)
    order = Order(
        id=existing.id if existing else f"{channel.id}:{event.ref}",
        channel=channel.id,
        external_id=event.ref,
        number=event.name or None,
        status=status,
        lines=lines,
        total=_money(event.total, event.currency),
        placed_at=existing.placed_at if existing else event.occurred_at,
        updated_at=event.occurred_at,
        priority=channel.channel.priority,
    )
    return store.save_order(order)


def _line(channel: ChannelRuntime, raw: OrderLineEvent, currency: str | None, known_skus: set[str]) -> OrderLine | None:
    if not raw.sku or raw.quantity <= 0:
        return None
    sku = channel.master_sku(raw.sku)
    if sku not in known_skus:
        return None
    return OrderLine(
        line_id=raw.line_ref,
        sku=sku,
        quantity=raw.quantity,
        unit_price=_money(raw.unit_price, currency),
        location_id=channel.location_id(raw.location_ref),
    )


def _money(amount: str | None, currency: str | None) -> Money | None:
    if amount is None or not currency:
        return None
    try:
        return Money(amount=Decimal(amount), currency=currency)
    except (InvalidOperation, ValueError):
        return None
