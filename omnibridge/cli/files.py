"""``omnibridge files export``: write new and changed orders and shipments to the ERP/WMS outbox folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.config import DEFAULT_PROFILE
from omnibridge.sync.file_exports import export_profile

files_app = typer.Typer(help="ERP/WMS file feeds: export orders and shipments.", no_args_is_help=True)


@files_app.command("export")
def export(
    channel: Annotated[str | None, typer.Option("--channel", help="Only this file-feed channel.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """Write the orders and shipments that are new or changed since the last export, once each, as files."""
    with profile_store(profile) as (loaded, store):
        reports = export_profile(loaded, store, channel_id=channel)
    if as_json:
        typer.echo(json.dumps({"exports": [report.as_dict() for report in reports]}, indent=2))
        return
    for report in reports:
        if not report.files:
            typer.echo(f"{report.channel}: nothing new to export")
            continue
        typer.echo(f"{report.channel}: {report.orders} order(s), {report.shipments} shipment(s)")
        for name in report.files:
            typer.echo(f"  wrote {name}")
