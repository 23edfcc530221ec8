"""Order lines as records: read, lock and write them inside the caller's transaction.

A line is changed only inside a unit of work that first locks it (:func:`lock_line`: ``SELECT ... FOR UPDATE`` on
PostgreSQL; on SQLite the write transaction already holds the database's write lock), so two workers deciding
about the same line queue instead of both acting on what they read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from omnibridge.models import LineStatus, OrderLineRecord
from omnibridge.store.sql import upsert
from omnibridge.store.tables import ORDER_LINES

_L = ORDER_LINES.c
_BY_ID = sa.select(ORDER_LINES).where(_L.id == sa.bindparam("p_id"))
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
_OF_ORDER = (
    sa.select(ORDER_LINES)
    .where(_L.channel == sa.bindparam("p_channel"), _L.order_ref == sa.bindparam("p_order_ref"))
    .order_by(_L.id)
)


def get_line(session: Session, line_id: str) -> OrderLineRecord | None:
    row = session.connection().execute(_BY_ID, {"p_id": line_id}).mappings().first()
    return None if row is None else line_from_row(row)


def lock_line(session: Session, line_id: str) -> OrderLineRecord | None:
    """The line ``line_id``, locked for the rest of the transaction (None if there is none yet)."""
    row = session.connection().execute(_BY_ID_FOR_UPDATE, {"p_id": line_id}).mappings().first()
    return None if row is None else line_from_row(row)


def save_line(session: Session, line: OrderLineRecord) -> None:
    """Insert or update ``line`` (by id)."""
    upsert(session, ORDER_LINES, line_to_row(line), key=["id"])


def lines_of_order(session: Session, channel: str, order_ref: str) -> list[OrderLineRecord]:
    rows = session.connection().execute(_OF_ORDER, {"p_channel": channel, "p_order_ref": order_ref}).mappings()
    return [line_from_row(row) for row in rows]


def open_lines_at(session: Session, sku: str, location_id: str) -> list[OrderLineRecord]:
    """Open lines with units committed at ``(sku, location_id)``: one indexed lookup."""
    rows = session.execute(
        sa.select(ORDER_LINES)
        .where(_L.sku == sku, _L.location_id == location_id, _L.status == LineStatus.OPEN.value, _L.committed > 0)
        .order_by(_L.placed_at, _L.id)
    ).mappings()
    return [line_from_row(row) for row in rows]


def committed_by_position(session: Session) -> dict[tuple[str, str], int]:
    """Units committed by order lines, per (SKU, location)."""
    rows = session.execute(
        sa.select(_L.sku, _L.location_id, sa.func.sum(_L.committed))
        .where(_L.committed != 0, _L.location_id.is_not(None))
        .group_by(_L.sku, _L.location_id)
    )
    return {(sku, location_id): int(units) for sku, location_id, units in rows}


def all_lines(session: Session, *, statuses: Iterable[LineStatus] | None = None) -> list[OrderLineRecord]:
    query = sa.select(ORDER_LINES).order_by(_L.id)
    if statuses is not None:
        query = query.where(_L.status.in_([status.value for status in statuses]))
    return [line_from_row(row) for row in session.execute(query).mappings()]


def line_from_row(row: Any) -> OrderLineRecord:
    return OrderLineRecord(
        id=row["id"],
        channel=row["channel"],
        order_ref=row["order_ref"],
        line_ref=row["line_ref"],
        sku=row["sku"],
        quantity=row["quantity"],
        location_id=row["location_id"],
        channel_location_id=row["channel_location_id"],
        status=LineStatus(row["status"]),
        committed=row["committed"],
        shipped=row["shipped"],
        cancelled=row["cancelled"],
        returned=row["returned"],
        version=row["version"],
        placed_at=row["placed_at"],
        updated_at=row["updated_at"],
    )


def line_to_row(line: OrderLineRecord) -> dict[str, Any]:
    return {
        "id": line.id,
        "channel": line.channel,
        "order_ref": line.order_ref,
        "line_ref": line.line_ref,
        "sku": line.sku,
        "quantity": line.quantity,
        "location_id": line.location_id,
        "channel_location_id": line.channel_location_id,
        "status": line.status.value,
        "committed": line.committed,
        "shipped": line.shipped,
        "cancelled": line.cancelled,
        "returned": line.returned,
        "version": line.version,
        "placed_at": line.placed_at,
        "updated_at": line.updated_at,
    }
