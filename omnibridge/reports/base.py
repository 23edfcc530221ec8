"""The shape every report has: a period and a grouping in, a table (and the series its chart draws) out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omnibridge.store import Store

__all__ = ["REPORTS", "Grouping", "Period", "Report", "ReportTable", "Series", "register", "run_report"]


class Grouping(StrEnum):
    """What a report's rows are per (``--by``)."""

    CHANNEL = "channel"
    LOCATION = "location"
    SKU = "sku"


@dataclass(frozen=True, slots=True)
class Period:
    """The half-open interval ``[start, end)`` a report covers; both timezone-aware."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a report period needs timezone-aware start and end")
        if self.end <= self.start:
            raise ValueError(f"the period ends ({self.end.isoformat()}) before it starts ({self.start.isoformat()})")


@dataclass(frozen=True, slots=True)
class Series:
    """One line or bar series of a report's chart: ``points`` are ``(label, value)`` in display order."""

    name: str
    points: tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class ReportTable:
    """A report's answer: ``columns`` name the values of each row in ``rows`` (plain str, int, float or None);
    ``series`` what its chart shows (may be empty); ``notes`` anything the reader must know (rows skipped and
    why, a figure that could not be computed)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    series: tuple[Series, ...] = ()
    chart: str = "bar"
    """``bar`` or ``line``."""
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Report:
    """A named report. ``groupings``: the ``--by`` values it supports (empty: it has one fixed shape)."""

    name: str
    title: str
    description: str
    groupings: tuple[Grouping, ...]
    compute: Callable[[Store, Period, Grouping | None], ReportTable]


REPORTS: dict[str, Report] = {}
"""Every report by name, in the order they were registered."""


def register(report: Report) -> Report:
    """Add ``report`` to :data:`REPORTS` (a second report of the same name is a programming error)."""
    if report.name in REPORTS:
        raise ValueError(f"report {report.name!r} is registered twice")
    REPORTS[report.name] = report
    return report


def run_report(store: Store, name: str, period: Period, by: Grouping | None = None) -> ReportTable:
    """Compute the report ``name`` over ``period`` grouped ``by``. Raises :class:`KeyError` naming the known
    reports when ``name`` is not one, and :class:`ValueError` when ``by`` is not a grouping it supports."""
    report = REPORTS.get(name)
    if report is None:
        raise KeyError(f"no report named {name!r}; reports: {', '.join(REPORTS) or 'none'}")
    if by is not None and by not in report.groupings:
        supported = ", ".join(g.value for g in report.groupings) or "none"
        raise ValueError(f"report {name!r} cannot be grouped by {by.value}; it supports: {supported}")
    return report.compute(store, period, by)
