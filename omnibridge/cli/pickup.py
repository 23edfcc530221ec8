"""``omnibridge pickup options SKU --qty N --near lat,lon|ZIP [--curbside] [--format table|json]``: which stores
can hand the item over and in which window, and why the others cannot (docs/pickup.md). Read-only."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.cli.table import render_table
from omnibridge.config import DEFAULT_PROFILE
from omnibridge.errors import OmnibridgeError
from omnibridge.pickup.desk import PickupDesk, UnknownSkuError
from omnibridge.pickup.near import NEAR_HELP, NearError, parse_near
from omnibridge.pickup.options import PickupOptions

__all__ = ["pickup_app", "render_options"]

pickup_app = typer.Typer(
    help="Pickup and curbside: which stores can hand an item over, and when.",
    no_args_is_help=True,
    add_completion=False,
)


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


@pickup_app.command("options")
def options(
    sku: Annotated[str, typer.Argument(help="The master SKU.")],
    near: Annotated[str, typer.Option("--near", help=f"Where the customer is: {NEAR_HELP}.")],
    qty: Annotated[int, typer.Option("--qty", min=1, help="How many units (1 or more).")] = 1,
    curbside: Annotated[bool, typer.Option("--curbside", help="At the kerb: only stores offering curbside.")] = False,
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json.")] = OutputFormat.TABLE,
    now: Annotated[
        str | None,
        typer.Option("--now", help="Answer as of this moment: ISO 8601 with a timezone (default: now)."),
    ] = None,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """The stores that can hand over QTY x SKU near a place, each with its first window with a free place, and
    why every other location was left out."""
    try:
        point = parse_near(near)
    except NearError as exc:
        raise OmnibridgeError(f"--near {exc}") from None
    moment = _moment(now)
    with profile_store(profile, read_only=True) as (loaded, store):
        try:
            found = PickupDesk.for_profile(store, loaded).options(sku, qty, point, curbside=curbside, now=moment)
        except UnknownSkuError as exc:
            raise OmnibridgeError(f"{exc}; import it first with 'omnibridge catalog import FILE'") from None
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(found.to_json(), indent=2))
    else:
        typer.echo(render_options(found))


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise OmnibridgeError(f"--now {text!r}: expected ISO 8601 with a timezone, such as 2026-12-07T09:00-07:00")
    return moment


def render_options(found: PickupOptions) -> str:
    """The answer as text: a summary line, the stores with their windows, the locations left out."""
    request = found.request
    what = "curbside pickup" if request.curbside else "pickup"
    lines = [
        f"{request.quantity} x {request.sku} for {what} near {request.near.lat:.4f},{request.near.lon:.4f} "
        f"(radius {found.radius_km:g} km, today and {found.horizon_days} more days)",
        f"fallback: {found.fallback} - {found.message}",
    ]
    if found.alternative:
        lines.append(f"alternative: {found.alternative} (reported only: nothing was booked)")
    if found.stores:
        rows = [
            (o["location_id"], o["distance_km"], o["local_window"], o["step"], o["available"], o["free_places"])
            for o in (offer.to_json() for offer in found.stores)
        ]
        headers = ("STORE", "KM", "FIRST WINDOW WITH A PLACE", "STEP", "STOCK", "FREE")
        lines += ["", render_table(headers, rows, right=(1, 4, 5))]
    if found.left_out:
        rows_out = [
            (left.location_id, "-" if left.distance_km is None else f"{left.distance_km:.1f}", left.reason)
            for left in found.left_out
        ]
        lines += ["", "left out:", render_table(("LOCATION", "KM", "WHY"), rows_out, right=(1,))]
    return "\n".join(lines)
