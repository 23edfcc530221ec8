"""customers: lookup keys, per-channel identity details, merge history, consent decisions, privacy requests.

``customers`` gains ``email_key``/``phone_key`` (lookup keys of the normalised email and E.164 phone) and
``merged_into``; ``customer_identities`` the keys and contact details each channel gave; ``customer_merges`` keeps
every merge and split; ``consent_decisions`` every consent decision (the latest wins); ``privacy_requests`` the
data-subject requests with their deadline.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, *, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.add_column("customers", sa.Column("email_key", sa.String(128), nullable=True))
    op.add_column("customers", sa.Column("phone_key", sa.String(128), nullable=True))
    op.add_column("customers", sa.Column("merged_into", sa.String(255), nullable=True))
    op.create_index("ix_customers_email_key", "customers", ["email_key"])
    op.create_index("ix_customers_phone_key", "customers", ["phone_key"])
    op.add_column("customer_identities", sa.Column("email_key", sa.String(128), nullable=True))
    op.add_column("customer_identities", sa.Column("phone_key", sa.String(128), nullable=True))
    op.add_column("customer_identities", sa.Column("details", sa.JSON(), nullable=True))
    op.add_column("customer_identities", _ts("seen_at", nullable=True))
    op.create_index("ix_customer_identities_email_key", "customer_identities", ["email_key"])
    op.create_index("ix_customer_identities_phone_key", "customer_identities", ["phone_key"])
    op.create_table(
        "customer_merges",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("customer_id", sa.String(255), nullable=False),
        sa.Column("other_id", sa.String(255), nullable=False),
        sa.Column("identities", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("actor", sa.String(255), nullable=True),
        _ts("at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customer_merges"),
    )
    op.create_index("ix_customer_merges_customer_id", "customer_merges", ["customer_id"])
    op.create_index("ix_customer_merges_other_id", "customer_merges", ["other_id"])
    op.create_table(
        "consent_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(255), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        _ts("decided_at", nullable=False),
        _ts("recorded_at", nullable=False),
        sa.Column("writeback", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_consent_decisions"),
    )
    op.create_index("ix_consent_decisions_customer_purpose", "consent_decisions", ["customer_id", "purpose"])
    op.create_table(
        "privacy_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("external_ref", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("customer_ref", sa.String(255), nullable=True),
        sa.Column("customer_id", sa.String(255), nullable=True),
        sa.Column("subject", sa.JSON(), nullable=True),
        _ts("received_at", nullable=False),
        _ts("deadline_at", nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        _ts("done_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_privacy_requests"),
        sa.UniqueConstraint("channel", "external_ref", name="uq_privacy_requests_channel_external_ref"),
    )
    op.create_index("ix_privacy_requests_status", "privacy_requests", ["status"])


def downgrade() -> None:
    op.drop_table("privacy_requests")
    op.drop_table("consent_decisions")
    op.drop_table("customer_merges")
    op.drop_index("ix_customer_identities_phone_key", table_name="customer_identities")
    op.drop_index("ix_customer_identities_email_key", table_name="customer_identities")
    for column in ("seen_at", "details", "phone_key", "email_key"):
        with op.batch_alter_table("customer_identities") as batch:
            batch.drop_column(column)
    op.drop_index("ix_customers_phone_key", table_name="customers")
    op.drop_index("ix_customers_email_key", table_name="customers")
    for column in ("merged_into", "phone_key", "email_key"):
        with op.batch_alter_table("customers") as batch:
            batch.drop_column(column)
