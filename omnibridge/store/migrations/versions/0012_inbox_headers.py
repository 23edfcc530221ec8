"""inbox headers: drop credentials and client addresses from the headers of stored webhook deliveries.

Rows stored before this revision kept every header a delivery came with (``Authorization``, cookies, Clover's
static ``X-Clover-Auth`` code...). Each row keeps only what :mod:`omnibridge.store.inbox_headers` allows, so the
same rule holds for old and new rows. Encrypting older rows' personal data is ``omnibridge keys rotate``'s job
(it needs the keys, which a migration does not have).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from omnibridge.store.inbox_headers import stored_headers

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INBOX = sa.table("webhook_inbox", sa.column("id", sa.Integer()), sa.column("headers", sa.JSON()))
_BATCH = 500


def upgrade() -> None:
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(_INBOX.c.id, _INBOX.c.headers).where(_INBOX.c.id > last).order_by(_INBOX.c.id).limit(_BATCH)
        ).all()
        if not rows:
            return
        for row_id, headers in rows:
            kept = stored_headers(headers or {})
            if kept != (headers or {}):
                connection.execute(sa.update(_INBOX).where(_INBOX.c.id == row_id).values(headers=kept))
        last = rows[-1][0]


def downgrade() -> None:
    """Nothing to restore: the dropped headers are gone for good."""
