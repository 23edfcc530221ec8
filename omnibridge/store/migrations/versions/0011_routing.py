"""routing: decisions, fulfilment assignments and the fulfilment task outbox.

``routing_decisions`` keeps every decision with its candidates and the rule behind each; ``fulfilment_assignments``
the units each decision handed to a location and what the location did with them; ``fulfilment_tasks`` the vendor
calls that carry decisions out (assign on the channel, submit to a provider, confirm a shipment), written in the
decision's transaction and done by the dispatcher.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "routing_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(512), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("trigger", sa.String(255), nullable=False),
        sa.Column("decision", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_routing_decisions"),
        sa.UniqueConstraint("order_id", "attempt", name="uq_routing_decisions_order_id_attempt"),
    )
    op.create_index("ix_routing_decisions_order_id", "routing_decisions", ["order_id"])
    op.create_table(
        "fulfilment_assignments",
        sa.Column("id", sa.String(800), nullable=False),
        sa.Column("order_id", sa.String(512), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("provider_ref", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_fulfilment_assignments"),
    )
    op.create_index("ix_fulfilment_assignments_order_id", "fulfilment_assignments", ["order_id"])
    op.create_index(
        "ix_fulfilment_assignments_location_status", "fulfilment_assignments", ["location_id", "status"]
    )
    op.create_table(
        "fulfilment_tasks",
        sa.Column("id", sa.String(800), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("order_id", sa.String(512), nullable=False),
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_fulfilment_tasks"),
    )
    op.create_index("ix_fulfilment_tasks_order_id", "fulfilment_tasks", ["order_id"])
    op.create_index("ix_fulfilment_tasks_status_next_at", "fulfilment_tasks", ["status", "next_at"])


def downgrade() -> None:
    op.drop_table("fulfilment_tasks")
    op.drop_table("fulfilment_assignments")
    op.drop_table("routing_decisions")
