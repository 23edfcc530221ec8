"""Carrier shipments (vendor shipment, chosen rate, label, tracker) and applied tracking event refs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "carrier_shipments",
        sa.Column("shipment_id", sa.String(255), nullable=False),
        sa.Column("connector", sa.String(128), nullable=False),
        sa.Column("vendor_shipment_id", sa.String(255), nullable=False),
        sa.Column("rate_id", sa.String(255), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("carrier", sa.String(64), nullable=True),
        sa.Column("tracking_code", sa.String(255), nullable=True),
        sa.Column("label_url", sa.String(), nullable=True),
        sa.Column("tracker_ref", sa.String(255), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name="fk_carrier_shipments_shipment_id_shipments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("shipment_id", name="pk_carrier_shipments"),
        sa.UniqueConstraint("connector", "vendor_shipment_id", name="uq_carrier_shipments_connector_vendor_shipment_id"),
    )
    op.create_index("ix_carrier_shipments_tracking_code", "carrier_shipments", ["tracking_code"])
    op.create_table(
        "carrier_tracking_refs",
        sa.Column("connector", sa.String(128), nullable=False),
        sa.Column("ref", sa.String(512), nullable=False),
        sa.Column("shipment_id", sa.String(255), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name="fk_carrier_tracking_refs_shipment_id_shipments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connector", "ref", name="pk_carrier_tracking_refs"),
    )


def downgrade() -> None:
    op.drop_table("carrier_tracking_refs")
    op.drop_index("ix_carrier_shipments_tracking_code", table_name="carrier_shipments")
    op.drop_table("carrier_shipments")
