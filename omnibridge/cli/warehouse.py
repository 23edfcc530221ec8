"""``omnibridge export warehouse --to DIR``: write the orders, order lines, movements, shipments, returns and
incidents changed since the last export as Parquet files partitioned by date (docs/operations.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.config import DEFAULT_PROFILE
from omnibridge.errors import OmnibridgeError

export_app = typer.Typer(help="Export to a data warehouse: Parquet files by date.", no_args_is_help=True)


@export_app.command("warehouse")
def warehouse(
    to: Annotated[Path, typer.Option("--to", help="The folder to write to (created owner-only if missing).")],
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Write every row new or changed since the last export, once, as Parquet (DIR/TABLE/date=YYYY-MM-DD/)."""
    from omnibridge.warehouse import export_warehouse

    if to.exists() and not to.is_dir():
        raise OmnibridgeError(f"--to {to}: is a file; expected a folder to write the export to")
    with profile_store(profile, read_only=True) as (_, store):
        report = export_warehouse(store, to)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
        return
    for table, rows in report.rows.items():
        typer.echo(f"{table}: {rows} row(s)")
    typer.echo(f"{len(report.files)} file(s) written under {to}")
