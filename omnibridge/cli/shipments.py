"""``omnibridge shipments ship|track|show|resolve``: buy an order's label through a carrier channel, follow its
tracking, and settle a purchase whose outcome is unknown.

The carrier is a ``channels:`` entry whose connector is a carrier (e.g. ``connector: easypost``); with one such
channel ``--carrier`` can be left out. ``ship`` is safe to repeat: it resumes the same shipment and never buys a
second label (see :mod:`omnibridge.shipping.service`). When a direct carrier's purchase may have gone through
without omnibridge knowing, ``ship`` stops and asks for ``resolve --bought TRACKING`` or ``--not-bought``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.cli.order_names import find_named_order
from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.config import DEFAULT_PROFILE, LoadedProfile
from omnibridge.config.loaded import LoadedChannel
from omnibridge.errors import ConfigError
from omnibridge.logs import configure_logging
from omnibridge.models import Money, Shipment, ShipmentLine
from omnibridge.sdk.carrier import Parcel, Rate
from omnibridge.sdk.metadata import ConnectorKind
from omnibridge.shipping import ShippingError, ShippingService, cheapest, load_tracking_map
from omnibridge.store import Store
from omnibridge.store.carrier_shipments import CarrierShipmentState, get_carrier_shipment
from omnibridge.store.engine import read_session

shipments_app = typer.Typer(
    help="Carrier labels and tracking: ship an order's parcel, refresh and show its tracking, settle a purchase.",
    no_args_is_help=True,
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
        order = find_named_order(store, order_id)
        if order.ship_to is None:
            raise ShippingError(
                f"order {order.id} has no ship-to address: {order.channel} gave none (a counter sale, or a "
                "channel that does not share buyer addresses); `omnibridge orders show` shows what is known"
            )
        order_id = order.id
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


def _cost(amount: str | None, currency: str | None, default_currency: str) -> Money | None:
    if amount is None:
        if currency is not None:
            raise ShippingError("--currency goes with --cost (the label's price)")
        return None
    try:
        value = Decimal(amount.strip())
    except InvalidOperation:
        raise ShippingError(f"--cost {amount!r} is not an amount (expected a number such as 12.19)") from None
    if not value.is_finite() or value < 0:
        raise ShippingError(f"--cost {amount!r} is not an amount (expected a number such as 12.19)")
    try:
        return Money(amount=value, currency=(currency or default_currency).strip().upper())
    except ValueError:
        raise ShippingError(f"--currency {currency!r} is not an ISO 4217 code such as USD") from None


async def _resolve(
    profile: Path,
    shipment_id: str,
    bought: str | None,
    label_url: str | None,
    cost: tuple[str | None, str | None],
    carrier: str | None,
) -> tuple[Shipment, str]:
    """Settle the purchase; the shipment and one line saying what was done."""
    with profile_store(profile) as (loaded, store):
        price = _cost(*cost, loaded.merchant.currency)
        with read_session(store.engine) as session:
            record = get_carrier_shipment(session, shipment_id)
        before = None if record is None else record.state
        if carrier is None and record is not None:  # the shipment knows its carrier channel
            carrier = record.connector
        shipping = _service(store, carrier_channel(loaded, carrier))
        try:
            if bought is not None:
                shipment = shipping.resolve_bought(shipment_id, bought, label_url=label_url, cost=price)
                return shipment, f"recorded the label of {shipment_id}: tracking {shipment.tracking_number}"
            shipment = shipping.resolve_not_bought(shipment_id)
            if before is CarrierShipmentState.QUOTED:
                return shipment, f"nothing to resolve: no label purchase of {shipment_id} is pending"
            return shipment, f"{shipment_id} has no label: the next `omnibridge shipments ship` buys it"
        finally:
            await shipping.carrier.aclose()


def _dimension(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@shipments_app.command("ship")
def ship_command(
    order_id: Annotated[
        str,
        typer.Argument(
            metavar="ORDER",
            help="The order to ship (its open lines, to its ship-to address): web:1001, amazon:<order id> or its id.",
        ),
    ],
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
    with profile_store(profile, read_only=True) as (_, store):
        shipment = store.get_shipment(shipment_id)
    if shipment is None:
        raise ShippingError(f"unknown shipment {shipment_id!r}")
    _show(shipment, as_json)


@shipments_app.command("resolve")
def resolve_command(
    shipment_id: Annotated[str, typer.Argument(help="The shipment id the 'ship' error names.")],
    bought: Annotated[
        str | None,
        typer.Option("--bought", metavar="TRACKING", help="The label was bought: its tracking code, from the account."),
    ] = None,
    not_bought: Annotated[
        bool, typer.Option("--not-bought", help="The carrier account shows no label: let the next 'ship' buy it.")
    ] = False,
    label_url: Annotated[str | None, typer.Option("--label-url", help="With --bought: where the label is.")] = None,
    cost: Annotated[str | None, typer.Option("--cost", help="With --bought: what the label cost, e.g. 12.19.")] = None,
    currency: Annotated[
        str | None, typer.Option("--currency", help="With --cost: its currency (default: the merchant's).")
    ] = None,
    carrier: CarrierOption = None,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    as_json: JsonOption = False,
    log_level: LogLevelOption = "WARNING",
) -> None:
    """Settle a label purchase whose outcome is unknown, after checking the carrier account (no carrier call)."""
    configure_logging(level=log_level)
    if (bought is not None) == not_bought:
        raise ShippingError("give either --bought TRACKING (the label exists) or --not-bought (it does not)")
    if not_bought and (label_url is not None or cost is not None or currency is not None):
        raise ShippingError("--label-url, --cost and --currency go with --bought, not --not-bought")
    shipment, done = asyncio.run(_resolve(profile, shipment_id, bought, label_url, (cost, currency), carrier))
    if not as_json:
        typer.echo(done)
    _show(shipment, as_json)
