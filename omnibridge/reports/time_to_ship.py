"""``time-to-ship``: from order placed to its label (the shipment is created) and to the carrier's first scan."""

from __future__ import annotations

import sqlalchemy as sa

from omnibridge.reports.base import Grouping, Period, Report, ReportTable, Series, register
from omnibridge.reports.sql import chart_points, grouping_or, number, seconds_between, within
from omnibridge.store import Store
from omnibridge.store.engine import read_session
from omnibridge.store.tables import ORDERS, SHIPMENTS, TRACKING_EVENTS

HOUR = 3600.0


def first_scans() -> sa.Subquery:
    """Each shipment's first tracking event past ``pending``: when the carrier first had it in hand."""
    events = TRACKING_EVENTS.c
    return (
        sa.select(events.shipment_id, sa.func.min(events.occurred_at).label("scanned_at"))
        .where(events.status != "pending")
        .group_by(events.shipment_id)
        .subquery()
    )


def compute(store: Store, period: Period, by: Grouping | None) -> ReportTable:
    grouping = grouping_or(by, Grouping.CHANNEL)
    dialect = store.engine.dialect.name
    scans = first_scans()
    group = SHIPMENTS.c.from_location_id if grouping is Grouping.LOCATION else ORDERS.c.channel
    to_label = seconds_between(dialect, SHIPMENTS.c.created_at, ORDERS.c.placed_at) / HOUR
    to_scan = seconds_between(dialect, scans.c.scanned_at, ORDERS.c.placed_at) / HOUR
    query = (
        sa.select(
            group,
            sa.func.count(),
            sa.func.avg(to_label),
            sa.func.max(to_label),
            sa.func.count(scans.c.scanned_at),
            sa.func.avg(to_scan),
            sa.func.max(to_scan),
        )
        .select_from(
            SHIPMENTS.join(ORDERS, ORDERS.c.id == SHIPMENTS.c.order_id).outerjoin(
                scans, scans.c.shipment_id == SHIPMENTS.c.id
            )
        )
        .where(within(ORDERS.c.placed_at, period))
        .group_by(group)
        .order_by(group)
    )
    with read_session(store.engine) as session:
        rows = tuple(
            (g, int(n), number(avg_l), number(max_l), int(scanned), number(avg_s), number(max_s))
            for g, n, avg_l, max_l, scanned, avg_s, max_s in session.execute(query)
        )
    return ReportTable(
        title=f"Time to pick and ship by {grouping.value} (hours)",
        columns=(
            grouping.value,
            "shipments",
            "avg_hours_to_label",
            "max_hours_to_label",
            "scanned",
            "avg_hours_to_first_scan",
            "max_hours_to_first_scan",
        ),
        rows=rows,
        series=(
            Series("hours to label", chart_points(rows, 2)),
            Series("hours to first scan", chart_points(rows, 5)),
        ),
        notes=("shipments of orders placed in the period; first scan = first tracking event past 'pending'",),
    )


REPORT = register(
    Report(
        name="time-to-ship",
        title="Time to pick and ship",
        description="Hours from order placed to label, and to the carrier's first scan.",
        groupings=(Grouping.CHANNEL, Grouping.LOCATION),
        compute=compute,
    )
)
