"""orders by number: ``omnibridge orders show web:1001`` finds an order by the number merchants see.

An index on ``(channel, number)`` so naming an order by its channel's number is one index lookup, not a scan of
every order.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_orders_channel_number", "orders", ["channel", "number"])


def downgrade() -> None:
    op.drop_index("ix_orders_channel_number", table_name="orders")
