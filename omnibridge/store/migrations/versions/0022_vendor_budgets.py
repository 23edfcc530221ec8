"""vendor_budgets and vendor_budget_leases: vendor rate-limit budgets shared by every daemon on one PostgreSQL
(issue 17, several replicas): one row per (channel, budget) with the bucket's level, capacity, refill rate and
the cost in flight, and one lease per request in flight (with the database session that holds it), so a crashed
process's reservation is reclaimed when its session ends, or at the latest when the lease expires.

Created on SQLite too (unused there: SQLite runs one daemon, with per-process limiters).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "vendor_budgets",
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("capacity", sa.Float(), nullable=False),
        sa.Column("refill_rate", sa.Float(), nullable=False),
        sa.Column("level", sa.Float(), nullable=False),
        sa.Column("in_flight", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "name", name="pk_vendor_budgets"),
    )
    op.create_table(
        "vendor_budget_leases",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("holder", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_vendor_budget_leases"),
    )
    op.create_index(
        "ix_vendor_budget_leases_channel_name_expires_at",
        "vendor_budget_leases",
        ["channel", "name", "expires_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_vendor_budget_leases_channel_name_expires_at", table_name="vendor_budget_leases")
    op.drop_table("vendor_budget_leases")
    op.drop_table("vendor_budgets")
