"""``omnibridge report NAME --from DATE --to DATE [--by ...] [--format table|json|csv]``: a report computed from
the store (see docs/reports.md); ``omnibridge report list``: the reports and the groupings each supports."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.cli.table import render_table
from omnibridge.config import DEFAULT_PROFILE
from omnibridge.errors import OmnibridgeError
from omnibridge.reports import REPORTS, Grouping, Period, ReportTable, run_report

FORMATS = ("table", "json", "csv")


def parse_moment(option: str, text: str, *, end: bool = False) -> datetime:
    """``YYYY-MM-DD`` (midnight UTC; for ``--to`` the end of that day) or an ISO 8601 time (UTC when no offset)."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return moment + timedelta(days=1) if end else moment
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise OmnibridgeError(
            f"{option} {text!r} is not a date; expected YYYY-MM-DD or an ISO 8601 time (2026-03-01T08:00:00+00:00)"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def report_period(start: str, end: str) -> Period:
    """The period ``--from`` and ``--to`` name (``--to`` a date includes that day)."""
    first, last = parse_moment("--from", start), parse_moment("--to", end, end=True)
    if last <= first:
        raise OmnibridgeError(f"--to {end} is not after --from {start}; expected a later --to")
    return Period(first, last)


def as_json(name: str, period: Period, by: Grouping | None, table: ReportTable) -> str:
    """The report as one JSON object (rows as objects keyed by column)."""
    return json.dumps(
        {
            "report": name,
            "title": table.title,
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "by": by.value if by else None,
            "columns": list(table.columns),
            "rows": [dict(zip(table.columns, row, strict=True)) for row in table.rows],
            "series": [{"name": s.name, "points": [list(p) for p in s.points]} for s in table.series],
            "notes": list(table.notes),
        },
        indent=2,
    )


def as_csv(table: ReportTable) -> str:
    """A header row, then one row per group (empty cells for figures that could not be computed)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.columns)
    writer.writerows([["" if cell is None else cell for cell in row] for row in table.rows])
    return out.getvalue().rstrip("\n")


def as_text(table: ReportTable) -> str:
    """The title, an aligned table (numbers right-aligned) and the notes."""
    if not table.rows:
        return f"{table.title}\nnothing in this period"
    numeric = {i for i in range(len(table.columns)) if all(isinstance(r[i], int | float | None) for r in table.rows)}
    cells = [["-" if cell is None else cell for cell in row] for row in table.rows]
    notes = "".join(f"\nnote: {note}" for note in table.notes)
    return f"{table.title}\n{render_table(table.columns, cells, right=numeric)}{notes}"


def report(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The report ('omnibridge report list' names them).")],
    start: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD, UTC) or an ISO time.", show_default=False)
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last day, included (YYYY-MM-DD, UTC) or an ISO time (excluded).")
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Rows per 'channel', 'location' or 'sku'.")] = None,
    output: Annotated[str, typer.Option("--format", help="'table', 'json' or 'csv'.")] = "table",
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """Order accuracy, time to ship, delivery speed, sync lag, stock-outs, sell-through and returns."""
    if name == "list":
        rows = [(r.name, ", ".join(g.value for g in r.groupings) or "-", r.description) for r in REPORTS.values()]
        typer.echo(render_table(("report", "--by", "what it shows"), rows))
        return
    if name not in REPORTS:
        raise OmnibridgeError(f"no report named {name!r}; expected one of: {', '.join(REPORTS)} (or 'list')")
    if output not in FORMATS:
        raise OmnibridgeError(f"--format {output!r}: expected one of: {', '.join(FORMATS)}")
    grouping: Grouping | None = None
    if by is not None:
        supported = REPORTS[name].groupings
        if by not in {g.value for g in supported}:
            raise OmnibridgeError(
                f"--by {by!r}: report {name} can be grouped by {', '.join(g.value for g in supported)}"
            )
        grouping = Grouping(by)
    if start is None or end is None:
        raise OmnibridgeError("a report needs --from DATE and --to DATE (YYYY-MM-DD)")
    period = report_period(start, end)
    with profile_store(profile, read_only=True) as (_, store):
        table = run_report(store, name, period, grouping)
    if output == "json":
        typer.echo(as_json(name, period, grouping, table))
    elif output == "csv":
        typer.echo(as_csv(table))
    else:
        typer.echo(as_text(table))
