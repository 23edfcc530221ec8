"""``sell-through``: units sold in the period against the stock there was to sell, per channel, location or SKU."""

from __future__ import annotations

import sqlalchemy as sa

from omnibridge.reports.base import Grouping, Period, Report, ReportTable, Series, register
from omnibridge.reports.sql import chart_points, grouping_or, ratio, within
from omnibridge.store import Store
from omnibridge.store.engine import read_session
from omnibridge.store.tables import MOVEMENTS

SOLD = ("sale", "fulfilment")
RECEIVED = ("receipt", "transfer_in")


def compute(store: Store, period: Period, by: Grouping | None) -> ReportTable:
    grouping = grouping_or(by, Grouping.CHANNEL)
    m = MOVEMENTS.c
    group = {Grouping.CHANNEL: m.source, Grouping.LOCATION: m.location_id, Grouping.SKU: m.sku}[grouping]
    in_period = within(m.occurred_at, period)
    flows = (
        sa.select(
            group,
            sa.func.sum(sa.case((sa.and_(in_period, m.kind.in_(SOLD)), -m.delta_on_hand), else_=0)),
            sa.func.sum(sa.case((sa.and_(in_period, m.kind.in_(RECEIVED)), m.delta_on_hand), else_=0)),
            sa.func.sum(m.delta_on_hand),
        )
        .where(m.occurred_at < period.end)
        .group_by(group)
        .order_by(group)
    )
    with read_session(store.engine) as session:
        found = [
            (str(g), int(sold or 0), int(got or 0), int(left or 0)) for g, sold, got, left in session.execute(flows)
        ]
    total_left = sum(left for *_, left in found)
    total_sold = sum(sold for _, sold, _, _ in found)
    rows: list[tuple[object, ...]] = []
    for g, sold, received, left in found:
        if grouping is Grouping.CHANNEL:
            if sold:
                rows.append((g, sold, received, None, ratio(sold, total_sold + total_left)))
        elif sold or received or left:
            rows.append((g, sold, received, left, ratio(sold, sold + left)))
    return ReportTable(
        title=f"Sell-through by {grouping.value}",
        columns=(grouping.value, "sold_units", "received_units", "on_hand_at_end", "sell_through"),
        rows=tuple(rows),
        series=(Series("sell-through", chart_points(rows, 4)),),
        notes=(
            "sold = sales and fulfilments in the period; sell-through = sold / (sold + on hand at the end); "
            "per channel, the denominator is all stock (every channel sells from the same ledger)",
        ),
    )


REPORT = register(
    Report(
        name="sell-through",
        title="Sell-through",
        description="Units sold against the stock there was to sell, per channel, location or SKU.",
        groupings=(Grouping.CHANNEL, Grouping.LOCATION, Grouping.SKU),
        compute=compute,
    )
)
