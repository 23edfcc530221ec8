"""``omnibridge inventory ...``: what the ledger says about a SKU's stock, per location."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.config import DEFAULT_PROFILE
from omnibridge.models import InventoryPosition

inventory_app = typer.Typer(help="Stock positions from the ledger.", no_args_is_help=True)

BUCKETS = ("on_hand", "committed", "reserved", "safety_stock", "incoming", "available")


def position_rows(positions: list[InventoryPosition], names: dict[str, str]) -> list[dict[str, Any]]:
    """One JSON-ready row per position: location id and name, then every bucket and ``available``."""
    rows: list[dict[str, Any]] = []
    for position in sorted(positions, key=lambda p: p.location_id):
        row: dict[str, Any] = {
            "location_id": position.location_id,
            "location_name": names.get(position.location_id, position.location_id),
        }
        row.update({bucket: getattr(position, bucket) for bucket in BUCKETS})
        rows.append(row)
    return rows


def totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    """The sum of every bucket over ``rows``."""
    return {bucket: sum(int(row[bucket]) for row in rows) for bucket in BUCKETS}


def render_positions(sku: str, rows: list[dict[str, Any]]) -> str:
    """A plain-text table: one line per location and a total line."""
    if not rows:
        return f"no stock recorded for {sku}"
    headers = ("LOCATION", *(bucket.upper() for bucket in BUCKETS))
    body = [(f"{row['location_id']} ({row['location_name']})", *(str(row[b]) for b in BUCKETS)) for row in rows]
    total = totals(rows)
    body.append(("total", *(str(total[b]) for b in BUCKETS)))
    widths = [max(len(line[i]) for line in [headers, *body]) for i in range(len(headers))]

    def fmt(line: tuple[str, ...]) -> str:
        cells = [line[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True)
        ]
        return "  ".join(cells)

    return "\n".join([f"{sku}", fmt(headers), *(fmt(line) for line in body)])


@inventory_app.command("show")
def show(
    sku: Annotated[str, typer.Argument(help="The master SKU.")],
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show a SKU's stock at every location: on hand, committed, reserved, safety stock, incoming, available."""
    with profile_store(profile, read_only=True) as (loaded, store):
        variant = store.get_variant(sku)
        if variant is None:
            typer.echo(f"error: unknown SKU '{sku}': it is not in the store at {loaded.store_url_masked}", err=True)
            raise typer.Exit(1)
        positions = store.positions(sku)
        names = {location.id: location.name for location in store.list_locations()}
    rows = position_rows(positions, names)
    if as_json:
        document = {"sku": sku, "title": variant.title, "positions": rows, "totals": totals(rows)}
        typer.echo(json.dumps(document, indent=2))
        return
    typer.echo(render_positions(sku, rows))
