"""``omnibridge onboard``: plan, then record, the opening stock of every position the ledger has never counted."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.config import DEFAULT_PROFILE, LoadedProfile
from omnibridge.errors import OmnibridgeError
from omnibridge.logs import configure_logging
from omnibridge.onboard import (
    OnboardInputError,
    OnboardPlan,
    Opening,
    apply_onboarding,
    now_utc,
    plan_onboarding,
    read_count_file,
)
from omnibridge.store import Store
from omnibridge.sync import build_channels


async def _channel_openings(loaded: LoadedProfile, store: Store, channel_id: str) -> list[Opening]:
    """What ``channel_id`` shows now at every mapped location, for every tracked SKU (vendor reads only)."""
    runtimes = {runtime.id: runtime for runtime in build_channels(loaded)}
    runtime = runtimes.get(channel_id)
    if runtime is None:
        raise OmnibridgeError(
            f"--from-channel {channel_id}: no enabled channel with this id reads stock levels; expected one of "
            f"{', '.join(sorted(runtimes)) or '(none)'}"
        )
    try:
        await runtime.resolve_locations()
        skus = [variant.sku for variant in store.list_variants() if variant.tracked]
        levels = await runtime.connector.read_levels(runtime.channel_skus(skus)) if skus else []
    finally:
        await runtime.connector.aclose()
    openings = []
    for level in levels:
        location_id = runtime.location_id(level.location_ref)
        if location_id is None:
            continue  # a channel location the profile does not map: not ours to count
        at = level.observed_at or now_utc()
        openings.append(
            Opening(runtime.master_sku(level.sku), location_id, max(level.available, 0), f"channel {channel_id}", at)
        )
    return openings


def _print_plan(plan: OnboardPlan, applied: bool) -> None:
    document = plan.as_dict(applied)
    for location in document["locations"]:
        typer.echo(f"{location['location_id']}: {location['skus']} SKUs, {location['units']} units")
        for position in location["positions"]:
            typer.echo(f"  {position['sku']:<24} {position['quantity']:>6}  from {position['source']}")
    for conflict in plan.conflicts:
        others = ", ".join(f"{o.quantity} from {o.source}" for o in conflict.others)
        typer.echo(
            f"conflict: {conflict.sku} at {conflict.location_id}: {conflict.chosen.quantity} from "
            f"{conflict.chosen.source} taken; {others} left"
        )
    if plan.known:
        typer.echo(
            f"already known, not touched: {len(plan.known)} positions (use 'omnibridge inventory count' to change them)"
        )
    if plan.still_unknown:
        shown = ", ".join(f"{sku}@{loc}" for sku, loc in plan.still_unknown[:10])
        more = f" and {len(plan.still_unknown) - 10} more" if len(plan.still_unknown) > 10 else ""
        typer.echo(
            f"still unknown: {len(plan.still_unknown)} positions no source counted ({shown}{more}); "
            "no sync writes there"
        )
    counts = document["counts"]
    if applied:
        typer.echo(f"applied {counts['applied']} counts, {counts['already_there']} already there")
    else:
        typer.echo(
            f"plan: {counts['planned']} counts to record, {counts['already_there']} already there; nothing was "
            "recorded: run again with --apply to record them"
        )


def onboard(
    from_channel: Annotated[
        list[str] | None,
        typer.Option("--from-channel", metavar="CHANNEL", help="Take what this channel shows now (repeatable)."),
    ] = None,
    from_file: Annotated[
        list[Path] | None,
        typer.Option(
            "--from-file", metavar="PATH", help="A count CSV: sku,location,quantity[,counted_at] (repeatable)."
        ),
    ] = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="Record the plan as counts (without it: only show it).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as one JSON object.")] = False,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """Take the opening stock of every position the ledger has never counted from files or channels; record it
    as counts with --apply (running it again changes nothing). Count files win over channels; see docs/go-live.md."""
    configure_logging(level="WARNING")
    if not from_channel and not from_file:
        typer.echo("error: name a source: --from-file PATH (a count CSV) or --from-channel CHANNEL", err=True)
        raise typer.Exit(2)
    with profile_store(profile, read_only=not apply) as (loaded, store):
        skus = {variant.sku for variant in store.list_variants()}
        locations = [location.id for location in loaded.locations if location.active]
        now = now_utc()
        sources: list[list[Opening]] = []
        try:
            for path in from_file or []:
                sources.append(read_count_file(path, skus, set(locations), now))
        except OnboardInputError as exc:
            for error in exc.errors:
                typer.echo(f"error: {error.render()}", err=True)
            typer.echo("nothing was recorded", err=True)
            raise typer.Exit(1) from None
        for channel_id in from_channel or []:
            sources.append(asyncio.run(_channel_openings(loaded, store, channel_id)))
        plan = plan_onboarding(store, sources, locations)
        if apply:
            apply_onboarding(store, plan)
    if as_json:
        typer.echo(json.dumps(plan.as_dict(apply), indent=2))
    else:
        _print_plan(plan, apply)
