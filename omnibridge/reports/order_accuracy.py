"""``order-accuracy``: orders shipped complete and correct, and how often orders were oversold or cancelled."""

from __future__ import annotations

import sqlalchemy as sa

from omnibridge.reports.base import Grouping, Period, Report, ReportTable, Series, register
from omnibridge.reports.sql import chart_points, grouping_or, ratio, within
from omnibridge.store import Store
from omnibridge.store.engine import read_session
from omnibridge.store.tables import INCIDENTS, ORDER_LINES

UNALLOCATED = "(unallocated)"


def line_group(by: Grouping) -> sa.ColumnElement[str]:
    """The order-line column a grouping reads (lines not allocated to a location yet count as ``(unallocated)``)."""
    if by is Grouping.LOCATION:
        return sa.func.coalesce(ORDER_LINES.c.location_id, UNALLOCATED)
    return ORDER_LINES.c.sku if by is Grouping.SKU else ORDER_LINES.c.channel


def oversold_orders() -> sa.Subquery:
    """The ids (``<channel>:<order ref>``) of orders the conflict resolver recorded an oversell for."""
    return (
        sa.select(INCIDENTS.c.order_id.label("order_id"))
        .where(INCIDENTS.c.kind == "oversell", INCIDENTS.c.order_id.is_not(None))
        .distinct()
        .subquery()
    )


def compute(store: Store, period: Period, by: Grouping | None) -> ReportTable:
    grouping = grouping_or(by, Grouping.CHANNEL)
    lines = ORDER_LINES.c
    per_order = (
        sa.select(
            line_group(grouping).label("g"),
            lines.channel,
            lines.order_ref,
            sa.func.sum(lines.quantity).label("q"),
            sa.func.sum(lines.shipped).label("s"),
            sa.func.sum(lines.cancelled).label("c"),
        )
        .where(within(lines.placed_at, period))
        .group_by(sa.literal_column("g"), lines.channel, lines.order_ref)
        .subquery()
    )
    oversold = oversold_orders()
    o = per_order.c
    flagged = oversold.c.order_id.is_not(None)
    closed = o.s + o.c >= o.q
    query = (
        sa.select(
            o.g,
            sa.func.count(),
            sa.func.sum(sa.case((closed, 0), else_=1)),
            sa.func.sum(sa.case((sa.and_(o.s >= o.q, o.c == 0, sa.not_(flagged)), 1), else_=0)),
            sa.func.sum(sa.case((flagged, 1), else_=0)),
            sa.func.sum(sa.case((o.c > 0, 1), else_=0)),
            sa.func.sum(sa.case((closed, 1), else_=0)),
        )
        .select_from(per_order.outerjoin(oversold, oversold.c.order_id == o.channel + ":" + o.order_ref))
        .group_by(o.g)
        .order_by(o.g)
    )
    rows: list[tuple[object, ...]] = []
    with read_session(store.engine) as session:
        for group, orders, still_open, correct, oversell, cancelled, done in session.execute(query):
            rows.append(
                (
                    group,
                    int(orders),
                    int(still_open),
                    int(correct),
                    int(oversell),
                    int(cancelled),
                    ratio(correct, done),
                    ratio(oversell, orders),
                    ratio(cancelled, orders),
                )
            )
    return ReportTable(
        title=f"Order accuracy by {grouping.value}",
        columns=(
            grouping.value,
            "orders",
            "open",
            "shipped_complete",
            "oversold",
            "cancelled",
            "accuracy",
            "oversell_rate",
            "cancel_rate",
        ),
        rows=tuple(rows),
        series=(
            Series("accuracy", chart_points(rows, 6)),
            Series("cancel rate", chart_points(rows, 8)),
        ),
        notes=(
            "orders placed in the period; accuracy = orders shipped in full with nothing cancelled and no oversell, "
            "over orders with nothing left open",
        ),
    )


REPORT = register(
    Report(
        name="order-accuracy",
        title="Order accuracy",
        description="Orders shipped complete and correct; oversell and cancel rates.",
        groupings=(Grouping.CHANNEL, Grouping.LOCATION, Grouping.SKU),
        compute=compute,
    )
)
