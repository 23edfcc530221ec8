"""carrier_shipments.vendor_shipment_id without a length limit: a karrio quote reference carries the whole
encoded shipment request (400+ characters), more than the 255 first allowed (PostgreSQL refused it).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("carrier_shipments") as batch:
        batch.alter_column(
            "vendor_shipment_id", type_=sa.String(), existing_type=sa.String(255), existing_nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("carrier_shipments") as batch:
        batch.alter_column(
            "vendor_shipment_id", type_=sa.String(255), existing_type=sa.String(), existing_nullable=False
        )
