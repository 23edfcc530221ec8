"""webhook_inbox retries: when a pending entry is next tried and why its last try failed.

``attempts`` already exists (0002); ``next_attempt_at`` is set while a pending entry waits for its retry after a
retriable failure (NULL: due now), ``last_error`` keeps that failure's reason.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_inbox") as batch:
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_error", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_inbox") as batch:
        batch.drop_column("last_error")
        batch.drop_column("next_attempt_at")
