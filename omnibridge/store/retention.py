"""Retention: raw webhook bodies and personal data are removed once they are no longer needed.

* The raw body (and headers) of a webhook delivery that was applied (``done``) or set aside (``discarded``) is
  emptied ``raw_body_days`` after it was received. The inbox row stays: its dedupe key keeps a late re-delivery
  of the same event from being applied twice. Dead and pending deliveries keep their bodies (sealed) until they
  are applied or discarded: they are needed to replay them.
* An order that is fulfilled, completed or cancelled loses its address ``personal_data_days_after_complete``
  after its last update, and so do its shipments. Everything else stays: the order's lines, totals, status and
  times, the order line records, the shipments' lines, tracking and costs, and every stock movement — reports
  and the ledger do not change.

Each batch is its own transaction, so a purge runs while the daemon does; :func:`purge` with ``dry_run`` only
counts what would go.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from omnibridge.models import OrderStatus
from omnibridge.store.engine import read_session, write_session
from omnibridge.store.sync_state import InboxStatus
from omnibridge.store.tables import INBOX, ORDERS, SHIPMENTS

FINISHED_ORDERS = (OrderStatus.FULFILLED, OrderStatus.COMPLETED, OrderStatus.CANCELLED)
FINISHED_DELIVERIES = (InboxStatus.DONE, InboxStatus.DISCARDED)


@dataclass(frozen=True)
class PurgeReport:
    """How many raw bodies, order addresses and shipment addresses were (or, on a dry run, would be) removed."""

    raw_bodies: int
    order_addresses: int
    shipment_addresses: int
    dry_run: bool

    def as_dict(self) -> dict[str, int | bool]:
        return {
            "raw_bodies": self.raw_bodies,
            "order_addresses": self.order_addresses,
            "shipment_addresses": self.shipment_addresses,
            "dry_run": self.dry_run,
        }


def _ids(engine: sa.Engine, query: sa.Select[tuple[object]]) -> list[object]:
    with read_session(engine) as session:
        return list(session.execute(query).scalars())


def purge(
    engine: sa.Engine,
    now: datetime,
    *,
    raw_body_days: int,
    personal_data_days: int,
    dry_run: bool = False,
    batch: int = 500,
) -> PurgeReport:
    """Remove what is past its retention at ``now`` (see the module docstring); the counts of what went."""
    body_cutoff = now - timedelta(days=raw_body_days)
    personal_cutoff = now - timedelta(days=personal_data_days)
    bodies = (
        sa.select(INBOX.c.id)
        .where(
            INBOX.c.status.in_([status.value for status in FINISHED_DELIVERIES]),
            INBOX.c.received_at < body_cutoff,
            sa.func.length(INBOX.c.raw_body) > 0,
        )
        .order_by(INBOX.c.id)
    )
    orders = (
        sa.select(ORDERS.c.id)
        .where(
            ORDERS.c.status.in_([status.value for status in FINISHED_ORDERS]),
            ORDERS.c.updated_at < personal_cutoff,
        )
        .order_by(ORDERS.c.id)
    )
    with_address = orders.where(ORDERS.c.ship_to.is_not(None), sa.cast(ORDERS.c.ship_to, sa.Text) != "null")
    shipments = (
        sa.select(SHIPMENTS.c.id)
        .where(
            SHIPMENTS.c.order_id.in_(orders.with_only_columns(ORDERS.c.id).order_by(None)),
            SHIPMENTS.c.ship_to.is_not(None),
            sa.cast(SHIPMENTS.c.ship_to, sa.Text) != "null",
        )
        .order_by(SHIPMENTS.c.id)
    )
    if dry_run:
        return PurgeReport(
            len(_ids(engine, bodies)), len(_ids(engine, with_address)), len(_ids(engine, shipments)), dry_run=True
        )
    counts = [
        _in_batches(engine, bodies, INBOX, INBOX.c.id, {"raw_body": b"", "headers": {}}, batch),
        _in_batches(engine, with_address, ORDERS, ORDERS.c.id, {"ship_to": sa.null()}, batch),
        _in_batches(engine, shipments, SHIPMENTS, SHIPMENTS.c.id, {"ship_to": sa.null()}, batch),
    ]
    return PurgeReport(counts[0], counts[1], counts[2], dry_run=False)


def _in_batches(
    engine: sa.Engine,
    query: sa.Select[tuple[object]],
    table: sa.Table,
    key: sa.ColumnElement[object],
    values: dict[str, object],
    batch: int,
) -> int:
    done = 0
    while True:
        with write_session(engine) as session:
            ids = list(session.execute(query.limit(batch)).scalars())
            if not ids:
                return done
            session.execute(sa.update(table).where(key.in_(ids)).values(values))
        done += len(ids)
