"""Propagation state: what each channel shows, the push outbox, and the incident log.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_levels",
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("sku", sa.String(255), nullable=False),
        sa.Column("location_id", sa.String(128), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shown", sa.Integer(), nullable=True),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unexplained_since", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("channel", "sku", "location_id", name="pk_channel_levels"),
    )
    op.create_table(
        "push_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("batch_key", sa.String(64), nullable=False),
        sa.Column("sku", sa.String(255), nullable=False),
        sa.Column("channel_sku", sa.String(255), nullable=False),
        sa.Column("location_id", sa.String(128), nullable=False),
        sa.Column("location_ref", sa.String(255), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=True),
        sa.Column("expected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_push_outbox"),
    )
    op.create_index("ix_push_outbox_status", "push_outbox", ["status"])
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("decision", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(128), nullable=True),
        sa.Column("sku", sa.String(255), nullable=True),
        sa.Column("location_id", sa.String(128), nullable=True),
        sa.Column("order_id", sa.String(255), nullable=True),
        sa.Column("summary", sa.String(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
        sa.UniqueConstraint("dedupe_key", name="uq_incidents_dedupe_key"),
    )
    op.create_index("ix_incidents_kind", "incidents", ["kind"])


def downgrade() -> None:
    op.drop_index("ix_incidents_kind", table_name="incidents")
    op.drop_table("incidents")
    op.drop_index("ix_push_outbox_status", table_name="push_outbox")
    op.drop_table("push_outbox")
    op.drop_table("channel_levels")
