"""pickups: click-and-collect and curbside bookings with their window, hold expiry and state.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, *, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "pickups",
        sa.Column("id", sa.String(800), nullable=False),
        sa.Column("order_id", sa.String(512), nullable=False),
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.String(255), nullable=False),
        _ts("window_start", nullable=False),
        _ts("window_end", nullable=False),
        sa.Column("curbside", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _ts("expires_at", nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pickups"),
    )
    op.create_index("ix_pickups_order_id", "pickups", ["order_id"])
    op.create_index("ix_pickups_location_window", "pickups", ["location_id", "window_start"])
    op.create_index("ix_pickups_status_expires_at", "pickups", ["status", "expires_at"])


def downgrade() -> None:
    op.drop_table("pickups")
