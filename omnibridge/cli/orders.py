"""``omnibridge orders list|show``: the channel orders omnibridge holds, their lines, where each is allocated,
what shipped, and what the resolver decided about them. Read-only: nothing is changed and no channel is called.

An order is named as merchants see it (``web:1001``, ``amazon:902-3159896-1390916``) or by omnibridge's id; see
:mod:`omnibridge.cli.order_names`.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from omnibridge.cli.order_names import find_named_order
from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.config import DEFAULT_PROFILE
from omnibridge.errors import OmnibridgeError
from omnibridge.models import Address, Order, OrderLineRecord, OrderStatus, Shipment
from omnibridge.store import Incident, Store

orders_app = typer.Typer(
    help="Channel orders: list them, show one with its lines, shipments and the resolver's decisions.",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
UNROUTABLE = "unroutable"
"""``orders list --status unroutable``: the orders routing parked (not an order status: a routing outcome)."""
_RELATIVE = re.compile(r"^(\d+)([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_since(value: str, now: datetime) -> datetime:
    """``--since``: an ISO 8601 date or date-time (UTC when no offset is given) or a span back from ``now``
    (``7d``, ``12h``, ``30m``)."""
    text = value.strip()
    relative = _RELATIVE.match(text)
    if relative:
        return now - timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise OmnibridgeError(
            f"--since {value!r} is not a date: expected 2026-12-01, 2026-12-01T09:00:00+00:00, 7d, 12h or 30m"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def table(headers: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    """Rows under upper-case headers, columns left-aligned and two spaces apart; ``None`` shows as ``-``."""
    cells = [[("-" if cell is None else str(cell)) for cell in row] for row in rows]
    titles = [header.upper() for header in headers]
    widths = [max(len(line[i]) for line in [titles, *cells]) for i in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in [titles, *cells]
    )


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _place(address: Address | None) -> str | None:
    if address is None:
        return None
    return ", ".join(part for part in (address.city, address.region, address.postal_code, address.country) if part)


def _units(order: Order) -> int:
    return sum(line.quantity for line in order.lines)


@orders_app.command("list")
def list_command(
    channel: Annotated[str | None, typer.Option("--channel", help="Only this channel's orders.")] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help=f"Only orders in this status ({', '.join(s.value for s in OrderStatus)}, or unroutable).",
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only orders placed since then: 2026-12-01, 7d, 12h or 30m.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many (newest first).")] = 100,
    as_json: JsonOption = False,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """List orders, newest first: number, status, units, where they ship to, and when they were placed.
    ``--status unroutable``: orders routing parked for an operator (their latest decision left units unplaced)."""
    statuses = [s.value for s in OrderStatus] + [UNROUTABLE]
    if status == UNROUTABLE:
        from omnibridge.cli.order_routing import list_parked

        list_parked(channel, limit, as_json, profile)
        return
    if status is not None and status not in statuses:
        raise OmnibridgeError(f"--status {status!r} is not an order status; expected one of: {', '.join(statuses)}")
    with profile_store(profile, read_only=True) as (_, store):
        after = parse_since(since, store.now()) if since is not None else None
        found = store.list_orders(channel, status, after, limit)
    if as_json:
        typer.echo(json.dumps({"orders": [order.model_dump(mode="json") for order in found]}, indent=2))
        return
    if not found:
        typer.echo("no orders" + (f" on {channel}" if channel else "") + (f" in status {status}" if status else ""))
        return
    rows = [
        (o.id, o.number, o.status.value, len(o.lines), _units(o), _place(o.ship_to), _when(o.placed_at)) for o in found
    ]
    typer.echo(table(("order", "number", "status", "lines", "units", "ship to", "placed"), rows))


def order_details(store: Store, order: Order) -> dict[str, Any]:
    """Everything ``orders show`` prints about ``order``, as JSON-ready data."""
    records = store.order_lines(order.channel, order.external_id)
    shipments = store.shipments_of_order(order.id)
    decisions = store.incidents(order_id=order.id)
    return {
        "order": order.model_dump(mode="json"),
        "line_records": [record.model_dump(mode="json") for record in records],
        "shipments": [shipment.model_dump(mode="json") for shipment in shipments],
        "decisions": [_decision(incident) for incident in decisions],
        "history": _history(order, records, shipments, decisions),
    }


def _decision(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "kind": incident.kind,
        "decision": incident.decision,
        "sku": incident.sku,
        "location_id": incident.location_id,
        "summary": incident.summary,
        "created_at": _when(incident.created_at),
    }


def _history(
    order: Order, records: list[OrderLineRecord], shipments: list[Shipment], decisions: list[Incident]
) -> list[dict[str, Any]]:
    events: list[tuple[datetime, str]] = [(order.placed_at, "placed")]
    for shipment in shipments:
        tracking = f" tracking {shipment.tracking_number}" if shipment.tracking_number else ""
        events.append((shipment.created_at, f"shipment {shipment.id} ({shipment.carrier}{tracking})"))
        events.extend((e.occurred_at, f"  {shipment.id}: {e.status.value}") for e in shipment.tracking_history)
    for incident in decisions:
        if incident.created_at is not None:
            events.append((incident.created_at, f"{incident.kind}/{incident.decision}: {incident.summary}"))
    last_line = max((record.updated_at for record in records), default=None)
    if last_line is not None and last_line > order.placed_at:
        events.append((last_line, "lines last changed"))
    events.append((order.updated_at, f"status {order.status.value} (last update from the channel)"))
    events.sort(key=lambda event: event[0])
    return [{"at": _when(at), "event": what} for at, what in events]


def _address_lines(address: Address) -> list[str]:
    street = ", ".join(part for part in (address.line1, address.line2) if part)
    return [part for part in (address.name, street, _place(address), address.phone) if part]


def _print_details(details: dict[str, Any], order: Order) -> None:
    total = f"{order.total.amount} {order.total.currency}" if order.total else "-"
    typer.echo(f"order   {order.id}")
    typer.echo(f"number  {order.number or '-'}")
    typer.echo(f"status  {order.status.value}   placed {_when(order.placed_at)}   updated {_when(order.updated_at)}")
    typer.echo(f"total   {total}")
    ship_to = "; ".join(_address_lines(order.ship_to)) if order.ship_to else "- (the channel gave none)"
    typer.echo(f"ship to {ship_to}")
    by_ref = {record["line_ref"]: record for record in details["line_records"]}
    rows = []
    for line in order.lines:
        record = by_ref.get(line.line_id, {})
        rows.append(
            (
                line.line_id,
                line.sku,
                line.quantity,
                record.get("location_id", line.location_id),
                record.get("committed"),
                record.get("shipped", line.fulfilled_quantity),
                record.get("cancelled", line.cancelled_quantity),
                record.get("returned"),
                record.get("status"),
            )
        )
    typer.echo("\nLines")
    headers = ("line", "sku", "qty", "location", "committed", "shipped", "cancelled", "returned", "status")
    typer.echo(table(headers, rows))
    typer.echo("\nShipments")
    if details["shipments"]:
        shipment_rows = [
            (s["id"], s["from_location_id"], s["carrier"], s["service"], s["tracking_number"], s["status"])
            for s in details["shipments"]
        ]
        typer.echo(table(("shipment", "from", "carrier", "service", "tracking", "status"), shipment_rows))
    else:
        typer.echo("none")
    typer.echo("\nDecisions")
    if details["decisions"]:
        decision_rows = [(d["created_at"], d["kind"], d["decision"], d["summary"]) for d in details["decisions"]]
        typer.echo(table(("at", "kind", "decision", "summary"), decision_rows))
    else:
        typer.echo("none")
    typer.echo("\nHistory")
    typer.echo(table(("at", "event"), [(event["at"], event["event"]) for event in details["history"]]))


@orders_app.command("show")
def show_command(
    order_name: Annotated[
        str, typer.Argument(metavar="ORDER", help="The order: web:1001, web:#1001, amazon:<order id> or its id.")
    ],
    as_json: JsonOption = False,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """Show one order: ship-to, lines (allocated location, committed/shipped/cancelled/returned), shipments, the
    resolver's decisions and its history."""
    with profile_store(profile, read_only=True) as (_, store):
        order = find_named_order(store, order_name)
        details = order_details(store, order)
    if as_json:
        typer.echo(json.dumps(details, indent=2))
        return
    _print_details(details, order)
