"""Export orders and shipments to an ERP/WMS as files: each record once per change, at least once.

The job reads the store, finds the orders and shipments that are new or changed since the last export (its
bookmark in ``sync_bookmarks`` under ``<channel>:exports``) and hands them, as plain records, to an
:class:`ExportSink` (the file-feed connector writes them to its outbox atomically). The bookmark moves only after
the files are written: a crash in between writes the same changes again on the next run (at least once; a reader
deduplicates by id and ``updated_at``/``status``), it never skips one.

What counts as a change: a record's exported fields differ from what was last exported (a digest per record).
Orders are looked at from ``overlap`` before the newest ``updated_at`` already exported (orders carry the
channel's own update time, which can arrive late); shipments have no update time in the store, so every shipment
is compared each run (its digest is kept for good).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from sqlmodel import col, select

from omnibridge.config import LoadedProfile
from omnibridge.errors import OmnibridgeError
from omnibridge.models import Order, Shipment
from omnibridge.sdk.metadata import ConnectorKind
from omnibridge.store import Store
from omnibridge.store import orders as order_repo
from omnibridge.store import shipments as shipment_repo
from omnibridge.store.engine import read_session
from omnibridge.store.tables import OrderRow, ShipmentRow

DEFAULT_OVERLAP = timedelta(hours=24)
BOOKMARK_VERSION = 1


@runtime_checkable
class ExportSink(Protocol):
    """Where export files go (implemented by ``connectors.files``)."""

    def write_export(self, kind: str, records: Sequence[Mapping[str, Any]], stamp: datetime, sequence: int) -> str:
        """Write ``records`` of ``kind`` ("orders", "shipments") as one complete file; return where it went.

        Must be atomic (the file appears complete or not at all) and raise on failure (the bookmark then stays)."""
        ...


@dataclass
class ExportReport:
    """What one export run wrote."""

    channel: str
    orders: int = 0
    shipments: int = 0
    files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"channel": self.channel, "orders": self.orders, "shipments": self.shipments, "files": self.files}


def bookmark_key(channel_id: str) -> str:
    """The ``sync_bookmarks`` key of a channel's exports (its pull bookmark is under the bare channel id)."""
    return f"{channel_id}:exports"


def order_record(order: Order) -> dict[str, Any]:
    """An order as exported: ids, status, times (ISO 8601 UTC) and lines (SKU, quantity, location)."""
    return {
        "id": order.id,
        "channel": order.channel,
        "external_id": order.external_id,
        "number": order.number,
        "status": order.status.value,
        "created_at": _iso(order.placed_at),
        "updated_at": _iso(order.updated_at),
        "lines": [
            {"line": line.line_id, "sku": line.sku, "quantity": line.quantity, "location": line.location_id}
            for line in order.lines
        ],
    }


def shipment_record(shipment: Shipment) -> dict[str, Any]:
    """A shipment as exported: its order, carrier, service, tracking number and status."""
    return {
        "id": shipment.id,
        "order": shipment.order_id,
        "carrier": shipment.carrier,
        "service": shipment.service,
        "tracking": shipment.tracking_number,
        "status": shipment.status.value,
        "from_location": shipment.from_location_id,
        "created_at": _iso(shipment.created_at),
    }


def export_changes(
    store: Store,
    channel_id: str,
    sink: ExportSink,
    *,
    now: datetime | None = None,
    overlap: timedelta = DEFAULT_OVERLAP,
) -> ExportReport:
    """Write one orders file and one shipments file with what changed since the last run (none when nothing
    did), then move the bookmark. ``now`` stamps the file names."""
    stamp = now or datetime.now(UTC)
    state = _load(store.get_bookmark(bookmark_key(channel_id)))
    report = ExportReport(channel_id)
    cursor = _parse_time(state.get("orders_cursor"))
    since = None if cursor is None else cursor - overlap
    orders, shipments = _read(store, since)

    known_orders: dict[str, str] = dict(state.get("orders", {}))
    changed_orders = [(order, order_record(order)) for order in orders]
    changed_orders = [(o, r) for o, r in changed_orders if known_orders.get(o.id) != _digest(r)]
    known_shipments: dict[str, str] = dict(state.get("shipments", {}))
    changed_shipments = [record for record in (shipment_record(s) for s in shipments)]
    changed_shipments = [r for r in changed_shipments if known_shipments.get(r["id"]) != _digest(r)]

    sequence = int(state.get("sequence", 0))
    if changed_orders:
        sequence += 1
        report.files.append(sink.write_export("orders", [r for _, r in changed_orders], stamp, sequence))
        report.orders = len(changed_orders)
    if changed_shipments:
        sequence += 1
        report.files.append(sink.write_export("shipments", changed_shipments, stamp, sequence))
        report.shipments = len(changed_shipments)
    if not report.files:
        return report

    for order, record in changed_orders:
        known_orders[order.id] = _digest(record)
    newest = max([cursor] + [order.updated_at for order in orders if order.updated_at], key=_sort_key)
    if newest is not None:  # forget digests of orders that fell out of the window: they are not looked at again
        floor = newest - overlap
        window = {order.id for order in orders if order.updated_at >= floor}
        known_orders = {order_id: d for order_id, d in known_orders.items() if order_id in window}
    for record in changed_shipments:
        known_shipments[record["id"]] = _digest(record)
    store.set_bookmark(
        bookmark_key(channel_id),
        json.dumps(
            {
                "v": BOOKMARK_VERSION,
                "sequence": sequence,
                "orders_cursor": None if newest is None else _iso(newest),
                "orders": known_orders,
                "shipments": known_shipments,
            },
            sort_keys=True,
        ),
    )
    return report


def export_profile(
    profile: LoadedProfile, store: Store, *, channel_id: str | None = None, now: datetime | None = None
) -> list[ExportReport]:
    """Run :func:`export_changes` for every enabled ERP/WMS channel of ``profile`` whose connector writes export
    files (or only ``channel_id``); raises :class:`OmnibridgeError` when there is none to export to."""
    reports: list[ExportReport] = []
    candidates = [
        channel
        for channel in profile.channels
        if channel.enabled
        and channel.spec.kind is ConnectorKind.ERP_WMS
        and channel.spec.factory is not None
        and (channel_id is None or channel.id == channel_id)
    ]
    for channel in candidates:
        assert channel.spec.factory is not None
        sink = channel.spec.factory(channel.settings)
        if isinstance(sink, ExportSink):
            reports.append(export_changes(store, channel.id, sink, now=now))
    if not reports:
        which = f"channel {channel_id!r}" if channel_id else "no enabled ERP/WMS channel"
        raise OmnibridgeError(
            f"{profile.path}: {which} can take export files; add a channel with 'connector: files' "
            "(exports go to its settings.outbox folder, by default next to the inbox)"
        )
    return reports


def _read(store: Store, since: datetime | None) -> tuple[list[Order], list[Shipment]]:
    with read_session(store.engine) as session:
        query = select(OrderRow.id).order_by(col(OrderRow.updated_at), col(OrderRow.id))
        if since is not None:
            query = query.where(col(OrderRow.updated_at) >= since)
        orders = [order_repo.get_order(session, order_id) for order_id in session.exec(query).all()]
        shipment_ids = session.exec(
            select(ShipmentRow.id).order_by(col(ShipmentRow.created_at), col(ShipmentRow.id))
        ).all()
        shipments = [shipment_repo.get_shipment(session, shipment_id) for shipment_id in shipment_ids]
    return [o for o in orders if o is not None], [s for s in shipments if s is not None]


def _load(bookmark: str | None) -> dict[str, Any]:
    if not bookmark:
        return {}
    try:
        value = json.loads(bookmark)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _digest(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _sort_key(value: datetime | None) -> datetime:
    return datetime.min.replace(tzinfo=UTC) if value is None else value.astimezone(UTC)
