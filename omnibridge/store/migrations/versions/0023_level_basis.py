"""channel_levels.basis_at: the time up to which what a channel is known to show already includes its own sales
and stock events, set when the known level is taken from a read that replaced a forgotten, missing or different
one (issue 17: a read that includes a sale whose order is still on its way must not have that order move the
known level a second time).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channel_levels") as batch:
        batch.add_column(sa.Column("basis_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_levels") as batch:
        batch.drop_column("basis_at")
