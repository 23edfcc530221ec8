"""Order lines as records (every commitment, release, move, shipment and return refers to one), and the engine's
pending work kept across errors and restarts.

Two indexes on the movements: the latest count at a position (read by every movement) and the movements of one
order line (``verify``, the backfill). Existing stores are backfilled from what they already hold: one line record per line of a stored order, with its
commitment, shipments and cancellations summed from the movements that reference it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_lines",
        sa.Column("id", sa.String(512), nullable=False),
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("order_ref", sa.String(255), nullable=False),
        sa.Column("line_ref", sa.String(255), nullable=False),
        sa.Column("sku", sa.String(255), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.String(255), nullable=True),
        sa.Column("channel_location_id", sa.String(255), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("committed", sa.Integer(), nullable=False),
        sa.Column("shipped", sa.Integer(), nullable=False),
        sa.Column("cancelled", sa.Integer(), nullable=False),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_order_lines"),
    )
    op.create_index("ix_order_lines_order_ref", "order_lines", ["order_ref"])
    op.create_index("ix_order_lines_position_status", "order_lines", ["sku", "location_id", "status"])
    op.create_table(
        "pending_work",
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "kind", "key", name="pk_pending_work"),
    )
    op.create_index(
        "ix_stock_movements_position_kind_time", "stock_movements", ["sku", "location_id", "kind", "occurred_at"]
    )
    op.create_index("ix_stock_movements_reference", "stock_movements", ["reference"])
    _backfill(op.get_bind())


def _backfill(connection: sa.Connection) -> None:
    """One line record per line of every stored order, from the movements that reference it."""
    orders = connection.execute(sa.text("SELECT channel, external_id, lines, placed_at, updated_at FROM orders"))
    rows: list[dict[str, Any]] = []
    for channel, external_id, raw_lines, placed_at, updated_at in orders:
        lines = json.loads(raw_lines) if isinstance(raw_lines, str) else raw_lines
        for line in lines or []:
            line_id = f"{channel}:order:{external_id}:{line['line_id']}"
            rows.append(_line_row(connection, line_id, channel, external_id, line, placed_at, updated_at))
    if rows:
        connection.execute(
            sa.text(
                "INSERT INTO order_lines (id, channel, order_ref, line_ref, sku, quantity, location_id, "
                "channel_location_id, status, committed, shipped, cancelled, returned, version, placed_at, updated_at) "
                "VALUES (:id, :channel, :order_ref, :line_ref, :sku, :quantity, :location_id, :channel_location_id, "
                ":status, :committed, :shipped, :cancelled, :returned, :version, :placed_at, :updated_at)"
            ),
            rows,
        )


def _line_row(
    connection: sa.Connection,
    line_id: str,
    channel: str,
    order_ref: str,
    line: dict[str, Any],
    placed_at: Any,
    updated_at: Any,
) -> dict[str, Any]:
    committed_at: dict[str, int] = {}
    shipped = cancelled = returned = 0
    movements = connection.execute(
        sa.text("SELECT kind, location_id, quantity, delta_committed FROM stock_movements WHERE reference = :r"),
        {"r": line_id},
    )
    for kind, location_id, quantity, delta_committed in movements:
        committed_at[location_id] = committed_at.get(location_id, 0) + delta_committed
        if kind in ("fulfilment", "sale"):
            shipped += quantity
        elif kind == "return":
            returned += quantity
    open_at = [(location, units) for location, units in committed_at.items() if units > 0]
    committed = sum(units for _, units in open_at)
    quantity = int(line["quantity"])
    if committed == 0 and shipped < quantity:
        cancelled = quantity - shipped
    location = open_at[0][0] if open_at else line.get("location_id")
    if committed > 0:
        status = "open"
    elif shipped > 0:
        status = "returned" if returned >= shipped else "shipped"
    else:
        status = "cancelled"
    return {
        "id": line_id,
        "channel": channel,
        "order_ref": order_ref,
        "line_ref": line["line_id"],
        "sku": line["sku"],
        "quantity": quantity,
        "location_id": location,
        "channel_location_id": line.get("location_id"),
        "status": status,
        "committed": committed,
        "shipped": shipped,
        "cancelled": min(cancelled, quantity),
        "returned": returned,
        "version": 1,
        "placed_at": placed_at or datetime.now(UTC),
        "updated_at": updated_at or datetime.now(UTC),
    }


def downgrade() -> None:
    op.drop_index("ix_stock_movements_reference", table_name="stock_movements")
    op.drop_index("ix_stock_movements_position_kind_time", table_name="stock_movements")
    op.drop_table("pending_work")
    op.drop_index("ix_order_lines_position_status", table_name="order_lines")
    op.drop_index("ix_order_lines_order_ref", table_name="order_lines")
    op.drop_table("order_lines")
