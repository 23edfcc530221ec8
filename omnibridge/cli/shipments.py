"""``omnibridge shipments ship|track|show``: buy an order's label through a carrier channel, follow its tracking.

The carrier is a ``channels:`` entry whose connector is a carrier (e.g. ``connector: easypost``); with one such
channel ``--carrier`` can be left out. ``ship`` is safe to repeat: it resumes the same shipment and never buys a
second label (see :mod:`omnibridge.shipping.service`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.config import DEFAULT_PROFILE, LoadedProfile
from omnibridge.config.loaded import LoadedChannel
from omnibridge.errors import ConfigError
from omnibridge.logs import configure_logging
from omnibridge.models import Shipment, ShipmentLine
from omnibridge.sdk.carrier import Parcel, Rate
from omnibridge.sdk.metadata import ConnectorKind
from omnibridge.shipping import ShippingError, ShippingService, cheapest, load_tracking_map
from omnibridge.store import Store

shipments_app = typer.Typer(
    help="Carrier labels and tracking: ship an order's parcel, refresh and show its tracking.", no_args_is_help=True
)

CarrierOption = Annotated[
    str | None, typer.Option("--carrier", help="The carrier channel's id (needed when the profile has several).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the shipment as JSON.")]
LogLevelOption = Annotated[str, typer.Option("--log-level", help="Log level on stderr.")]


def carrier_channel(profile: LoadedProfile, channel_id: str | None) -> LoadedChannel:
    """The enabled carrier channel named ``channel_id``, or the only one; a :class:`ConfigError` otherwise."""
    carriers = [c for c in profile.channels if c.spec.kind is ConnectorKind.CARRIER and c.enabled]
    names = ", ".join(c.id for c in carriers) or "none"
    if channel_id is not None:
        for channel in carriers:
            if channel.id == channel_id:
                return channel
        raise ConfigError(f"no enabled carrier channel {channel_id!r}", field="--carrier", expected=f"one of: {names}")
    if len(carriers) == 1:
        return carriers[0]
    if not carriers:
        raise ConfigError(
            "the profile has no enabled carrier channel", expected="a channels: entry with a carrier connector"
        )
    raise ConfigError("the profile has several carrier channels", field="--carrier", expected=f"one of: {names}")


def _service(store: Store, channel: LoadedChannel) -> ShippingService:
    if channel.spec.factory is None:
        raise ConfigError(f"connector {channel.connector!r} cannot be built (no factory)", field=channel.id)
    return ShippingService(
        store,
        channel.spec.factory(channel.settings),
        load_tracking_map(),
        connector_id=channel.id,
        tracking_source=channel.connector,
    )


def by_service(name: str) -> Callable[[Sequence[Rate]], Rate]:
    """A rate chooser: the cheapest rate whose service is ``name`` (ignoring case)."""

    def choose(rates: Sequence[Rate]) -> Rate:
        for rate in rates:
            if rate.service.lower() == name.lower():
                return rate
        offered = ", ".join(sorted({f"{r.carrier} {r.service}" for r in rates})) or "none"
        raise ShippingError(f"no {name!r} rate for this parcel (offered: {offered})")

    return choose


def _show(shipment: Shipment, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(shipment.model_dump(mode="json"), indent=2))
        return
    cost = f"{shipment.cost.amount} {shipment.cost.currency}" if shipment.cost else "-"
    typer.echo(
        f"{shipment.id}  order {shipment.order_id}  {shipment.carrier} {shipment.service or ''}".rstrip()
        + f"  tracking {shipment.tracking_number or '-'}  cost {cost}  status {shipment.status.value}"
    )
    if shipment.label_url:
        typer.echo(f"label: {shipment.label_url}")
    for event in shipment.tracking_history:
        where = f"  ({event.location})" if event.location else ""
        typer.echo(
            f"  {event.occurred_at.isoformat()[:19].replace('T', ' ')}  {event.status.value:<17}"
            f"  {event.carrier_status}: {event.message or ''}{where}"
        )


async def _ship(
    profile: Path, order_id: str, location: str, parcel: Parcel, carrier: str | None, service: str | None
) -> Shipment:
    with profile_store(profile) as (loaded, store):
        order = store.get_order(order_id)
        if order is None:
            raise ShippingError(f"unknown order {order_id!r}")
        if order.ship_to is None:
            raise ShippingError(f"order {order_id!r} has no ship_to address")
        lines = [
            ShipmentLine(sku=line.sku, quantity=line.open_quantity, order_line_id=line.line_id)
            for line in order.lines
            if line.open_quantity > 0
        ]
        if not lines:
            raise ShippingError(f"order {order_id!r} has nothing left to ship")
        shipping = _service(store, carrier_channel(loaded, carrier))
        try:
            choose = by_service(service) if service else cheapest
            return await shipping.ship(order_id, location, lines, order.ship_to, parcel, choose)
        finally:
            await shipping.carrier.aclose()


async def _track(profile: Path, shipment_id: str, carrier: str | None) -> Shipment:
    with profile_store(profile) as (loaded, store):
        shipping = _service(store, carrier_channel(loaded, carrier))
        try:
            return await shipping.refresh_tracking(shipment_id)
        finally:
            await shipping.carrier.aclose()


def _dimension(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@shipments_app.command("ship")
def ship_command(
    order_id: Annotated[str, typer.Argument(help="The order to ship (its open lines, to its ship_to address).")],
    location: Annotated[str, typer.Option("--from", help="The location the parcel ships from.")],
    weight_oz: Annotated[float, typer.Option("--weight-oz", min=0.1, help="Parcel weight in ounces.")],
    length_in: Annotated[float | None, typer.Option("--length-in", min=0.1)] = None,
    width_in: Annotated[float | None, typer.Option("--width-in", min=0.1)] = None,
    height_in: Annotated[float | None, typer.Option("--height-in", min=0.1)] = None,
    service: Annotated[str | None, typer.Option("--service", help="A carrier service (default: cheapest).")] = None,
    carrier: CarrierOption = None,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    as_json: JsonOption = False,
    log_level: LogLevelOption = "WARNING",
) -> None:
    """Rate the parcel, buy the label (cheapest, or --service) and store it. Repeating it never buys twice."""
    configure_logging(level=log_level)
    parcel = Parcel(Decimal(str(weight_oz)), _dimension(length_in), _dimension(width_in), _dimension(height_in))
    _show(asyncio.run(_ship(profile, order_id, location, parcel, carrier, service)), as_json)


@shipments_app.command("track")
def track_command(
    shipment_id: Annotated[str, typer.Argument(help="The shipment id ('shipments ship' prints it).")],
    carrier: CarrierOption = None,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    as_json: JsonOption = False,
    log_level: LogLevelOption = "WARNING",
) -> None:
    """Ask the carrier for the parcel's tracking, store new events, and show the history."""
    configure_logging(level=log_level)
    _show(asyncio.run(_track(profile, shipment_id, carrier)), as_json)


@shipments_app.command("show")
def show_command(
    shipment_id: Annotated[str, typer.Argument(help="The shipment id.")],
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    as_json: JsonOption = False,
) -> None:
    """Show a stored shipment: label, cost, status and tracking history (no carrier call)."""
    with profile_store(profile) as (_, store):
        shipment = store.get_shipment(shipment_id)
    if shipment is None:
        raise ShippingError(f"unknown shipment {shipment_id!r}")
    _show(shipment, as_json)
