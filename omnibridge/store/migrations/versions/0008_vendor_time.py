"""channel_levels.vendor_seen_at: the latest vendor time of a level a channel reported, kept apart from
``shown_at`` (which may be our own clock: a write, a read), so a stock notification is compared only with vendor
times (issue 12, defect 8).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channel_levels") as batch:
        batch.add_column(sa.Column("vendor_seen_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_levels") as batch:
        batch.drop_column("vendor_seen_at")
