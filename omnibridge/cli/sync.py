"""``omnibridge sync --once``: pull every channel into the ledger, then push each channel what it should show."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.config import DEFAULT_PROFILE, LoadedProfile
from omnibridge.errors import OmnibridgeError
from omnibridge.logs import configure_logging
from omnibridge.pickup.settings import PickupSettings, pickup_states
from omnibridge.routing.setup import placer_for_profile
from omnibridge.store import Store
from omnibridge.sync import SyncEngine, SyncReport, build_channels
from omnibridge.sync.dry_run import DryRunChannel, dry_run
from omnibridge.sync.guard import approve_command
from omnibridge.sync.runtime import ChannelRuntime


async def run_sync_once(profile: Path, approve_mass_change: Collection[str] = ()) -> SyncReport:
    with profile_store(profile) as (loaded, store):
        channels = build_channels(loaded)
        if not channels:
            raise OmnibridgeError(
                f"{loaded.path}: no enabled sales channel to sync; add one under 'channels' (see docs/configuration.md)"
            )
        _check_channels(approve_mass_change, channels)
        engine = once_engine(store, loaded, channels, approve_mass_change)
        try:
            return await engine.sync_once()
        finally:
            await engine.aclose()


def once_engine(
    store: Store, loaded: LoadedProfile, channels: list[ChannelRuntime], approve_mass_change: Collection[str] = ()
) -> SyncEngine:
    """The engine ``sync --once`` runs: the profile's availability policy, routing and pickup settings (hold
    length, windows, capacity: the same as the daemon's)."""
    return SyncEngine(
        store,
        channels,
        policy=loaded.availability,
        approve_mass_change=approve_mass_change,
        placer=placer_for_profile(store, loaded),
        pickup=PickupSettings.from_profile(loaded, pickup_states(channels)),
    )


async def run_dry_run(profile: Path) -> list[DryRunChannel]:
    """What ``sync --once`` would write, from vendor reads only; the store is opened read-only."""
    with profile_store(profile, read_only=True) as (loaded, store):
        channels = build_channels(loaded)
        engine = SyncEngine(store, channels, policy=loaded.availability)
        try:
            return await dry_run(engine)
        finally:
            await engine.aclose()


def _check_channels(named: Collection[str], live: list[ChannelRuntime]) -> None:
    ids = {channel.id for channel in live}
    for name in named:
        if name not in ids:
            raise OmnibridgeError(
                f"--approve-mass-change {name}: no enabled sales channel has this id; expected one of "
                f"{', '.join(sorted(ids)) or '(none)'}"
            )


def _print_positions(label: str, positions: list[dict[str, str]], tail: str) -> None:
    if positions:
        named = ", ".join(f"{p['sku']}@{p['location_id']}" for p in positions[:20])
        more = f" and {len(positions) - 20} more" if len(positions) > 20 else ""
        typer.echo(f"  {label} ({len(positions)}): {named}{more} {tail}")


def _print_dry_run(reports: list[DryRunChannel]) -> None:
    typer.echo("dry run: nothing was written to any channel or to the store (orders and files were not pulled)")
    for report in reports:
        row = report.as_dict()
        writes = row["writes"]
        state = f"error: {report.error}" if report.error else f"{report.checked} levels read, {len(writes)} writes"
        typer.echo(f"{report.channel}: {state}")
        for write in writes:
            typer.echo(
                f"  would write {write['sku']} at {write['location_id']}: {write['shown']} -> {write['target']}"
                f"  [{write['rule']}] {write['why']}"
            )
        for write in row["unexplained"]:
            typer.echo(
                f"  unexplained {write['sku']} at {write['location_id']}: shows {write['shown']}, ledger target "
                f"{write['target']}  [{write['rule']}] {write['why']}"
            )
        _print_positions("unknown, not written", row["never_counted"], _UNKNOWN_TAIL)
        if report.not_listed:
            typer.echo(f"  not listed: {', '.join(report.not_listed)} (the channel has no item with these SKUs)")


_UNKNOWN_TAIL = "(never counted: nothing is written there until stock is counted; see 'omnibridge onboard')"


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
        _print_positions("unknown, not written", row["never_counted"], _UNKNOWN_TAIL)
        if row["held"]:
            _print_positions(
                "mass change held, not written",
                row["held"],
                f"(see 'omnibridge incidents --kind mass_change'; approve with '{approve_command(row['channel'])}')",
            )
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
    dry_run_: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Read the channels and print every write the pass would make; write nothing anywhere."
        ),
    ] = False,
    approve_mass_change: Annotated[
        list[str] | None,
        typer.Option(
            "--approve-mass-change",
            metavar="CHANNEL",
            help="Write a mass change the guard held on this channel (repeatable).",
        ),
    ] = None,
) -> None:
    """Pull orders and stock changes from every channel, then push each channel the quantity it should show."""
    configure_logging(level=log_level)
    if not once:
        typer.echo(
            "error: 'omnibridge sync' runs one pass: pass --once; to keep syncing, run the daemon: 'omnibridge run'",
            err=True,
        )
        raise typer.Exit(2)
    if dry_run_:
        planned = asyncio.run(run_dry_run(profile))
        if as_json:
            document = {"dry_run": True, "channels": [channel.as_dict() for channel in planned]}
            typer.echo(json.dumps(document, indent=2))
        else:
            _print_dry_run(planned)
        if any(channel.error for channel in planned):
            raise typer.Exit(1)
        return
    approved = approve_mass_change or []
    report = asyncio.run(run_sync_once(profile, approved) if approved else run_sync_once(profile))
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        _print_report(report)
    if not report.ok:
        raise typer.Exit(1)
