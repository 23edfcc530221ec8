"""webhook_inbox discards: a dead letter set aside for good keeps when and why.

``status`` is a plain string, so the new status ``discarded`` needs no change; ``discarded_at`` and
``discard_reason`` are set when a person discards a dead letter (``omnibridge deadletters discard``), kept for audit.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_inbox") as batch:
        batch.add_column(sa.Column("discarded_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("discard_reason", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_inbox") as batch:
        batch.drop_column("discard_reason")
        batch.drop_column("discarded_at")
