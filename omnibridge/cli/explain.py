"""``omnibridge explain SKU``: what each sales channel should show for a SKU at each location, and why."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.config import DEFAULT_PROFILE, LoadedProfile
from omnibridge.policy import Allocation, AvailabilityPlanner, feeds_for_profile
from omnibridge.store import Store
from omnibridge.sync.listed import NOT_LISTED
from omnibridge.sync.reconcile import available_by_location

UNKNOWN = "unknown (never counted)"
UNKNOWN_WHY = "the ledger has never counted or received stock here: nothing is written (see 'omnibridge onboard')"


def render_allocations(
    title: str, allocations: list[Allocation], available: dict[str, int], unknown: Collection[str] = ()
) -> str:
    """A plain-text table: one line per (channel, location) with the quantity, the rule and the reason; a location
    in ``unknown`` (never counted) shows ``unknown (never counted)`` instead of a quantity."""
    if not allocations:
        return f"{title}\nno enabled sales channel in the profile: nothing to show"
    headers = ("CHANNEL", "LOCATION", "AVAILABLE", "SHOW", "RULE", "WHY")
    rows = [
        (a.channel, a.location_id, str(available.get(a.location_id, 0)), str(a.quantity), a.rule, a.explanation)
        if a.location_id not in unknown
        else (a.channel, a.location_id, UNKNOWN, "-", "unknown", UNKNOWN_WHY)
        for a in allocations
    ]
    widths = [max(len(line[i]) for line in [headers, *rows]) for i in range(len(headers) - 1)]

    def fmt(line: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(width) if index in (2, 3) else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(line, widths, strict=False))
        ]
        return "  ".join([*cells, line[-1]]).rstrip()

    return "\n".join([title, fmt(headers), *(fmt(line) for line in rows)])


def unlisted_channels(store: Store, sku: str) -> dict[str, str]:
    """Channels whose last read found no item with ``sku`` (channel -> the incident's summary): a ``not_listed``
    incident with no level read from that channel since."""
    found: dict[str, str] = {}
    for incident in store.incidents(kind=NOT_LISTED, sku=sku):
        if incident.channel is None or incident.created_at is None:
            continue
        levels = store.known_levels(incident.channel, [sku]).values()
        if not any(level.updated_at >= incident.created_at for level in levels):
            found[incident.channel] = incident.summary
    return found


@dataclass(frozen=True)
class SkuExplanation:
    """What ``omnibridge explain SKU`` shows: each channel's quantity per location and the rule behind it."""

    sku: str
    title: str | None
    mode: str
    group: str
    available: dict[str, int]
    not_listed: dict[str, str]
    unknown: list[str]
    """Profile locations the ledger has never counted (nothing is written there)."""
    allocations: list[Allocation]


def explain_sku(store: Store, loaded: LoadedProfile, sku: str) -> SkuExplanation | None:
    """The explanation of ``sku`` under ``loaded``'s availability rules (None: the SKU is not in the store); the
    CLI and the console's SKU page both show this."""
    variant = store.get_variant(sku)
    if variant is None:
        return None
    # what the sync engine plans from: the ledger's available minus channels' committed counts
    available = available_by_location(store, sku)
    not_listed = unlisted_channels(store, sku)
    counted = {location_id for _, location_id in store.known_positions([sku])}
    unknown = sorted({location.id for location in loaded.locations} - counted)
    planner = AvailabilityPlanner(loaded.availability, feeds_for_profile(loaded))
    return SkuExplanation(
        sku=sku,
        title=variant.title,
        mode=loaded.availability.mode,
        group=planner.group(sku),
        available=available,
        not_listed=not_listed,
        unknown=unknown,
        allocations=planner.explain(sku, available),
    )


def explain(
    sku: Annotated[str, typer.Argument(help="The master SKU, or 'order' followed by an order.")],
    order_name: Annotated[
        str | None, typer.Argument(metavar="[ORDER]", help="With 'order': the order (web:1001, amazon:<id>).")
    ] = None,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")] = False,
) -> None:
    """Show the quantity each sales channel should show for a SKU at each location, and the rule that decided it;
    'explain order ID' shows every routing decision of an order, its candidates, reservations and assignments."""
    if sku == "order" and order_name is not None:
        from omnibridge.cli.order_routing import explain_order

        explain_order(order_name, profile, as_json)
        return
    if order_name is not None:
        raise typer.BadParameter(f"unexpected {order_name!r}: 'explain SKU' or 'explain order ORDER'")
    with profile_store(profile, read_only=True) as (loaded, store):
        found = explain_sku(store, loaded, sku)
        if found is None:
            typer.echo(f"error: unknown SKU '{sku}': it is not in the store at {loaded.store_url_masked}", err=True)
            raise typer.Exit(1)
    title_, available, not_listed, unknown = found.title, found.available, found.not_listed, found.unknown
    allocations, group = found.allocations, found.group
    if as_json:
        document: dict[str, Any] = {
            "sku": sku,
            "title": title_,
            "mode": loaded.availability.mode,
            "group": group,
            "available": available,
            "not_listed": not_listed,
            "unknown_locations": unknown,
            "allocations": [
                {
                    "channel": a.channel,
                    "location_id": a.location_id,
                    "quantity": a.quantity,
                    "rule": a.rule,
                    "explanation": a.explanation,
                    "unknown": a.location_id in unknown,
                }
                for a in allocations
            ],
        }
        typer.echo(json.dumps(document, indent=2))
        return
    title = f"{sku}: {loaded.availability.mode} mode, SKU group '{group}'"
    typer.echo(render_allocations(title, allocations, available, unknown))
    for channel, summary in not_listed.items():
        typer.echo(f"not listed on {channel}: {summary}")
