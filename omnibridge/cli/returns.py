"""``omnibridge returns list|show|create|receive|decide``: returns (RMAs) and the disposition of every unit.

Every command goes through :class:`~omnibridge.returns.service.ReturnService` (the admin API's ``/api/returns``
does too) and each change is audited naming the person who ran it. A refusal is one line on stderr and a
non-zero exit; nothing is changed. See docs/returns.md.
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.access import Actor
from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.cli.shipments import carrier_channel
from omnibridge.cli.table import render_table
from omnibridge.config import DEFAULT_PROFILE, LoadedProfile
from omnibridge.errors import ConfigError
from omnibridge.logs import configure_logging
from omnibridge.returns.model import ReturnError, Rma
from omnibridge.returns.service import Received, ReturnService
from omnibridge.sdk.carrier import Parcel
from omnibridge.shipping import ShippingService, load_tracking_map
from omnibridge.store import Store
from omnibridge.sync.runtime import SALES_KINDS

returns_app = typer.Typer(
    help="Returns (RMAs): list, show, create (with a return label), receive and decide what becomes of each unit.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print the return as JSON.")]


def return_service(store: Store, loaded: LoadedProfile) -> ReturnService:
    """The return service of ``loaded``: its locations, and its sales channels a restock is pushed to."""
    channels = [c.id for c in loaded.channels if c.enabled and c.spec.kind in SALES_KINDS]
    return ReturnService(store, locations=[location.id for location in loaded.locations], channels=channels)


def render(rma: Rma) -> str:
    """A return for a person: its header, then one line per order line with every disposition."""
    where = f"at store {rma.location_id}" if rma.at_store else f"by post to {rma.location_id}"
    lines = [
        f"{rma.id}  order {rma.order_id}  {rma.state.value}  {where}  reason: {rma.reason or '-'}",
    ]
    if rma.tracking_number:
        lines.append(f"label: {rma.carrier} {rma.tracking_number}  {rma.label_url or ''}".rstrip())
    if rma.refund:
        lines.append(f"refund: {rma.refund.get('amount')} {rma.refund.get('currency') or ''}".rstrip())
    table = render_table(
        ["SKU", "QTY", "RESTOCKED", "DAMAGED", "INSPECT", "MISSING", "PENDING", "AT"],
        [
            [
                line.sku,
                line.quantity,
                line.restocked,
                line.damaged,
                line.inspect,
                line.missing,
                line.pending,
                line.location_id or "-",
            ]
            for line in rma.lines
        ],
        right=range(1, 7),
    )
    return "\n".join([*lines, table])


def _echo(rma: Rma, as_json: bool) -> None:
    typer.echo(json.dumps(rma.to_json(), indent=2) if as_json else render(rma))


def _lines(values: list[str]) -> list[tuple[str, int]]:
    parsed: list[tuple[str, int]] = []
    for value in values:
        sku, sep, quantity = value.partition("=")
        if not sep or not sku.strip() or not quantity.strip().isdigit():
            raise ReturnError(f"--line {value!r} is not SKU=QTY (e.g. --line TEE-M=1)", 400)
        parsed.append((sku.strip(), int(quantity)))
    return parsed


@returns_app.command("list")
def list_command(
    status: Annotated[str | None, typer.Option("--status", help="Only returns in this status (e.g. open).")] = None,
    channel: Annotated[str | None, typer.Option("--channel", help="Only returns of this channel.")] = None,
    output: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """Returns, newest first."""
    if output not in ("table", "json"):
        raise ConfigError(f"--format {output!r} is not a format", field="--format", expected="table or json")
    with profile_store(profile, read_only=True) as (loaded, store):
        found = return_service(store, loaded).list_returns(status=status, channel=channel)
    if output == "json":
        typer.echo(json.dumps([rma.to_json() for rma in found], indent=2))
        return
    rows = [
        [
            rma.id,
            rma.order_id,
            rma.state.value,
            f"store {rma.location_id}" if rma.at_store else f"post {rma.location_id}",
            sum(line.quantity for line in rma.lines),
            sum(line.restocked for line in rma.lines),
            rma.tracking_number or "-",
        ]
        for rma in found
    ]
    typer.echo(render_table(["ID", "ORDER", "STATUS", "BACK TO", "UNITS", "RESTOCKED", "TRACKING"], rows, right=[4, 5]))


@returns_app.command("show")
def show_command(
    return_id: Annotated[str, typer.Argument(metavar="ID", help="The return's id (see `returns list`).")],
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    as_json: JsonOption = False,
) -> None:
    """One return with the disposition of every unit."""
    with profile_store(profile, read_only=True) as (loaded, store):
        _echo(return_service(store, loaded).get(return_id), as_json)


@returns_app.command("create")
def create_command(
    order: Annotated[str, typer.Argument(metavar="ORDER", help="The order returned: web:1001, its number or id.")],
    line: Annotated[list[str], typer.Option("--line", help="SKU=QTY coming back (repeat for several SKUs).")],
    reason: Annotated[str, typer.Option("--reason", help="Why the customer returns it.")],
    by_post: Annotated[bool, typer.Option("--by-post", help="Sent back to the location it shipped from.")] = False,
    at_store: Annotated[str | None, typer.Option("--at-store", help="Brought to this store's counter.")] = None,
    label: Annotated[bool, typer.Option("--label", help="Buy a return label through the carrier channel.")] = False,
    carrier: Annotated[str | None, typer.Option("--carrier", help="The carrier channel (with several).")] = None,
    weight_oz: Annotated[float, typer.Option("--weight-oz", min=0.1, help="The return parcel's weight.")] = 16.0,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    as_json: JsonOption = False,
    log_level: Annotated[str, typer.Option("--log-level", help="Log level on stderr.")] = "WARNING",
) -> None:
    """Raise an approved return; the order's channel is told (where it takes returns)."""
    configure_logging(level=log_level)
    with profile_store(profile) as (loaded, store):
        service = return_service(store, loaded)
        actor = Actor.os_user()
        rma = service.create(order, _lines(line), reason=reason, at_store=at_store, by_post=by_post, actor=actor)
        if label:
            rma = asyncio.run(_label(loaded, store, service, rma.id, carrier, Decimal(str(weight_oz)), actor))
    _echo(rma, as_json)


async def _label(
    loaded: LoadedProfile,
    store: Store,
    service: ReturnService,
    return_id: str,
    carrier: str | None,
    weight_oz: Decimal,
    actor: Actor,
) -> Rma:
    from omnibridge.returns.labels import buy_return_label

    channel = carrier_channel(loaded, carrier)
    if channel.spec.factory is None:
        raise ConfigError(f"connector {channel.connector!r} cannot be built (no factory)", field=channel.id)
    shipping = ShippingService(
        store,
        channel.spec.factory(channel.settings),
        load_tracking_map(),
        connector_id=channel.id,
        tracking_source=channel.connector,
    )
    try:
        return await buy_return_label(service, shipping, return_id, actor=actor, parcel=Parcel(weight_oz))
    finally:
        await shipping.carrier.aclose()


@returns_app.command("receive")
def receive_command(
    return_id: Annotated[str, typer.Argument(metavar="ID", help="The return's id.")],
    at: Annotated[str, typer.Option("--at", help="The location it arrived at (restocked units go on sale there).")],
    restock: Annotated[int, typer.Option("--restock", min=0, help="Units back on sale.")] = 0,
    damaged: Annotated[int, typer.Option("--damaged", min=0, help="Units not sellable (never restocked).")] = 0,
    inspect: Annotated[int, typer.Option("--inspect", min=0, help="Units held until `returns decide`.")] = 0,
    missing: Annotated[int, typer.Option("--missing", min=0, help="Units expected but not in the parcel.")] = 0,
    sku: Annotated[str | None, typer.Option("--sku", help="Only this SKU's lines (default: every line).")] = None,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    as_json: JsonOption = False,
) -> None:
    """Record what arrived and what becomes of each unit; restocked units are pushed to every channel."""
    with profile_store(profile) as (loaded, store):
        units = Received(restock, damaged, inspect, missing)
        rma = return_service(store, loaded).receive(return_id, at, units, sku=sku, actor=Actor.os_user())
    _echo(rma, as_json)


@returns_app.command("decide")
def decide_command(
    return_id: Annotated[str, typer.Argument(metavar="ID", help="The return's id.")],
    sku: Annotated[str, typer.Option("--sku", help="The SKU of the inspected units.")],
    restock: Annotated[int, typer.Option("--restock", min=0, help="Inspected units back on sale.")] = 0,
    damaged: Annotated[int, typer.Option("--damaged", min=0, help="Inspected units written off.")] = 0,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    as_json: JsonOption = False,
) -> None:
    """Decide units held for inspection: restock them where the return came back, or record them damaged."""
    with profile_store(profile) as (loaded, store):
        service = return_service(store, loaded)
        rma = service.decide(return_id, sku, restock=restock, damaged=damaged, actor=Actor.os_user())
    _echo(rma, as_json)
