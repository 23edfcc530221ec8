"""``sync-lag``: how long a stock write took to reach each channel (recorded in the outbox, then done), and how
many did not land."""

from __future__ import annotations

import sqlalchemy as sa

from omnibridge.reports.base import Grouping, Period, Report, ReportTable, Series, register
from omnibridge.reports.sql import chart_points, grouping_or, number, ratio, seconds_between, within
from omnibridge.store import Store
from omnibridge.store.engine import read_session
from omnibridge.store.tables import OUTBOX

LANDED = ("applied", "unchanged")
NOT_LANDED = ("failed", "unknown", "abandoned", "unknown_sku")


def compute(store: Store, period: Period, by: Grouping | None) -> ReportTable:
    grouping = grouping_or(by, Grouping.CHANNEL)
    out = OUTBOX.c
    group = {Grouping.CHANNEL: out.channel, Grouping.LOCATION: out.location_id, Grouping.SKU: out.sku}[grouping]
    landed = sa.and_(out.status.in_(LANDED), out.finished_at.is_not(None))
    lag = sa.case((landed, seconds_between(store.engine.dialect.name, out.finished_at, out.created_at)))
    query = (
        sa.select(
            group,
            sa.func.count(),
            sa.func.sum(sa.case((landed, 1), else_=0)),
            sa.func.sum(sa.case((out.status.in_(NOT_LANDED), 1), else_=0)),
            sa.func.sum(sa.case((out.status == "pending", 1), else_=0)),
            sa.func.avg(lag),
            sa.func.max(lag),
        )
        .where(within(out.created_at, period))
        .group_by(group)
        .order_by(group)
    )
    with read_session(store.engine) as session:
        rows = tuple(
            (g, int(n), int(ok), int(bad), int(waiting), number(avg, 3), number(high, 3), ratio(bad, n))
            for g, n, ok, bad, waiting, avg, high in session.execute(query)
        )
    return ReportTable(
        title=f"Sync lag by {grouping.value} (seconds)",
        columns=(grouping.value, "writes", "landed", "failed", "pending", "avg_seconds", "max_seconds", "fail_rate"),
        rows=rows,
        series=(Series("average seconds", chart_points(rows, 5)),),
        notes=(
            "stock writes recorded in the period; lag = recorded in the outbox until the channel answered "
            "(applied or unchanged); failed = failed, unknown, abandoned or unknown SKU",
        ),
    )


REPORT = register(
    Report(
        name="sync-lag",
        title="Sync lag per channel",
        description="Seconds from a stock write being recorded to the channel applying it; failed writes.",
        groupings=(Grouping.CHANNEL, Grouping.LOCATION, Grouping.SKU),
        compute=compute,
    )
)
