"""``omnibridge pickups``: click-and-collect and curbside pickups, and what store staff do with them.

* ``pickups list [--at STORE] [--status S] [--format table|json]``: the pickups, by window;
* ``pickups ready ID`` / ``pickups collected ID``: staff prepared it / the customer took it (the units leave the
  store's stock, once);
* ``pickups reject ID --reason TEXT``: the store cannot fill it: the hold is released, the pickup fallback asked
  (never shipped), and what it did is printed;
* ``pickups expire [--dry-run]``: release every hold past its expiry now (what the daemon does every minute).

Every action goes through :class:`omnibridge.pickup.staff.PickupService` (the daemon's ``/api/pickups`` uses it
too) and is written to the audit log naming the operating-system user. An action the pickup's state does not
allow (collecting an expired pickup) is one line naming the state it is in.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.access import Actor
from omnibridge.cli.orders import table
from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.config import DEFAULT_PROFILE, LoadedProfile
from omnibridge.errors import OmnibridgeError
from omnibridge.pickup.expiry import expire_due
from omnibridge.pickup.settings import PickupSettings
from omnibridge.pickup.staff import PickupService, StaffResult, pickup_json
from omnibridge.routing.setup import service_for_profile
from omnibridge.store import Store

__all__ = ["pickups_app"]

pickups_app = typer.Typer(no_args_is_help=True, help="Pickups (click-and-collect, curbside): list and act on them.")

PickupArgument = Annotated[str, typer.Argument(metavar="ID", help="The pickup id, as 'pickups list' shows it.")]


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"


def _service(loaded: LoadedProfile, store: Store) -> PickupService:
    routing = service_for_profile(store, loaded) if loaded.routing.enabled else None
    return PickupService(store, PickupSettings.from_profile(loaded), routing)


@pickups_app.command("list")
def list_command(
    at: Annotated[str | None, typer.Option("--at", help="Only this store (a location id of the profile).")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="Only this state: reserved, ready, arrived, collected, ...")
    ] = None,
    output: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.TABLE,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """The pickups, by window (all stores and states unless filtered)."""
    with profile_store(profile, read_only=True) as (loaded, store):
        if at is not None and loaded.location(at) is None:
            known = ", ".join(loc.id for loc in loaded.locations)
            raise OmnibridgeError(f"--at {at!r} is not a location of the profile; expected one of: {known}")
        pickups = _service(loaded, store).list(at=at, status=status)
    if output is Format.JSON:
        typer.echo(json.dumps({"pickups": [pickup_json(p) for p in pickups]}, indent=2))
        return
    if not pickups:
        typer.echo("no pickups")
        return
    rows = [
        (
            p.id,
            p.location_id,
            p.status,
            "curbside" if p.curbside else "counter",
            p.window_start.isoformat(timespec="minutes"),
            p.expires_at.isoformat(timespec="minutes"),
            sum(int(line.get("quantity", 0)) for line in p.lines),
        )
        for p in pickups
    ]
    typer.echo(table(("id", "store", "status", "where", "window", "expires", "units"), rows))


def _report(result: StaffResult, action: str, output: Format) -> None:
    if output is Format.JSON:
        typer.echo(json.dumps({**result.to_json(), "message": result.message(action)}, indent=2))
    else:
        typer.echo(result.message(action))


FormatOption = Annotated[Format, typer.Option("--format", help="table (one line) or json.")]


@pickups_app.command("ready")
def ready_command(
    pickup_id: PickupArgument, output: FormatOption = Format.TABLE, profile: ProfileOption = Path(DEFAULT_PROFILE)
) -> None:
    """Staff prepared the pickup: it waits at the counter (the channel is told)."""
    with profile_store(profile) as (loaded, store):
        result = _service(loaded, store).ready(pickup_id, actor=Actor.os_user())
    _report(result, "ready", output)


@pickups_app.command("collected")
def collected_command(
    pickup_id: PickupArgument, output: FormatOption = Format.TABLE, profile: ProfileOption = Path(DEFAULT_PROFILE)
) -> None:
    """The customer took the pickup: its units leave the store's stock (once; the channel is told)."""
    with profile_store(profile) as (loaded, store):
        result = _service(loaded, store).collected(pickup_id, actor=Actor.os_user())
    _report(result, "collected", output)


@pickups_app.command("reject")
def reject_command(
    pickup_id: PickupArgument,
    reason: Annotated[str, typer.Option("--reason", help="Why the store cannot fill it (shown to operators).")],
    output: FormatOption = Format.TABLE,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """The store cannot fill the pickup: release its hold and ask the pickup fallback (never shipped)."""
    with profile_store(profile) as (loaded, store):
        result = _service(loaded, store).reject(pickup_id, reason, actor=Actor.os_user())
    _report(result, "reject", output)


@pickups_app.command("expire")
def expire_command(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List the holds due; release nothing.")] = False,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """Release every pickup hold past its expiry now, through the ledger, once each."""
    with profile_store(profile, read_only=dry_run) as (loaded, store):
        report = expire_due(store, PickupSettings.from_profile(loaded), dry_run=dry_run)
    if dry_run:
        typer.echo(f"{len(report.due)} hold(s) due: " + (", ".join(report.due) or "none"))
        return
    for pickup_id, units in report.released.items():
        typer.echo(f"{pickup_id}: expired, {units} unit(s) released")
    typer.echo(f"{len(report.released)} hold(s) released")
