"""returns: where a return comes back, its label, the newest channel event applied, and return_lines with the
disposition of every unit (restocked, damaged, inspect, missing).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, *, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("returns") as batch:
        batch.add_column(sa.Column("at_store", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("carrier", sa.String(), nullable=True))
        batch.add_column(sa.Column("tracking_number", sa.String(), nullable=True))
        batch.add_column(sa.Column("label_url", sa.String(), nullable=True))
        batch.add_column(sa.Column("reason", sa.String(), nullable=True))
        batch.add_column(_ts("event_at", nullable=True))
        batch.add_column(_ts("updated_at", nullable=True))
        batch.create_unique_constraint("uq_returns_channel_external_id", ["channel", "external_id"])
    op.create_table(
        "return_lines",
        sa.Column("id", sa.String(800), nullable=False),
        sa.Column("return_id", sa.String(255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.String(800), nullable=False),
        sa.Column("sku", sa.String(255), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("channel_line_ref", sa.String(), nullable=True),
        sa.Column("restocked", sa.Integer(), nullable=False),
        sa.Column("damaged", sa.Integer(), nullable=False),
        sa.Column("inspect", sa.Integer(), nullable=False),
        sa.Column("missing", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.String(255), nullable=True),
        sa.Column("decisions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_return_lines"),
    )
    op.create_index("ix_return_lines_return_id", "return_lines", ["return_id"])
    op.create_index("ix_return_lines_order_line_id", "return_lines", ["order_line_id"])


def downgrade() -> None:
    op.drop_table("return_lines")
    with op.batch_alter_table("returns") as batch:
        batch.drop_constraint("uq_returns_channel_external_id", type_="unique")
        for column in ("updated_at", "event_at", "reason", "label_url", "tracking_number", "carrier", "at_store"):
            batch.drop_column(column)
