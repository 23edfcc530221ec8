"""``returns``: the return rate (units returned against units shipped) and the reasons customers gave."""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa

from omnibridge.reports.base import Grouping, Period, Report, ReportTable, Series, register
from omnibridge.reports.sql import grouping_or, ratio, within
from omnibridge.store import Store
from omnibridge.store.engine import read_session
from omnibridge.store.tables import ORDER_LINES
from omnibridge.store.types import UTCDateTime

NO_REASON = "(none given)"

_LINE = {
    "sqlite": (
        "json_each(r.lines) AS j",
        "json_extract(j.value, '$.reason')",
        "json_extract(j.value, '$.quantity')",
        "json_extract(j.value, '$.sku')",
    ),
    "postgresql": (
        "json_array_elements(r.lines) AS j(value)",
        "j.value->>'reason'",
        "CAST(j.value->>'quantity' AS INTEGER)",
        "j.value->>'sku'",
    ),
}


def _returned(store: Store, period: Period, grouping: Grouping) -> dict[str, dict[str, int]]:
    """Per group, units returned by reason (returns raised in the period, rejected ones left out)."""
    elements, reason, quantity, sku = _LINE["sqlite" if store.engine.dialect.name == "sqlite" else "postgresql"]
    group = {Grouping.CHANNEL: "r.channel", Grouping.LOCATION: "COALESCE(r.location_id, '(unknown)')"}.get(
        grouping, sku
    )
    query = sa.text(
        f"SELECT {group} AS g, COALESCE({reason}, :none) AS reason, SUM({quantity}) AS units "  # noqa: S608
        f"FROM returns AS r, {elements} "
        "WHERE r.created_at >= :start AND r.created_at < :end AND r.status != 'rejected' "
        "GROUP BY 1, 2"
    ).bindparams(
        sa.bindparam("start", period.start, type_=UTCDateTime()),
        sa.bindparam("end", period.end, type_=UTCDateTime()),
        sa.bindparam("none", NO_REASON),
    )
    found: dict[str, dict[str, int]] = defaultdict(dict)
    with read_session(store.engine) as session:
        for g, why, units in session.execute(query):
            found[str(g)][str(why)] = int(units or 0)
    return found


def _shipped(store: Store, period: Period, grouping: Grouping) -> dict[str, int]:
    lines = ORDER_LINES.c
    group = {
        Grouping.CHANNEL: lines.channel,
        Grouping.LOCATION: sa.func.coalesce(lines.location_id, "(unknown)"),
        Grouping.SKU: lines.sku,
    }[grouping]
    query = sa.select(group, sa.func.sum(lines.shipped)).where(within(lines.placed_at, period)).group_by(group)
    with read_session(store.engine) as session:
        return {str(g): int(units or 0) for g, units in session.execute(query)}


def compute(store: Store, period: Period, by: Grouping | None) -> ReportTable:
    grouping = grouping_or(by, Grouping.CHANNEL)
    returned = _returned(store, period, grouping)
    shipped = _shipped(store, period, grouping)
    rows: list[tuple[object, ...]] = []
    reasons: dict[str, int] = defaultdict(int)
    for group in sorted(set(returned) | set(shipped)):
        why = returned.get(group, {})
        units = sum(why.values())
        if not units and not shipped.get(group):
            continue
        for reason, count in why.items():
            reasons[reason] += count
        listed = ", ".join(f"{r}: {n}" for r, n in sorted(why.items(), key=lambda item: (-item[1], item[0])))
        rows.append((group, shipped.get(group, 0), units, ratio(units, shipped.get(group, 0)), listed or None))
    ranked = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    return ReportTable(
        title=f"Returns by {grouping.value}",
        columns=(grouping.value, "shipped_units", "returned_units", "return_rate", "reasons"),
        rows=tuple(rows),
        series=(Series("returned units by reason", tuple((r, float(n)) for r, n in ranked)),),
        notes=(
            "returned = units on returns raised in the period (rejected ones left out); shipped = units shipped "
            "on orders placed in the period",
        ),
    )


REPORT = register(
    Report(
        name="returns",
        title="Return rate and reasons",
        description="Units returned against units shipped, and the reasons given.",
        groupings=(Grouping.CHANNEL, Grouping.LOCATION, Grouping.SKU),
        compute=compute,
    )
)
