"""console: vendor API calls per connector, operation and minute (``api_call_counts``), and the two indexes the
console's overview reads by (drifted channel levels; writes finished recently).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_call_counts",
        sa.Column("connector", sa.String(128), nullable=False),
        sa.Column("op", sa.String(255), nullable=False),
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("refusals", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("connector", "op", "minute", name="pk_api_call_counts"),
    )
    op.create_index("ix_api_call_counts_minute", "api_call_counts", ["minute"])
    op.create_index("ix_channel_levels_unexplained_since", "channel_levels", ["unexplained_since", "channel"])
    op.create_index("ix_push_outbox_finished_at", "push_outbox", ["finished_at"])


def downgrade() -> None:
    op.drop_index("ix_push_outbox_finished_at", "push_outbox")
    op.drop_index("ix_channel_levels_unexplained_since", "channel_levels")
    op.drop_table("api_call_counts")
