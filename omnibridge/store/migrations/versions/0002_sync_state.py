"""Sync state: per-channel pull bookmarks and the webhook inbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_bookmarks",
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", name="pk_sync_bookmarks"),
    )
    op.create_table(
        "webhook_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("dedupe_key", sa.String(255), nullable=False),
        sa.Column("delivery_id", sa.String(255), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=True),
        sa.Column("topic", sa.String(128), nullable=False),
        sa.Column("raw_body", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_inbox"),
        sa.UniqueConstraint("channel", "dedupe_key", name="uq_webhook_inbox_channel_dedupe_key"),
    )
    op.create_index("ix_webhook_inbox_status", "webhook_inbox", ["status"])


def downgrade() -> None:
    op.drop_index("ix_webhook_inbox_status", table_name="webhook_inbox")
    op.drop_table("webhook_inbox")
    op.drop_table("sync_bookmarks")
