"""channel_memory: what each connector learned about its channel (item ids per SKU, feeds awaiting their result),
kept across restarts so a restart neither re-reads a whole catalogue nor re-sends a feed.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_memory",
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "kind", "key", name="pk_channel_memory"),
    )


def downgrade() -> None:
    op.drop_table("channel_memory")
