"""warehouse_bookmarks: how far the warehouse export got in each table (the last row written, by its time and key),
and the indexes it reads each table in order by.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXPORTED = (
    ("orders", "updated_at", "id"),
    ("order_lines", "updated_at", "id"),
    ("stock_movements", "recorded_at", "id"),
    ("shipments", "created_at", "id"),
    ("returns", "created_at", "id"),
    ("incidents", "created_at", "id"),
)


def upgrade() -> None:
    op.create_table(
        "warehouse_bookmarks",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("stamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key", sa.String(800), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_warehouse_bookmarks"),
    )
    for table, stamp, key in EXPORTED:
        op.create_index(f"ix_{table}_{stamp}_{key}", table, [stamp, key])


def downgrade() -> None:
    for table, stamp, key in EXPORTED:
        op.drop_index(f"ix_{table}_{stamp}_{key}", table_name=table)
    op.drop_table("warehouse_bookmarks")
