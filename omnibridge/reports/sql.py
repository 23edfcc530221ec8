"""SQL pieces the reports share: time differences, the larger/smaller of two values and ratios, written once for
SQLite and PostgreSQL so every report stays one aggregate query per table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from omnibridge.reports.base import Grouping, Period

ColumnLike = sa.ColumnElement[Any]


def seconds_between(dialect: str, later: ColumnLike, earlier: ColumnLike) -> ColumnLike:
    """``later - earlier`` in seconds (a float), on either backend."""
    if dialect == "sqlite":
        return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 86400.0
    return sa.extract("epoch", later - earlier)


def greatest(dialect: str, a: ColumnLike, b: ColumnLike) -> ColumnLike:
    """The larger of two values (SQLite's two-argument ``max``, PostgreSQL's ``greatest``)."""
    return sa.func.max(a, b) if dialect == "sqlite" else sa.func.greatest(a, b)


def least(dialect: str, a: ColumnLike, b: ColumnLike) -> ColumnLike:
    """The smaller of two values."""
    return sa.func.min(a, b) if dialect == "sqlite" else sa.func.least(a, b)


def within(column: Any, period: Period) -> ColumnLike:
    """``column`` falls in the period ``[start, end)``."""
    return sa.and_(column >= period.start, column < period.end)


def ratio(numerator: float | int | None, denominator: float | int | None, digits: int = 4) -> float | None:
    """``numerator / denominator`` rounded, or None when there is nothing to divide by."""
    if not denominator or numerator is None:
        return None
    return round(float(numerator) / float(denominator), digits)


def number(value: Any, digits: int = 1) -> float | None:
    """An aggregate as a rounded float (None stays None: nothing to aggregate)."""
    return None if value is None else round(float(value), digits)


def grouping_or(by: Grouping | None, default: Grouping) -> Grouping:
    """The grouping asked for, or the report's default."""
    return by or default


def chart_points(rows: Sequence[tuple[object, ...]], index: int) -> tuple[tuple[str, float], ...]:
    """``(group, value)`` of one column of ``rows`` for a chart (a figure that could not be computed is 0)."""
    points: list[tuple[str, float]] = []
    for row in rows:
        value = row[index]
        points.append((str(row[0]), float(value) if isinstance(value, int | float) else 0.0))
    return tuple(points)
