"""``stock-outs``: positions that ran out (available at 0 or below) and for how long, from the movement history,
and the sales lost to it (units cancelled on orders the conflict resolver found oversold)."""

from __future__ import annotations

import sqlalchemy as sa

from omnibridge.reports.base import Grouping, Period, Report, ReportTable, Series, register
from omnibridge.reports.order_accuracy import oversold_orders
from omnibridge.reports.sql import chart_points, greatest, grouping_or, least, number, seconds_between, within
from omnibridge.store import Store
from omnibridge.store.engine import read_session
from omnibridge.store.tables import MOVEMENTS, ORDER_LINES
from omnibridge.store.types import UTCDateTime

HOUR = 3600.0


def _stock_outs(store: Store, period: Period, grouping: Grouping) -> dict[str, tuple[int, int, float]]:
    """Per group: times a position went out in the period, positions out at some time, hours out (up to the end
    of the period, or now when the period runs into the future)."""
    dialect = store.engine.dialect.name
    m = MOVEMENTS.c
    change = m.delta_on_hand - m.delta_committed - m.delta_reserved
    position = (m.sku, m.location_id)
    ordering = (m.occurred_at, m.id)
    history = (
        sa.select(
            m.sku,
            m.location_id,
            m.occurred_at,
            change.label("change"),
            sa.func.sum(change).over(partition_by=position, order_by=ordering, rows=(None, 0)).label("after"),
            sa.func.lead(m.occurred_at).over(partition_by=position, order_by=ordering).label("next_at"),
        )
        .where(m.occurred_at < period.end)
        .subquery()
    )
    h = history.c
    start = sa.literal(period.start, UTCDateTime())
    end = sa.literal(min(period.end, store.now()), UTCDateTime())
    out_from = greatest(dialect, h.occurred_at, start)
    out_until = least(dialect, sa.func.coalesce(h.next_at, end), end)
    is_out = sa.and_(h.after <= 0, out_until > out_from)
    seconds = sa.case((is_out, seconds_between(dialect, out_until, out_from)), else_=0.0)
    went_out = sa.and_(h.after <= 0, h.after - h.change > 0, within(h.occurred_at, period))
    group = h.sku if grouping is Grouping.SKU else h.location_id
    query = (
        sa.select(
            group,
            sa.func.sum(sa.case((went_out, 1), else_=0)),
            sa.func.count(sa.distinct(sa.case((is_out, h.sku + "@" + h.location_id)))),
            sa.func.sum(seconds),
        )
        .group_by(group)
        .order_by(group)
    )
    with read_session(store.engine) as session:
        return {
            str(g): (int(events or 0), int(positions or 0), float(total or 0.0) / HOUR)
            for g, events, positions, total in session.execute(query)
        }


def _lost_sales(store: Store, period: Period, grouping: Grouping) -> dict[str, tuple[int, int]]:
    """Per group: orders and units cancelled on orders placed in the period that were oversold."""
    lines = ORDER_LINES.c
    oversold = oversold_orders()
    group = lines.sku if grouping is Grouping.SKU else sa.func.coalesce(lines.location_id, "(unallocated)")
    query = (
        sa.select(
            group, sa.func.count(sa.distinct(lines.channel + ":" + lines.order_ref)), sa.func.sum(lines.cancelled)
        )
        .select_from(ORDER_LINES.join(oversold, oversold.c.order_id == lines.channel + ":" + lines.order_ref))
        .where(within(lines.placed_at, period), lines.cancelled > 0)
        .group_by(group)
    )
    with read_session(store.engine) as session:
        return {str(g): (int(orders), int(units or 0)) for g, orders, units in session.execute(query)}


def compute(store: Store, period: Period, by: Grouping | None) -> ReportTable:
    grouping = grouping_or(by, Grouping.SKU)
    outs = _stock_outs(store, period, grouping)
    lost = _lost_sales(store, period, grouping)
    rows: list[tuple[object, ...]] = []
    for group in sorted(set(outs) | set(lost)):
        events, positions, hours = outs.get(group, (0, 0, 0.0))
        orders, units = lost.get(group, (0, 0))
        if events or positions or orders:
            rows.append((group, events, positions, number(hours), orders, units))
    return ReportTable(
        title=f"Stock-outs and lost sales by {grouping.value}",
        columns=(grouping.value, "stock_outs", "positions_out", "hours_out", "lost_orders", "lost_units"),
        rows=tuple(rows),
        series=(
            Series("hours out of stock", chart_points(rows, 3)),
            Series("lost units", chart_points(rows, 5)),
        ),
        notes=(
            "available = on hand - committed - reserved, replayed from the movements; hours out are counted "
            "within the period, up to now; lost sales = units cancelled on oversold orders placed in the period",
        ),
    )


REPORT = register(
    Report(
        name="stock-outs",
        title="Stock-outs and lost sales",
        description="Positions at 0 available and for how long; units cancelled for want of stock.",
        groupings=(Grouping.SKU, Grouping.LOCATION),
        compute=compute,
    )
)
