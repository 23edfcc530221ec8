"""Per-carrier knowledge the karrio connector needs beyond karrio's unified models (pure, no karrio import).

karrio normalises tracking statuses to its own vocabulary and drops what omnibridge keeps: the carrier's own
status code (UPS's activity ``status.type``), the scan time's UTC offset (FedEx), and what a label cost (UPS and
FedEx return it in the ship response; karrio's ``ShipmentDetails`` has no price). A :class:`CarrierProfile`
reads those from the carrier's raw JSON, and says which error codes are transient.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import SecretStr

from connectors.karrio.settings import DhlExpressSettings, FedexSettings, UpsSettings, UspsSettings

__all__ = ["DHL_EXPRESS", "FEDEX", "PROFILES", "UPS", "USPS", "CarrierMessage", "CarrierProfile", "RawScan"]


@dataclass(frozen=True, slots=True)
class RawScan:
    """One scan as the carrier reported it: its own status code and an aware time."""

    code: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class CarrierMessage:
    """An error read from the raw response where karrio lost it (same fields as karrio's ``Message``)."""

    code: str
    message: str
    level: str = "error"


def _no_errors(raw: Any) -> list[CarrierMessage]:
    return []


@dataclass(frozen=True)
class CarrierProfile:
    """What differs between carriers. ``scans`` returns a parcel's scans in the order karrio lists its events;
    ``label_charge`` the (amount, currency) of a bought label, or ``None`` when the response has none.
    ``throttle_codes`` (a subset of ``retriable_codes``) mean the request was refused unprocessed.
    ``raw_errors`` reads errors from a raw response when karrio returned neither a result nor a message;
    ``patch_shipment(reference)`` returns a fix-up of the serialized ship request karrio built (or is ``None``)."""

    id: str
    label: str
    karrio_fields: Callable[[Any], dict[str, Any]]
    scans: Callable[[Any, str], list[RawScan]]
    label_charge: Callable[[Any], tuple[Decimal, str] | None]
    retriable_codes: frozenset[str]
    throttle_codes: frozenset[str]
    auth_codes: frozenset[str]
    not_found_codes: frozenset[str]
    raw_errors: Callable[[Any], list[CarrierMessage]] = _no_errors
    karrio_name: str | None = None
    patch_shipment: Callable[[str], Callable[[Any], Any]] | None = None

    @property
    def karrio_carrier(self) -> str:
        """karrio's name for the carrier (its ``karrio.mappers.<name>`` package)."""
        return self.karrio_name or self.id


def _secret(value: SecretStr | None) -> str | None:
    return None if value is None else value.get_secret_value()


def _money(amount: Any, currency: Any) -> tuple[Decimal, str] | None:
    if amount is None or not currency:
        return None
    try:
        return Decimal(str(amount)), str(currency)
    except InvalidOperation:
        return None


def _dig(data: Any, *path: str | int) -> Any:
    for key in path:
        if isinstance(key, int):
            if not isinstance(data, list) or len(data) <= key:
                return None
        elif not isinstance(data, Mapping):
            return None
        data = data[key] if isinstance(key, int) else data.get(key)
    return data


# -- UPS --------------------------------------------------------------------------------------------------------


def _ups_fields(settings: UpsSettings) -> dict[str, Any]:
    return {
        "client_id": settings.client_id.get_secret_value(),
        "client_secret": settings.client_secret.get_secret_value(),
        "account_number": settings.account_number,
    }


def _ups_scans(raw: Any, tracking_code: str) -> list[RawScan]:
    # karrio's raw UPS tracking response is a list of (tracking number, JSON) pairs.
    for number, body in raw or []:
        if number != tracking_code:
            continue
        activities = _dig(body, "trackResponse", "shipment", 0, "package", 0, "activity") or []
        scans = []
        for activity in activities:
            if activity.get("gmtDate") and activity.get("gmtTime"):
                # Track API v1 activities may carry the scan in GMT (gmtDate 20260303, gmtTime 14:40:05).
                stamp = f"{activity['gmtDate']}{str(activity['gmtTime']).replace(':', '')}"
            else:
                # Otherwise only the scan's local date and time, without an offset: read as UTC.
                stamp = f"{activity.get('date', '')}{activity.get('time', '000000')}"
            occurred = datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
            status = activity.get("status") or {}
            scans.append(RawScan(str(status.get("type") or status.get("code") or ""), occurred))
        return scans
    return []


def _ups_label_charge(raw: Any) -> tuple[Decimal, str] | None:
    results = _dig(raw, "ShipmentResponse", "ShipmentResults") or {}
    negotiated = _dig(results, "NegotiatedRateCharges", "TotalCharge") or {}
    total = negotiated or _dig(results, "ShipmentCharges", "TotalCharges") or {}
    return _money(total.get("MonetaryValue"), total.get("CurrencyCode"))


UPS = CarrierProfile(
    id="ups",
    label="UPS",
    karrio_fields=_ups_fields,
    scans=_ups_scans,
    label_charge=_ups_label_charge,
    # 10429: "Too Many Requests" (UPS sends no rate-limit headers); 5xx bodies carry the HTTP status as code.
    retriable_codes=frozenset({"10429", "500", "502", "503", "504"}),
    throttle_codes=frozenset({"10429"}),
    auth_codes=frozenset({"250002", "250003", "10401"}),
    not_found_codes=frozenset({"TW0001", "151044"}),
)


# -- FedEx ------------------------------------------------------------------------------------------------------


def _fedex_fields(settings: FedexSettings) -> dict[str, Any]:
    return {
        "api_key": settings.api_key.get_secret_value(),
        "secret_key": settings.secret_key.get_secret_value(),
        "track_api_key": _secret(settings.track_api_key) or settings.api_key.get_secret_value(),
        "track_secret_key": _secret(settings.track_secret_key) or settings.secret_key.get_secret_value(),
        "account_number": settings.account_number,
    }


def _fedex_scans(raw: Any, tracking_code: str) -> list[RawScan]:
    for result in _dig(raw, "output", "completeTrackResults") or []:
        if result.get("trackingNumber") != tracking_code:
            continue
        # karrio keeps the track result with the latest scan; so does this.
        candidates = [r for r in result.get("trackResults") or [] if r.get("scanEvents")]
        if not candidates:
            return []
        best = max(candidates, key=lambda r: max(_fedex_time(e["date"]) for e in r["scanEvents"]))
        return [RawScan(str(e.get("eventType") or ""), _fedex_time(e["date"])) for e in best["scanEvents"]]
    return []


def _fedex_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    # FedEx scan times carry the scan location's offset; one without is taken as UTC.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _fedex_label_charge(raw: Any) -> tuple[Decimal, str] | None:
    detail = _dig(raw, "output", "transactionShipments", 0, "completedShipmentDetail", "shipmentRating") or {}
    rates = detail.get("shipmentRateDetails") or []
    chosen = next((r for r in rates if r.get("rateType") == detail.get("actualRateType")), rates[0] if rates else {})
    return _money(chosen.get("totalNetCharge"), chosen.get("currency"))


FEDEX = CarrierProfile(
    id="fedex",
    label="FedEx",
    karrio_fields=_fedex_fields,
    scans=_fedex_scans,
    label_charge=_fedex_label_charge,
    retriable_codes=frozenset(
        {
            "TOO.MANY.REQUESTS.ERROR",
            "SERVICE.UNAVAILABLE.ERROR",
            "INTERNAL.SERVER.ERROR",
            "SYSTEM.UNAVAILABLE.EXCEPTION",
        }
    ),
    throttle_codes=frozenset({"TOO.MANY.REQUESTS.ERROR"}),
    auth_codes=frozenset({"NOT.AUTHORIZED.ERROR", "FORBIDDEN.ERROR", "UNAUTHORIZED"}),
    not_found_codes=frozenset({"TRACKING.TRACKINGNUMBER.NOTFOUND"}),
)


# -- USPS -------------------------------------------------------------------------------------------------------


def _usps_fields(settings: UspsSettings) -> dict[str, Any]:
    return {
        "client_id": settings.client_id.get_secret_value(),
        "client_secret": settings.client_secret.get_secret_value(),
        "account_number": settings.account_number,
        "account_type": settings.account_type,
        "CRID": settings.crid,
        "MID": settings.mid,
        "manifest_MID": settings.manifest_mid,
    }


def _usps_scans(raw: Any, tracking_code: str) -> list[RawScan]:
    # karrio's raw USPS tracking response is a list of (tracking number, JSON) pairs.
    for number, body in raw or []:
        if number != tracking_code or not isinstance(body, Mapping):
            continue
        scans = []
        for event in body.get("trackingEvents") or []:
            # GMTTimestamp is UTC; eventTimestamp is the local time of the scan, without an offset.
            stamp = str(event.get("GMTTimestamp") or event.get("eventTimestamp") or "").replace("Z", "+00:00")
            occurred = datetime.fromisoformat(stamp)
            occurred = occurred if occurred.tzinfo is not None else occurred.replace(tzinfo=UTC)
            scans.append(RawScan(str(event.get("eventCode") or ""), occurred))
        return scans
    return []


def _usps_label_charge(raw: Any) -> tuple[Decimal, str] | None:
    # One parsed multipart body per package; postage is in USD.
    metadata = _dig(raw, 0, "labelMetadata") or {}
    return _money(metadata.get("postage"), "USD")


def _usps_errors(raw: Any) -> list[CarrierMessage]:
    # karrio's USPS rate parser checks the list of responses instead of each response, so it drops their errors.
    found: list[CarrierMessage] = []
    for body in raw if isinstance(raw, list) else [raw]:
        error = body.get("error") if isinstance(body, Mapping) else None
        if not isinstance(error, Mapping):
            continue
        details = [e for e in error.get("errors") or [] if isinstance(e, Mapping)] or [error]
        found.extend(
            CarrierMessage(str(e.get("code") or error.get("code")), str(e.get("detail") or e.get("message") or ""))
            for e in details
        )
    return found


USPS = CarrierProfile(
    id="usps",
    label="USPS",
    karrio_fields=_usps_fields,
    scans=_usps_scans,
    label_charge=_usps_label_charge,
    retriable_codes=frozenset({"429", "500", "502", "503", "504"}),
    throttle_codes=frozenset({"429"}),
    auth_codes=frozenset({"401", "403", "invalid_client"}),
    not_found_codes=frozenset({"404"}),
    raw_errors=_usps_errors,
)


# -- DHL Express (MyDHL API, karrio's ``mydhl`` package) ------------------------------------------------------------


def _dhl_fields(settings: DhlExpressSettings) -> dict[str, Any]:
    return {
        "username": settings.username.get_secret_value(),
        "password": settings.password.get_secret_value(),
        "account_number": settings.account_number,
    }


def _dhl_scans(raw: Any, tracking_code: str) -> list[RawScan]:
    for shipment in _dig(raw, "shipments") or []:
        if str(shipment.get("shipmentTrackingNumber")) != tracking_code:
            continue
        scans = []
        for event in shipment.get("events") or []:
            # Local date and time of the checkpoint plus its GMTOffset (taken as UTC when absent).
            offset = str(event.get("GMTOffset") or "+00:00")
            occurred = datetime.fromisoformat(f"{event.get('date')}T{event.get('time')}{offset}")
            scans.append(RawScan(str(event.get("typeCode") or ""), occurred))
        return scans
    return []


def _dhl_label_charge(raw: Any) -> tuple[Decimal, str] | None:
    charges = [c for c in _dig(raw, "shipmentCharges") or [] if isinstance(c, Mapping)]
    chosen = next((c for c in charges if c.get("currencyType") == "BILLC"), charges[0] if charges else {})
    return _money(chosen.get("price"), chosen.get("priceCurrency"))


def _dhl_patch(reference: str) -> Callable[[Any], Any]:
    # karrio's MyDHL mapper sends no customerReferences; the shipment reference belongs on the waybill (and is
    # how an operator finds the shipment in MyDHL). MyDHL allows 35 characters.
    def patch(serialized: Any) -> Any:
        shipment = serialized.get("shipment") if isinstance(serialized, dict) else None
        if isinstance(shipment, dict) and reference:
            shipment.setdefault("customerReferences", [{"value": reference[:35], "typeCode": "CU"}])
        return serialized

    return patch


DHL_EXPRESS = CarrierProfile(
    id="dhl_express",
    label="DHL Express",
    karrio_fields=_dhl_fields,
    scans=_dhl_scans,
    label_charge=_dhl_label_charge,
    # MyDHL errors carry the HTTP status as their code.
    retriable_codes=frozenset({"429", "500", "502", "503", "504"}),
    throttle_codes=frozenset({"429"}),
    auth_codes=frozenset({"401", "403"}),
    not_found_codes=frozenset({"404"}),
    karrio_name="mydhl",
    patch_shipment=_dhl_patch,
)

PROFILES: dict[str, CarrierProfile] = {p.id: p for p in (UPS, FEDEX, USPS, DHL_EXPRESS)}
