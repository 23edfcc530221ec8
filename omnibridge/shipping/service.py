"""Ship a parcel through a carrier connector without ever buying its label twice, and keep its tracking.

:meth:`ShippingService.ship` is a small state machine persisted in ``carrier_shipments``::

    (nothing) --quote + choose rate--> QUOTED (persisted with the Shipment) --buy_label--> BOUGHT

The vendor shipment id and the chosen rate are committed *before* the label is bought, so a crash or a lost
answer between the two resumes with the same vendor shipment: the connector's ``buy_label`` returns the label
already bought instead of buying another. Once BOUGHT, ``ship`` returns the stored shipment and calls nothing.

Tracking updates (from webhooks or polling) are mapped to canonical statuses with the :class:`TrackingMap`
and appended to the shipment's history, each at most once (by the update's ``ref``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from omnibridge.errors import ConflictError, OmnibridgeError
from omnibridge.logs import get_logger
from omnibridge.models import Address, Money, Shipment, ShipmentLine, TrackingEvent, TrackingStatus
from omnibridge.sdk.carrier import (
    CarrierAddress,
    CarrierConnector,
    Label,
    Parcel,
    Rate,
    ShipmentRequest,
    TrackingUpdate,
)
from omnibridge.shipping.tracking_status import TrackingMap
from omnibridge.store import Store
from omnibridge.store import carrier_shipments as rows
from omnibridge.store import shipments as shipment_rows
from omnibridge.store.carrier_shipments import CarrierShipment, CarrierShipmentState
from omnibridge.store.engine import read_session, write_session

__all__ = ["RateChooser", "ShippingError", "ShippingService", "TrackingApplied", "cheapest", "shipment_id_for"]

RateChooser = Callable[[Sequence[Rate]], Rate]
"""Picks one rate from a quote's rates (cheapest first)."""

_CARRIER_IDS = {"dhlexpress": "dhl_express", "dhl express": "dhl_express"}


class ShippingError(OmnibridgeError):
    """A shipment cannot be made from the data given (missing address fields, no rate to choose...)."""


def cheapest(rates: Sequence[Rate]) -> Rate:
    """The first (cheapest) rate."""
    if not rates:
        raise ShippingError("the carrier offered no rates for this parcel")
    return rates[0]


def shipment_id_for(order_id: str, from_location_id: str, lines: Sequence[ShipmentLine]) -> str:
    """A deterministic shipment id for one parcel of ``order_id`` from ``from_location_id`` with ``lines``:
    calling :meth:`ShippingService.ship` again with the same arguments resumes the same shipment."""
    content = sorted((line.sku, line.quantity, line.order_line_id or "") for line in lines)
    digest = hashlib.sha256(json.dumps([order_id, from_location_id, content]).encode()).hexdigest()
    return f"shp-{digest[:20]}"


def carrier_id(name: str) -> str:
    """omnibridge's carrier id (``usps``, ``ups``, ``fedex``, ``dhl_express``) for a vendor's carrier name."""
    key = name.strip().lower()
    return _CARRIER_IDS.get(key, key.replace(" ", "_"))


@dataclass(frozen=True)
class TrackingApplied:
    """What :meth:`ShippingService.apply_tracking` did: events ``applied``, ``duplicates`` skipped by ref, and
    the tracking codes of updates matching no shipment (``unmatched``)."""

    applied: int = 0
    duplicates: int = 0
    unmatched: tuple[str, ...] = ()
    shipments: Mapping[str, Shipment] = field(default_factory=dict)


def _carrier_address(address: Address, where: str, fallback_name: str | None = None) -> CarrierAddress:
    missing = [
        name
        for name, value in (("line1", address.line1), ("city", address.city), ("postal_code", address.postal_code))
        if not value
    ]
    name = address.name or fallback_name
    if not name:
        missing.insert(0, "name")
    if missing:
        raise ShippingError(f"{where} is missing {', '.join(missing)}: carriers need a full postal address")
    return CarrierAddress(
        name=name or "",
        street1=address.line1 or "",
        street2=address.line2,
        city=address.city or "",
        state=address.region,
        postal_code=address.postal_code or "",
        country=address.country,
        company=address.company,
        phone=address.phone,
    )


class ShippingService:
    """Rates, buys and tracks shipments through one carrier connector (``connector_id``, e.g. ``easypost``).

    ``tracking_source`` is the carrier id whose codes the connector's ``carrier_status`` uses in the tracking
    map (default ``connector_id``: EasyPost reports its own normalised statuses). ``clock`` gives aware UTC.
    """

    def __init__(
        self,
        store: Store,
        carrier: CarrierConnector,
        tracking_map: TrackingMap,
        *,
        connector_id: str = "easypost",
        tracking_source: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.carrier = carrier
        self.tracking_map = tracking_map
        self.connector_id = connector_id
        self.tracking_source = tracking_source or connector_id
        self._clock = clock
        self._log = get_logger("omnibridge.shipping").bind(connector=connector_id)

    # -- shipping ------------------------------------------------------------------------------------------

    async def ship(
        self,
        order_id: str,
        from_location_id: str,
        lines: Sequence[ShipmentLine],
        to_address: Address,
        parcel: Parcel,
        choose: RateChooser = cheapest,
        *,
        shipment_id: str | None = None,
    ) -> Shipment:
        """Rate, persist, buy and store the label of one parcel; resumable (see the module docstring).

        ``shipment_id`` defaults to :func:`shipment_id_for` the arguments. Raises :class:`ShippingError` for an
        unusable address or no rate, :class:`ConflictError` when ``shipment_id`` belongs to another order, and
        the connector's errors (the QUOTED state is kept, so calling again resumes).
        """
        if not lines:
            raise ShippingError("a shipment needs at least one line")
        sid = shipment_id or shipment_id_for(order_id, from_location_id, lines)
        with read_session(self.store.engine) as session:
            record = rows.get_carrier_shipment(session, sid)
            stored = shipment_rows.get_shipment(session, sid)
        if stored is not None and stored.order_id != order_id:
            raise ConflictError(f"shipment {sid!r} belongs to order {stored.order_id!r}, not {order_id!r}")
        if record is not None and record.connector != self.connector_id:
            raise ConflictError(f"shipment {sid!r} was made with {record.connector!r}, not {self.connector_id!r}")
        if record is not None and record.state is CarrierShipmentState.BOUGHT and stored is not None:
            return stored
        if record is None:
            record = await self._quote(sid, order_id, from_location_id, lines, to_address, parcel, choose)
        assert record.rate_id is not None
        label = await self.carrier.buy_label(record.vendor_shipment_id, record.rate_id)
        return self._store_label(record, label)

    async def _quote(
        self,
        sid: str,
        order_id: str,
        from_location_id: str,
        lines: Sequence[ShipmentLine],
        to_address: Address,
        parcel: Parcel,
        choose: RateChooser,
    ) -> CarrierShipment:
        location = self.store.get_location(from_location_id)
        if location is None:
            raise ShippingError(f"unknown location {from_location_id!r}: cannot ship from it")
        if location.address is None:
            raise ShippingError(f"location {from_location_id!r} has no postal address: set one to ship from it")
        request = ShipmentRequest(
            reference=sid,
            from_address=_carrier_address(location.address, f"location {from_location_id!r} address", location.name),
            to_address=_carrier_address(to_address, "to_address"),
            parcel=parcel,
        )
        quote = await self.carrier.quote(request)
        rate = choose(quote.rates)
        now = self._clock()
        shipment = Shipment(
            id=sid,
            order_id=order_id,
            from_location_id=from_location_id,
            carrier=carrier_id(rate.carrier),
            service=rate.service,
            ship_to=to_address,
            lines=list(lines),
            status=TrackingStatus.PENDING,
            created_at=now,
        )
        record = CarrierShipment(
            shipment_id=sid,
            connector=self.connector_id,
            vendor_shipment_id=quote.shipment_ref,
            state=CarrierShipmentState.QUOTED,
            updated_at=now,
            rate_id=rate.rate_id,
            carrier=rate.carrier,
        )
        # One transaction: the Shipment and the vendor shipment + rate exist together, before anything is bought.
        # A concurrent ship() of the same shipment that persisted first wins; this quote is abandoned (unbought).
        with write_session(self.store.engine) as session:
            existing = rows.get_carrier_shipment(session, sid)
            if existing is None:
                shipment_rows.save_shipment(session, shipment)
                if rows.insert_carrier_shipment(session, record):
                    existing = record
                else:
                    existing = rows.get_carrier_shipment(session, sid)
        assert existing is not None
        if existing is record:
            self._log.info("shipping.quoted", shipment=sid, vendor_shipment=quote.shipment_ref, rate=rate.rate_id)
        return existing

    def _store_label(self, record: CarrierShipment, label: Label) -> Shipment:
        now = self._clock()
        bought = CarrierShipment(
            shipment_id=record.shipment_id,
            connector=record.connector,
            vendor_shipment_id=record.vendor_shipment_id,
            state=CarrierShipmentState.BOUGHT,
            updated_at=now,
            rate_id=record.rate_id,
            carrier=label.carrier,
            tracking_code=label.tracking_code,
            label_url=label.label_url,
            tracker_ref=label.tracker_ref,
        )
        with write_session(self.store.engine) as session:
            current = shipment_rows.get_shipment(session, record.shipment_id)
            assert current is not None, "the shipment is saved with its QUOTED record"
            updated = current.model_copy(
                update={
                    "carrier": carrier_id(label.carrier),
                    "service": label.service,
                    "tracking_number": label.tracking_code,
                    "label_url": label.label_url,
                    "cost": Money(amount=label.amount, currency=label.currency),
                }
            )
            shipment_rows.save_shipment(session, updated)
            rows.save_carrier_shipment(session, bought)
        self._log.info("shipping.bought", shipment=record.shipment_id, tracking_code=label.tracking_code)
        return updated

    # -- tracking ------------------------------------------------------------------------------------------

    async def apply_tracking(self, updates: Iterable[TrackingUpdate]) -> TrackingApplied:
        """Append each update to the shipment whose label carries its tracking code, mapped to a canonical
        status; an update whose ``ref`` was applied before is skipped. Each update is its own transaction."""
        applied = duplicates = 0
        unmatched: list[str] = []
        touched: dict[str, Shipment] = {}
        for update in updates:
            status = self.tracking_map.canonical(self.tracking_source, update.carrier_status)
            with write_session(self.store.engine) as session:
                record = rows.find_by_tracking_code(session, self.connector_id, update.tracking_code)
                if record is None:
                    unmatched.append(update.tracking_code)
                    continue
                if not rows.mark_tracking_ref(
                    session, self.connector_id, update.ref, record.shipment_id, self._clock()
                ):
                    duplicates += 1
                    continue
                event = TrackingEvent(
                    status=status,
                    carrier_status=update.carrier_status,
                    occurred_at=update.occurred_at,
                    message=update.message,
                    location=update.location,
                )
                touched[record.shipment_id] = shipment_rows.add_tracking_event(session, record.shipment_id, event)
                applied += 1
        if unmatched:
            self._log.warning("shipping.tracking.unmatched", tracking_codes=sorted(set(unmatched)))
        return TrackingApplied(applied, duplicates, tuple(unmatched), touched)

    async def refresh_tracking(self, shipment_id: str) -> Shipment:
        """Poll the carrier for the shipment's tracking and apply what is new. Raises :class:`ShippingError`
        for a shipment without a bought label."""
        with read_session(self.store.engine) as session:
            record = rows.get_carrier_shipment(session, shipment_id)
        if record is None or record.state is not CarrierShipmentState.BOUGHT or record.tracking_code is None:
            raise ShippingError(f"shipment {shipment_id!r} has no bought label to track")
        updates = await self.carrier.track(record.tracking_code, record.carrier or "")
        await self.apply_tracking(updates)
        shipment = self.store.get_shipment(shipment_id)
        assert shipment is not None
        return shipment

    async def receive_webhook(self, raw_body: bytes, headers: Mapping[str, str], url: str = "") -> TrackingApplied:
        """Verify a carrier webhook delivery and apply its tracking updates. Raises
        :class:`~omnibridge.errors.WebhookError` for a forged or malformed delivery (nothing is applied)."""
        delivery = self.carrier.verify_webhook(raw_body, headers, url)
        return await self.apply_tracking(await self.carrier.webhook_events(delivery))
