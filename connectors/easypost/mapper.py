"""Pure translation between EasyPost v2 JSON and the carrier contract (:mod:`omnibridge.sdk.carrier`).

No I/O. Parsers raise :class:`MappingError` (a ``ValueError``) naming the field that is missing or malformed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from omnibridge.sdk.carrier import CarrierAddress, CarrierQuote, Label, Parcel, Rate, ShipmentRequest, TrackingUpdate

__all__ = [
    "POSTAGE_EXISTS",
    "MappingError",
    "address_body",
    "canonical_carrier",
    "error_code",
    "error_message",
    "has_label",
    "location_text",
    "parse_label",
    "parse_quote",
    "parse_time",
    "parse_tracker",
    "shipment_body",
    "tracking_ref",
]

POSTAGE_EXISTS = "SHIPMENT.POSTAGE.EXISTS"
"""EasyPost's error code for a buy on a shipment that already has a label."""

# EasyPost carrier names -> the carrier ids omnibridge uses (Shipment.carrier, mappings/tracking-status.yaml).
_CARRIERS = {"usps": "usps", "ups": "ups", "fedex": "fedex", "dhlexpress": "dhl_express", "dhl_express": "dhl_express"}


class MappingError(ValueError):
    """An EasyPost body does not have the shape the mapper needs."""


def canonical_carrier(name: str) -> str:
    """omnibridge's carrier id for an EasyPost carrier name (``DHLExpress`` -> ``dhl_express``)."""
    key = name.strip().lower().replace(" ", "")
    return _CARRIERS.get(key, key)


# -- requests -------------------------------------------------------------------------------------------------


def address_body(address: CarrierAddress) -> dict[str, Any]:
    """An EasyPost Address object (``zip``, not ``postal_code``); unset optional fields are left out."""
    body: dict[str, Any] = {
        "name": address.name,
        "street1": address.street1,
        "city": address.city,
        "zip": address.postal_code,
        "country": address.country,
    }
    for key, value in (
        ("street2", address.street2),
        ("state", address.state),
        ("company", address.company),
        ("phone", address.phone),
        ("email", address.email),
    ):
        if value is not None:
            body[key] = value
    return body


def _parcel_body(parcel: Parcel) -> dict[str, Any]:
    body: dict[str, Any] = {"weight": float(parcel.weight_oz)}
    for key, value in (("length", parcel.length_in), ("width", parcel.width_in), ("height", parcel.height_in)):
        if value is not None:
            body[key] = float(value)
    return body


def shipment_body(request: ShipmentRequest, default_accounts: tuple[str, ...] = ()) -> dict[str, Any]:
    """``POST /v2/shipments`` body for ``request``: nested under ``shipment``, weight in ounces."""
    shipment: dict[str, Any] = {
        "to_address": address_body(request.to_address),
        "from_address": address_body(request.from_address),
        "parcel": _parcel_body(request.parcel),
        "reference": request.reference,
    }
    if request.is_return:
        shipment["is_return"] = True  # EasyPost swaps to_address and from_address
    accounts = request.carrier_accounts or default_accounts
    if accounts:
        shipment["carrier_accounts"] = list(accounts)
    return {"shipment": shipment}


# -- responses ------------------------------------------------------------------------------------------------


def _str(body: Mapping[str, Any], key: str, where: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise MappingError(f"{where}.{key} is missing or not a string (got {value!r})")
    return value


def _decimal(body: Mapping[str, Any], key: str, where: str) -> Decimal:
    value = body.get(key)
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise MappingError(f"{where}.{key} is not a decimal amount (got {value!r})") from None


def _object(body: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = body.get(key)
    if not isinstance(value, Mapping):
        raise MappingError(f"{where}.{key} is missing or not an object (got {type(value).__name__})")
    return value


def parse_time(value: Any, where: str = "datetime") -> datetime:
    """An EasyPost timestamp (``2025-05-09T20:40:17Z``, ``…+00:00``, with or without fractions) as aware UTC."""
    if not isinstance(value, str):
        raise MappingError(f"{where} is not a timestamp (got {value!r})")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise MappingError(f"{where} is not an ISO 8601 timestamp (got {value!r})") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _rate(body: Mapping[str, Any], where: str) -> Rate:
    days = body.get("delivery_days")
    if days is None:
        days = body.get("est_delivery_days")
    account = body.get("carrier_account_id")
    return Rate(
        rate_id=_str(body, "id", where),
        carrier=_str(body, "carrier", where),
        service=_str(body, "service", where),
        amount=_decimal(body, "rate", where),
        currency=_str(body, "currency", where),
        delivery_days=days if isinstance(days, int) else None,
        carrier_account_id=account if isinstance(account, str) else None,
    )


def parse_quote(body: Mapping[str, Any]) -> CarrierQuote:
    """A Shipment body -> its id and rates, cheapest first (ties: faster first, then by rate id)."""
    rates_body = body.get("rates")
    if not isinstance(rates_body, list):
        raise MappingError(f"shipment.rates is missing or not a list (got {type(rates_body).__name__})")
    rates = [_rate(item, f"shipment.rates[{i}]") for i, item in enumerate(rates_body) if isinstance(item, Mapping)]
    rates.sort(key=lambda r: (r.amount, r.delivery_days if r.delivery_days is not None else 10**6, r.rate_id))
    return CarrierQuote(shipment_ref=_str(body, "id", "shipment"), rates=tuple(rates))


def has_label(body: Mapping[str, Any]) -> bool:
    """Whether a Shipment body already carries a bought label."""
    label = body.get("postage_label")
    return isinstance(label, Mapping) and bool(label.get("label_url")) and bool(body.get("tracking_code"))


def parse_label(body: Mapping[str, Any]) -> Label:
    """A bought Shipment body -> :class:`Label` (selected rate, tracking code, label URL, tracker id)."""
    postage = _object(body, "postage_label", "shipment")
    rate = _object(body, "selected_rate", "shipment")
    tracker = body.get("tracker")
    tracker_id = tracker.get("id") if isinstance(tracker, Mapping) else None
    return Label(
        shipment_ref=_str(body, "id", "shipment"),
        tracking_code=_str(body, "tracking_code", "shipment"),
        carrier=_str(rate, "carrier", "shipment.selected_rate"),
        service=_str(rate, "service", "shipment.selected_rate"),
        label_url=_str(postage, "label_url", "shipment.postage_label"),
        amount=_decimal(rate, "rate", "shipment.selected_rate"),
        currency=_str(rate, "currency", "shipment.selected_rate"),
        tracker_ref=tracker_id if isinstance(tracker_id, str) else None,
    )


def tracking_ref(tracking_code: str, occurred_at: str, status: str, status_detail: str | None) -> str:
    """The dedupe key of one tracking detail: the same in a webhook and in a polled tracker."""
    return f"easypost:{tracking_code}:{occurred_at}:{status}:{status_detail or ''}"


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def location_text(detail: Mapping[str, Any]) -> str | None:
    """``CITY, ST ZIP, COUNTRY`` of a TrackingDetail's ``tracking_location`` (parts EasyPost left null omitted)."""
    where = detail.get("tracking_location")
    if not isinstance(where, Mapping):
        return None
    city, state, postal, country = (where.get(k) for k in ("city", "state", "zip", "country"))
    parts = [p for p in (city, " ".join(x for x in (state, postal) if isinstance(x, str) and x), country) if p]
    return ", ".join(str(p) for p in parts) or None


def parse_tracker(body: Mapping[str, Any]) -> list[TrackingUpdate]:
    """A Tracker body -> one :class:`TrackingUpdate` per ``tracking_details`` entry, oldest first.

    ``carrier_status`` is EasyPost's normalised ``status`` (map it with the ``easypost`` table); the carrier's raw
    code, ``status_detail`` and ``source`` go to ``detail``.
    """
    code = _str(body, "tracking_code", "tracker")
    carrier = _str(body, "carrier", "tracker")
    details = body.get("tracking_details")
    if not isinstance(details, list):
        raise MappingError(f"tracker.tracking_details is missing or not a list (got {type(details).__name__})")
    updates: list[TrackingUpdate] = []
    for index, item in enumerate(details):
        where = f"tracker.tracking_details[{index}]"
        if not isinstance(item, Mapping):
            raise MappingError(f"{where} is not an object")
        stamp = _str(item, "datetime", where)
        status = _str(item, "status", where)
        status_detail = item.get("status_detail")
        extra = {key: item[key] for key in ("status_detail", "source", "carrier_code") if _text(item.get(key))}
        message = item.get("message")
        updates.append(
            TrackingUpdate(
                tracking_code=code,
                carrier=carrier,
                carrier_status=status,
                occurred_at=parse_time(stamp, f"{where}.datetime"),
                ref=tracking_ref(code, stamp, status, status_detail if isinstance(status_detail, str) else None),
                message=message if isinstance(message, str) else None,
                location=location_text(item),
                detail=extra,
            )
        )
    updates.sort(key=lambda u: u.occurred_at)
    return updates


# -- errors ---------------------------------------------------------------------------------------------------


def _error(body: Any) -> Mapping[str, Any]:
    if isinstance(body, Mapping):
        inner = body.get("error")
        if isinstance(inner, Mapping):
            return inner
        if "code" in body or "message" in body:  # the docs show the inner object bare
            return body
    return {}


def error_code(body: Any) -> str | None:
    """EasyPost's error ``code`` (``SHIPMENT.POSTAGE.EXISTS``), or None when the body carries none."""
    code = _error(body).get("code")
    return code if isinstance(code, str) else None


def error_message(status: int, body: Any) -> str:
    """A one-line message for an EasyPost error answer, naming each field EasyPost complains about."""
    error = _error(body)
    code = error.get("code")
    message = error.get("message")
    head = f"HTTP {status}"
    if isinstance(code, str):
        head += f" {code}"
    if isinstance(message, str) and message:
        head += f": {message}"
    parts: list[str] = []
    for item in error.get("errors") or []:
        if isinstance(item, Mapping):
            field, text = item.get("field"), item.get("message")
            suggestion = item.get("suggestion")
            piece = f"{field}: {text}" if field else str(text)
            if suggestion:
                piece += f" (suggestion: {suggestion})"
            parts.append(piece)
        elif item:
            parts.append(str(item))
    return head + (f" [{'; '.join(parts)}]" if parts else "")
