"""Orders, upserted by the channel's own identity ``(channel, external_id)``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from omnibridge.errors import ConflictError
from omnibridge.models import Address, FulfilmentMethod, Money, Order, OrderLine, OrderStatus
from omnibridge.store.sealed import open_json, seal_json
from omnibridge.store.sql import dialect_insert, dump, dump_all
from omnibridge.store.tables import ORDERS, OrderRow

SHIP_TO = "orders.ship_to"
"""The encryption context of an order's address (see :mod:`omnibridge.store.sealed`)."""


def save_order(session: Session, order: Order) -> Order:
    """Insert ``order`` or update the order with the same ``(channel, external_id)``; return what is stored.

    The stored order keeps the id it was first saved with, so a re-delivered order built with a fresh id
    still lands on the same row. Raises :class:`ConflictError` if ``order.id`` already belongs to an order of
    another ``(channel, external_id)``.
    """
    values = {
        "id": order.id,
        "channel": order.channel,
        "external_id": order.external_id,
        "number": order.number,
        "status": order.status.value,
        "fulfilment_method": order.fulfilment_method.value,
        "pickup_location_id": order.pickup_location_id,
        "lines": dump_all(order.lines),
        "ship_to": seal_json(session, dump(order.ship_to), SHIP_TO),
        "customer_id": order.customer_id,
        "total": dump(order.total),
        "placed_at": order.placed_at,
        "updated_at": order.updated_at,
        "priority": order.priority,
    }
    statement = dialect_insert(session, ORDERS).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=["channel", "external_id"],
        set_={name: statement.excluded[name] for name in values if name != "id"},
    )
    try:
        session.execute(statement)
    except IntegrityError:
        raise ConflictError(
            f"order id {order.id!r} already belongs to another order than {order.channel} {order.external_id!r}"
        ) from None
    stored = find_order(session, order.channel, order.external_id)
    assert stored is not None
    return stored


def get_order(session: Session, order_id: str) -> Order | None:
    row = session.get(OrderRow, order_id)
    return None if row is None else _order(session, row)


def find_order(session: Session, channel: str, external_id: str) -> Order | None:
    row = session.exec(select(OrderRow).where(OrderRow.channel == channel, OrderRow.external_id == external_id)).first()
    return None if row is None else _order(session, row)


def list_orders(
    session: Session,
    *,
    channel: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[Order]:
    """Orders newest first (by ``placed_at``), of one channel and status if given, placed at or after ``since``."""
    query = select(OrderRow)
    if channel is not None:
        query = query.where(OrderRow.channel == channel)
    if status is not None:
        query = query.where(OrderRow.status == status)
    if since is not None:
        query = query.where(col(OrderRow.placed_at) >= since)
    query = query.order_by(col(OrderRow.placed_at).desc(), col(OrderRow.id).desc()).limit(limit)
    return [_order(session, row) for row in session.exec(query).all()]


def find_orders_by_number(session: Session, channel: str, number: str) -> list[Order]:
    """Orders of ``channel`` whose number as merchants see it is ``number``: ``1001`` and ``#1001`` both find
    Shopify's ``#1001``. Several when a channel reuses numbers (the caller reports the ambiguity)."""
    bare = number.strip().lstrip("#").strip()
    if not bare:
        return []
    rows = session.exec(
        select(OrderRow)
        .where(OrderRow.channel == channel, col(OrderRow.number).in_([bare, f"#{bare}"]))
        .order_by(col(OrderRow.placed_at), col(OrderRow.id))
    ).all()
    return [_order(session, row) for row in rows]


def _order(session: Session, row: OrderRow) -> Order:
    ship_to = open_json(session, row.ship_to, SHIP_TO)
    return Order(
        id=row.id,
        channel=row.channel,
        external_id=row.external_id,
        number=row.number,
        status=OrderStatus(row.status),
        fulfilment_method=FulfilmentMethod(row.fulfilment_method),
        pickup_location_id=row.pickup_location_id,
        lines=[OrderLine.model_validate(line) for line in row.lines],
        ship_to=None if ship_to is None else Address.model_validate(ship_to),
        customer_id=row.customer_id,
        total=None if row.total is None else Money.model_validate(row.total),
        placed_at=row.placed_at,
        updated_at=row.updated_at,
        priority=row.priority,
    )
