"""webhook_inbox body digest: a replayed body is a duplicate whatever ids its unsigned headers carry.

``body_sha256`` is the hex SHA-256 of the delivery's raw (signed) body, unique per channel. Entries stored before
this revision keep NULL (NULLs never collide), so no existing inbox is refused by the new index.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_inbox") as batch:
        batch.add_column(sa.Column("body_sha256", sa.String(64), nullable=True))
    op.create_index("ux_webhook_inbox_channel_body_sha256", "webhook_inbox", ["channel", "body_sha256"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_webhook_inbox_channel_body_sha256", table_name="webhook_inbox")
    with op.batch_alter_table("webhook_inbox") as batch:
        batch.drop_column("body_sha256")
