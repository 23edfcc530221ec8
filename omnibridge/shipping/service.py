"""Ship a parcel through a carrier connector without ever buying its label twice, and keep its tracking.

:meth:`ShippingService.ship` is a small state machine persisted in ``carrier_shipments``::

    (nothing) --quote + choose rate--> QUOTED --commit BUYING--> buy_label --commit label--> BOUGHT
                                         ^                           |
                                         +---- vendor refused -------+   (nothing bought: the next ship() buys)

Each step is committed before the next one starts, so a crash or a lost answer resumes from the store:

* QUOTED: the vendor shipment id and the chosen rate are stored with the Shipment before anything is bought; a
  resumed ``ship`` reuses them (no second vendor shipment).
* BUYING is committed *before* ``buy_label`` is called. Found on resume, the purchase's outcome is unknown (a
  crash, a lost answer, a restart). ``buy_label`` is called again only when the connector declares
  ``repeat_purchase_safe`` (the vendor refuses or deduplicates a second purchase: EasyPost). For any other
  connector (UPS, FedEx, USPS, DHL Express through karrio) ``ship`` raises :class:`PurchaseUnsettledError`
  without calling the carrier, until a person checks the carrier account and runs
  ``omnibridge shipments resolve`` (:meth:`ShippingService.resolve_bought` / :meth:`resolve_not_bought`).
* A purchase the vendor refused (:func:`~omnibridge.sdk.carrier.purchase_refused`: a 4xx, or never sent)
  returns to QUOTED; any other failure leaves BUYING.
* Once BOUGHT, ``ship`` returns the stored shipment and calls nothing.

A label stored for an order that routing placed (an assignment at the parcel's location) enqueues, in the same
transaction, the confirmation of the shipment on the order's channel (:mod:`omnibridge.fulfilment.shipments`).

Tracking updates (from webhooks or polling) are mapped to canonical statuses with the :class:`TrackingMap`
and appended to the shipment's history, each at most once (by the update's ``ref``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from omnibridge.errors import ConflictError, ConnectorError, OmnibridgeError
from omnibridge.fulfilment.shipments import shipment_recorded
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
    purchase_refused,
    repeat_purchase_safe,
    return_labels,
)
from omnibridge.shipping.tracking_status import TrackingMap
from omnibridge.store import Store
from omnibridge.store import carrier_shipments as rows
from omnibridge.store import shipments as shipment_rows
from omnibridge.store.carrier_shipments import CarrierShipment, CarrierShipmentState
from omnibridge.store.engine import read_session, write_session
from omnibridge.store.unit_of_work import UnitOfWork

__all__ = [
    "PurchaseUnsettledError",
    "RateChooser",
    "ShippingError",
    "ShippingService",
    "TrackingApplied",
    "cheapest",
    "shipment_id_for",
]

RateChooser = Callable[[Sequence[Rate]], Rate]
"""Picks one rate from a quote's rates (cheapest first)."""

_CARRIER_IDS = {"dhlexpress": "dhl_express", "dhl express": "dhl_express"}


class ShippingError(OmnibridgeError):
    """A shipment cannot be made from the data given (missing address fields, no rate to choose...)."""


class PurchaseUnsettledError(OmnibridgeError):
    """A label purchase was started and its outcome is unknown, and the connector cannot safely buy again:
    a person checks the carrier account, then runs ``omnibridge shipments resolve``. Nothing was bought by the
    call that raised it (beyond, possibly, the purchase whose outcome is unknown)."""

    def __init__(self, record: CarrierShipment, reason: str | None = None) -> None:
        self.shipment_id = record.shipment_id
        self.carrier = record.carrier or record.connector
        self.vendor_shipment_id = record.vendor_shipment_id
        self.since = record.updated_at
        why = f" ({reason})" if reason else ""
        sid = record.shipment_id
        super().__init__(
            f"the label purchase for shipment {sid} ({self.carrier}, vendor shipment "
            f"{_short(record.vendor_shipment_id)}, started {record.updated_at.isoformat(timespec='seconds')}) "
            f"may have gone through{why}: check the carrier account; then run "
            f"`omnibridge shipments resolve {sid} --bought TRACKING` or `--not-bought`"
        )


def _short(ref: str) -> str:
    # A karrio quote reference is the whole encoded request (hundreds of characters): its start identifies it.
    return ref if len(ref) <= 40 else f"{ref[:32]}..."


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
        is_return: bool = False,
    ) -> Shipment:
        """Rate, persist, buy and store the label of one parcel; resumable (see the module docstring).
        ``is_return``: a return label, from ``to_address`` back to ``from_location_id`` (EasyPost ``is_return``;
        the addresses swapped here for a connector without ``return_labels``).

        ``shipment_id`` defaults to :func:`shipment_id_for` the arguments. Raises :class:`ShippingError` for an
        unusable address or no rate, :class:`ConflictError` when ``shipment_id`` belongs to another order,
        :class:`PurchaseUnsettledError` when an earlier purchase's outcome is unknown and the connector cannot
        safely buy again (also in place of the connector's error when this purchase's outcome is unknown), and
        the connector's other errors (calling again resumes: a refused purchase is offered again).
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
            record = await self._quote(
                sid, order_id, from_location_id, lines, to_address, parcel, choose, is_return=is_return
            )
        return await self._purchase(sid)

    async def _purchase(self, sid: str) -> Shipment:
        """Commit BUYING, call ``buy_label``, commit the label (see the module docstring)."""
        record, started = self._begin_purchase(sid)
        if record.state is CarrierShipmentState.BOUGHT:  # a concurrent ship() finished first
            shipment = self.store.get_shipment(sid)
            assert shipment is not None
            return shipment
        if not started:
            if not repeat_purchase_safe(self.carrier):
                self._log.warning("shipping.buy.unsettled", shipment=sid, since=record.updated_at.isoformat())
                raise PurchaseUnsettledError(record)
            self._log.info("shipping.buy.repeat", shipment=sid, vendor_shipment=record.vendor_shipment_id)
        assert record.rate_id is not None
        try:
            label = await self.carrier.buy_label(record.vendor_shipment_id, record.rate_id)
        except Exception as exc:
            if purchase_refused(exc):
                with write_session(self.store.engine) as session:
                    rows.move_carrier_shipment(
                        session, sid, CarrierShipmentState.BUYING, CarrierShipmentState.QUOTED, self._clock()
                    )
                self._log.info("shipping.buy.refused", shipment=sid, error=str(exc))
                raise
            self._log.warning("shipping.buy.unknown", shipment=sid, error=str(exc))
            if isinstance(exc, ConnectorError) and not repeat_purchase_safe(self.carrier):
                raise PurchaseUnsettledError(record, str(exc)) from exc
            raise
        return self._store_label(record, label)

    def _begin_purchase(self, sid: str) -> tuple[CarrierShipment, bool]:
        """Move QUOTED to BUYING (committed); the record as it is now, and whether this call moved it."""
        with write_session(self.store.engine) as session:
            started = rows.move_carrier_shipment(
                session, sid, CarrierShipmentState.QUOTED, CarrierShipmentState.BUYING, self._clock()
            )
            record = rows.get_carrier_shipment(session, sid)
        assert record is not None, "ship() quotes before it buys"
        return record, started

    async def _quote(
        self,
        sid: str,
        order_id: str,
        from_location_id: str,
        lines: Sequence[ShipmentLine],
        to_address: Address,
        parcel: Parcel,
        choose: RateChooser,
        *,
        is_return: bool = False,
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
            is_return=is_return,
        )
        if is_return and not return_labels(self.carrier):
            request = replace(
                request, from_address=request.to_address, to_address=request.from_address, is_return=False
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
            shipment_recorded(UnitOfWork(session, self._clock), updated)  # a routed order: confirm on its channel
        self._log.info("shipping.bought", shipment=record.shipment_id, tracking_code=label.tracking_code)
        return updated

    # -- settling an unknown purchase by hand ---------------------------------------------------------------

    def resolve_bought(
        self, shipment_id: str, tracking_code: str, *, label_url: str | None = None, cost: Money | None = None
    ) -> Shipment:
        """Record the label a person found in the carrier account for ``shipment_id``: BOUGHT with
        ``tracking_code`` (and ``label_url``, ``cost`` when given); :meth:`ship` then returns it without calling
        the carrier, and tracking works as for any bought label.

        Allowed from BUYING, and from QUOTED (a purchase started before omnibridge recorded attempts). Repeating
        it with the same tracking code changes nothing. Raises :class:`ShippingError` for an unknown shipment or
        a blank tracking code, :class:`ConflictError` when the shipment already has another label.
        """
        code = tracking_code.strip()
        if not code:
            raise ShippingError("--bought needs the label's tracking code, as the carrier account shows it")
        record = self._settlable(shipment_id)
        if record.state is CarrierShipmentState.BOUGHT:
            if record.tracking_code == code:
                shipment = self.store.get_shipment(shipment_id)
                assert shipment is not None
                return shipment
            raise ConflictError(
                f"shipment {shipment_id} already has a bought label with tracking {record.tracking_code}, "
                f"not {code}: nothing changed"
            )
        now = self._clock()
        bought = CarrierShipment(
            shipment_id=shipment_id,
            connector=record.connector,
            vendor_shipment_id=record.vendor_shipment_id,
            state=CarrierShipmentState.BOUGHT,
            updated_at=now,
            rate_id=record.rate_id,
            carrier=record.carrier,
            tracking_code=code,
            label_url=label_url,
        )
        with write_session(self.store.engine) as session:
            if not rows.move_carrier_shipment(session, shipment_id, record.state, CarrierShipmentState.BOUGHT, now):
                raise ConflictError(f"shipment {shipment_id} changed while it was being resolved: run it again")
            current = shipment_rows.get_shipment(session, shipment_id)
            assert current is not None
            updated = current.model_copy(update={"tracking_number": code, "label_url": label_url, "cost": cost})
            shipment_rows.save_shipment(session, updated)
            rows.save_carrier_shipment(session, bought)
            shipment_recorded(UnitOfWork(session, self._clock), updated)
        self._log.info("shipping.resolved.bought", shipment=shipment_id, tracking_code=code, was=record.state.value)
        return updated

    def resolve_not_bought(self, shipment_id: str) -> Shipment:
        """Record that the carrier account shows no label for ``shipment_id``: BUYING returns to QUOTED, so the
        next :meth:`ship` buys it (with the same vendor shipment and rate). Nothing to do when it is QUOTED.

        Only run it after checking the account, while no ``ship`` of this shipment is running. Raises
        :class:`ShippingError` for an unknown shipment, :class:`ConflictError` for a bought one.
        """
        record = self._settlable(shipment_id)
        if record.state is CarrierShipmentState.BOUGHT:
            raise ConflictError(
                f"shipment {shipment_id} has a bought label (tracking {record.tracking_code}): it cannot be marked "
                "not bought (omnibridge does not void labels; void it in the carrier account)"
            )
        if record.state is CarrierShipmentState.BUYING:
            with write_session(self.store.engine) as session:
                moved = rows.move_carrier_shipment(
                    session, shipment_id, CarrierShipmentState.BUYING, CarrierShipmentState.QUOTED, self._clock()
                )
            if not moved:
                raise ConflictError(f"shipment {shipment_id} changed while it was being resolved: run it again")
            self._log.info("shipping.resolved.not_bought", shipment=shipment_id)
        shipment = self.store.get_shipment(shipment_id)
        assert shipment is not None
        return shipment

    def purchase_state(self, shipment_id: str) -> CarrierShipmentState | None:
        """The shipment's state at its carrier (None when it has no carrier record)."""
        with read_session(self.store.engine) as session:
            record = rows.get_carrier_shipment(session, shipment_id)
        return None if record is None else record.state

    def _settlable(self, shipment_id: str) -> CarrierShipment:
        with read_session(self.store.engine) as session:
            record = rows.get_carrier_shipment(session, shipment_id)
            stored = shipment_rows.get_shipment(session, shipment_id)
        if record is None:
            if stored is None:
                raise ShippingError(f"unknown shipment {shipment_id!r}")
            raise ShippingError(f"shipment {shipment_id!r} was not made through a carrier channel: nothing to resolve")
        if record.connector != self.connector_id:
            raise ConflictError(
                f"shipment {shipment_id!r} was made with {record.connector!r}, not {self.connector_id!r}"
            )
        return record

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
