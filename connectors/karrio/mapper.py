"""omnibridge's carrier models to karrio's request dicts and back (pure: no I/O, no karrio import).

karrio's carrier calls are stateless: a label is bought by sending the whole shipment again with the chosen
service, and no carrier here keeps a "shipment with rates" to buy from later. So the ``shipment_ref`` a quote
returns is the shipment itself, compressed and encoded (``kr1.<base64url>``): a label can be bought from it after
a restart, and nothing has to be stored by the connector. A ``rate_id`` is karrio's service name
(``ups_ground``, ``fedex_2_day``).
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from connectors.karrio.carriers import CarrierProfile, RawScan
from omnibridge.sdk.carrier import CarrierAddress, Label, Parcel, Rate, ShipmentRequest, TrackingUpdate

__all__ = [
    "decode_shipment_ref",
    "encode_shipment_ref",
    "label_from_karrio",
    "rate_from_karrio",
    "shipment_payload",
    "updates_from_karrio",
]

_REF_PREFIX = "kr1."
_MIME = {"PDF": "application/pdf", "ZPL": "application/x-zpl", "PNG": "image/png", "GIF": "image/gif"}


def encode_shipment_ref(request: ShipmentRequest) -> str:
    """The self-contained reference of ``request`` (see module doc)."""
    data = asdict(request)
    raw = json.dumps(data, default=str, separators=(",", ":"), sort_keys=True).encode()
    return _REF_PREFIX + base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def decode_shipment_ref(shipment_ref: str) -> ShipmentRequest:
    """The request a ref was made from; ``ValueError`` naming the problem when it is not one of ours."""
    if not shipment_ref.startswith(_REF_PREFIX):
        raise ValueError(f"shipment_ref {shipment_ref[:20]!r}... is not a karrio quote reference (expected 'kr1.…')")
    body = shipment_ref[len(_REF_PREFIX) :]
    try:
        data = json.loads(zlib.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))
        parcel = {key: None if value is None else Decimal(value) for key, value in data["parcel"].items()}
        return ShipmentRequest(
            reference=str(data["reference"]),
            from_address=CarrierAddress(**data["from_address"]),
            to_address=CarrierAddress(**data["to_address"]),
            parcel=Parcel(
                weight_oz=Decimal(data["parcel"]["weight_oz"]),
                length_in=parcel.get("length_in"),
                width_in=parcel.get("width_in"),
                height_in=parcel.get("height_in"),
            ),
            carrier_accounts=tuple(data.get("carrier_accounts") or ()),
        )
    except (ValueError, KeyError, TypeError, zlib.error) as exc:
        raise ValueError(f"shipment_ref is damaged: {exc}") from exc


def _address(address: CarrierAddress) -> dict[str, Any]:
    lines = {"address_line1": address.street1, "address_line2": address.street2}
    fields = {
        "person_name": address.name,
        "company_name": address.company,
        "city": address.city,
        "postal_code": address.postal_code,
        "country_code": address.country.upper(),
        "state_code": address.state,
        "phone_number": address.phone,
        "email": address.email,
        **lines,
    }
    return {key: value for key, value in fields.items() if value is not None}


def shipment_payload(request: ShipmentRequest, service: str | None = None) -> dict[str, Any]:
    """karrio's ``RateRequest`` (``service=None``) or ``ShipmentRequest`` (with the chosen service) as a dict.

    Weight goes in ounces and dimensions in inches, as omnibridge holds them; karrio converts to each carrier's
    units. ``reference`` reaches the carrier (UPS CustomerContext, FedEx customer reference).
    """
    parcel: dict[str, Any] = {"weight": float(request.parcel.weight_oz), "weight_unit": "OZ"}
    dims = (request.parcel.length_in, request.parcel.width_in, request.parcel.height_in)
    if all(value is not None for value in dims):
        parcel.update(
            length=float(request.parcel.length_in or 0),
            width=float(request.parcel.width_in or 0),
            height=float(request.parcel.height_in or 0),
            dimension_unit="IN",
        )
    payload: dict[str, Any] = {
        "shipper": _address(request.from_address),
        "recipient": _address(request.to_address),
        "parcels": [parcel],
        "reference": request.reference,
    }
    if service is not None:
        payload.update(service=service, payment={"paid_by": "sender"}, label_type="PDF")
    return payload


def rate_from_karrio(rate: Any, *, carrier: str, account_ref: str) -> Rate:
    """One karrio ``RateDetails`` (``rate``: karrio has no type hints) as a :class:`Rate`."""
    return Rate(
        rate_id=str(rate.service),
        carrier=carrier,
        service=str(rate.service),
        amount=Decimal(str(rate.total_charge)),
        currency=str(rate.currency or "USD"),
        delivery_days=None if rate.transit_days is None else int(rate.transit_days),
        carrier_account_id=account_ref,
    )


def label_from_karrio(
    shipment: Any, *, carrier: str, shipment_ref: str, service: str, charge: tuple[Decimal, str] | None
) -> Label:
    """karrio's ``ShipmentDetails`` as a :class:`Label`. karrio hands the label over as base64, not a URL, so
    ``label_url`` is a ``data:`` URL of the label file. ``charge`` is what the carrier said the label cost."""
    label_type = str(shipment.label_type or "PDF").upper()
    amount, currency = charge if charge is not None else _selected_rate(shipment)
    return Label(
        shipment_ref=shipment_ref,
        tracking_code=str(shipment.tracking_number),
        carrier=carrier,
        service=service,
        label_url=f"data:{_MIME.get(label_type, 'application/octet-stream')};base64,{shipment.docs.label}",
        amount=amount,
        currency=currency,
    )


def _selected_rate(shipment: Any) -> tuple[Decimal, str]:
    rate = getattr(shipment, "selected_rate", None)
    if rate is None or rate.total_charge is None:
        return Decimal(0), "USD"
    return Decimal(str(rate.total_charge)), str(rate.currency or "USD")


def updates_from_karrio(
    details: Any, scans: list[RawScan], *, carrier: str, profile: CarrierProfile
) -> list[TrackingUpdate]:
    """karrio's ``TrackingDetails`` of one parcel as updates, oldest first.

    ``carrier_status`` and ``occurred_at`` come from ``scans`` (the carrier's raw codes and offsets, read by
    ``profile``); message and location from karrio's events, which karrio lists in the same order.
    """
    events = list(details.events or [])
    if len(events) != len(scans):
        raise ValueError(f"{profile.label} tracking: karrio listed {len(events)} events for {len(scans)} scans")
    updates = [
        TrackingUpdate(
            tracking_code=str(details.tracking_number),
            carrier=carrier,
            carrier_status=scan.code,
            occurred_at=scan.occurred_at,
            ref=f"{details.tracking_number}:{scan.code}:{scan.occurred_at.isoformat()}",
            message=event.description,
            location=event.location,
            detail={key: str(value) for key, value in (("karrio_status", event.status), ("code", event.code)) if value},
        )
        for event, scan in zip(events, scans, strict=True)
    ]
    # The carriers list scans newest first; reversing first keeps scans with equal times in the carrier's order.
    return sorted(reversed(updates), key=_event_order)


def _event_order(update: TrackingUpdate) -> datetime:
    return update.occurred_at
