"""``delivery-speed``: from the carrier's first scan to delivery, read from the tracking history."""

from __future__ import annotations

import sqlalchemy as sa

from omnibridge.reports.base import Grouping, Period, Report, ReportTable, Series, register
from omnibridge.reports.sql import chart_points, grouping_or, number, ratio, seconds_between, within
from omnibridge.reports.time_to_ship import first_scans
from omnibridge.store import Store
from omnibridge.store.engine import read_session
from omnibridge.store.tables import ORDERS, SHIPMENTS, TRACKING_EVENTS

DAY = 86400.0


def compute(store: Store, period: Period, by: Grouping | None) -> ReportTable:
    grouping = grouping_or(by, Grouping.CHANNEL)
    dialect = store.engine.dialect.name
    scans = first_scans()
    events = TRACKING_EVENTS.c
    delivered = (
        sa.select(events.shipment_id, sa.func.min(events.occurred_at).label("delivered_at"))
        .where(events.status == "delivered")
        .group_by(events.shipment_id)
        .subquery()
    )
    group = SHIPMENTS.c.from_location_id if grouping is Grouping.LOCATION else ORDERS.c.channel
    days = seconds_between(dialect, delivered.c.delivered_at, scans.c.scanned_at) / DAY
    query = (
        sa.select(
            group,
            sa.func.count(),
            sa.func.count(delivered.c.delivered_at),
            sa.func.avg(days),
            sa.func.min(days),
            sa.func.max(days),
        )
        .select_from(
            SHIPMENTS.join(ORDERS, ORDERS.c.id == SHIPMENTS.c.order_id)
            .join(scans, scans.c.shipment_id == SHIPMENTS.c.id)
            .outerjoin(delivered, delivered.c.shipment_id == SHIPMENTS.c.id)
        )
        .where(within(scans.c.scanned_at, period))
        .group_by(group)
        .order_by(group)
    )
    with read_session(store.engine) as session:
        rows = tuple(
            (g, int(n), int(done), ratio(done, n), number(avg, 2), number(low, 2), number(high, 2))
            for g, n, done, avg, low, high in session.execute(query)
        )
    return ReportTable(
        title=f"Delivery speed by {grouping.value} (days)",
        columns=(grouping.value, "shipped", "delivered", "delivered_rate", "avg_days", "min_days", "max_days"),
        rows=rows,
        series=(Series("days to deliver", chart_points(rows, 4)),),
        notes=("shipments first scanned in the period; days from first scan to the first 'delivered' event",),
    )


REPORT = register(
    Report(
        name="delivery-speed",
        title="Delivery speed",
        description="Days from the carrier's first scan to delivery, from tracking history.",
        groupings=(Grouping.CHANNEL, Grouping.LOCATION),
        compute=compute,
    )
)
