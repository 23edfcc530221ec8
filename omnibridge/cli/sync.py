"""``omnibridge sync --once``: pull every channel into the ledger, then push each channel what it should show."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.config import DEFAULT_PROFILE
from omnibridge.errors import OmnibridgeError
from omnibridge.logs import configure_logging
from omnibridge.sync import SyncEngine, SyncReport, build_channels


async def run_sync_once(profile: Path) -> SyncReport:
    with profile_store(profile) as (loaded, store):
        channels = build_channels(loaded)
        if not channels:
            raise OmnibridgeError(
                f"{loaded.path}: no enabled sales channel to sync; add one under 'channels' (see docs/configuration.md)"
            )
        engine = SyncEngine(store, channels, policy=loaded.availability)
        try:
            return await engine.sync_once()
        finally:
            await engine.aclose()


def _print_report(report: SyncReport) -> None:
    header = (
        f"{'channel':<14} {'events':>6} {'orders':>6} {'applied':>7} {'dupes':>5} {'checked':>7} {'differ':>6} "
        f"{'pushed':>6}  notes"
    )
    typer.echo(header)
    for row in report.as_dict()["channels"]:
        pushed = row["pushed"]
        notes = row["error"] or ", ".join(
            f"{count} {status}" for status, count in pushed.items() if count and status != "applied"
        )
        typer.echo(
            f"{row['channel']:<14} {row['events_pulled']:>6} {row['orders_recorded']:>6} {row['movements_applied']:>7} "
            f"{row['duplicates']:>5} "
            f"{row['levels_checked']:>7} {row['levels_differing']:>6} {pushed.get('applied', 0):>6}  {notes}"
        )
        for message in row["messages"]:
            typer.echo(f"  note: {message}")
        if row["not_listed"]:
            typer.echo(
                f"  not listed: {', '.join(row['not_listed'])} (the channel has no item with these SKUs: nothing was "
                "shown or written for them; see 'omnibridge incidents --kind not_listed')"
            )


def sync(
    once: Annotated[
        bool, typer.Option("--once", help="Run one pass and exit (to keep syncing, run 'omnibridge run').")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as one JSON object.")] = False,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    log_level: Annotated[str, typer.Option("--log-level", help="Log level on stderr.")] = "WARNING",
) -> None:
    """Pull orders and stock changes from every channel, then push each channel the quantity it should show."""
    configure_logging(level=log_level)
    if not once:
        typer.echo(
            "error: 'omnibridge sync' runs one pass: pass --once; to keep syncing, run the daemon: 'omnibridge run'",
            err=True,
        )
        raise typer.Exit(2)
    report = asyncio.run(run_sync_once(profile))
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        _print_report(report)
    if not report.ok:
        raise typer.Exit(1)
