"""Shipment confirmation on Amazon (merchant fulfilled): Orders v0 ``confirmShipment``, 2 requests/s, burst 10.

One :class:`~omnibridge.sdk.fulfilment.ShipmentConfirmation` is one package:
``POST /orders/v0/orders/{orderId}/shipmentConfirmation`` with ``{marketplaceId, packageDetail{packageReferenceId,
carrierCode, carrierName?, shippingMethod?, trackingNumber, shipDate, shipFromSupplySourceId?, orderItems}}``.

* ``packageReferenceId`` ("only positive numeric values") is derived from the confirmation's ``reference`` (the
  reference itself when it is already a positive number of at most 15 digits, else 12 hex digits of its SHA-256),
  so every retry names the same package.
* ``shipFromSupplySourceId`` is ``location_ref`` (a supply source id); the connector's own stock location
  ``DEFAULT`` names no supply source, so it is left out (the field is optional).
* ``carrierCode`` is required for every marketplace: :data:`CARRIER_CODES` maps omnibridge's carrier names to
  Amazon's codes; any other carrier is ``Other`` with its name in ``carrierName``.
* Amazon treats a second ``confirmShipment`` with the same ``packageReferenceId`` as an *edit* of that package and
  answers 204 again ("If you need to make an edit to the shipment, submit another confirmShipment operation with
  the same packageReferenceID"), so a repeat cannot be told from its answer. Before writing, the order's packages
  are read with Orders 2026-01-01 ``getOrder?includedData=PACKAGES`` (0.5/s, burst 30): a package with our
  ``packageReferenceId`` and tracking number is a repeat (``duplicate=True``, nothing sent). A package with our id
  but other tracking is edited (sent again). References confirmed by this process are remembered, so their
  repeats cost no call.
* 204 is accepted; a 400 or 404 with Amazon's ``errors`` is a refusal (``accepted=False`` with Amazon's message);
  429/5xx are retried by the HTTP client and then raise :class:`~omnibridge.sdk.HttpRetriableError`.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from connectors.amazon import mapper
from omnibridge.sdk.fulfilment import ConfirmationResult, ShipmentConfirmation

if TYPE_CHECKING:
    from connectors.amazon.client import AmazonApi

__all__ = ["CARRIER_CODES", "ShipmentConfirmer", "carrier_fields", "confirmation_body", "package_reference_id"]

CONFIRM_OPERATION = "confirmShipment"
PACKAGES_OPERATION = "getOrder2026"
"""Orders 2026-01-01 ``getOrder`` (its own bucket: the v0 ``getOrder`` has the same plan but another bucket)."""
ORDERS_V0 = "/orders/v0/orders"
ORDERS_2026 = "/orders/2026-01-01/orders"

CARRIER_CODES: Mapping[str, str] = {
    # omnibridge's carrier names (ShipmentConfirmation.carrier), casefolded -> Amazon carrier-code values
    # (Seller Central shipping confirmation template: "USPS, UPS, UPSMI, FedEx, DHL, DHL eCommerce, ...").
    "ups": "UPS",
    "ups mail innovations": "UPS Mail Innovations",
    "fedex": "FedEx",
    "fedex smartpost": "FedEx SmartPost",
    "usps": "USPS",
    "dhl": "DHL",
    "dhl express": "DHL",
    "dhl ecommerce": "DHL eCommerce",
    "ontrac": "OnTrac",
    "lasership": "Lasership",
    "canada post": "Canada Post",
    "royal mail": "Royal Mail",
}
_REMEMBERED = 10_000


def package_reference_id(reference: str) -> str:
    """A positive numeric ``packageReferenceId`` that is the same for every call with ``reference``."""
    if reference.isdigit() and len(reference) <= 15 and int(reference) > 0:
        return str(int(reference))
    digest = hashlib.sha256(reference.encode("utf-8")).hexdigest()
    return str(int(digest[:12], 16) + 1)


def carrier_fields(carrier: str | None) -> dict[str, str]:
    """``carrierCode`` (and ``carrierName``) for omnibridge's carrier name; unknown or missing → ``Other``."""
    name = (carrier or "").strip()
    code = CARRIER_CODES.get(name.casefold())
    if code is not None:
        return {"carrierCode": code, "carrierName": name}
    return {"carrierCode": "Other", "carrierName": name or "Other"}


def confirmation_body(confirmation: ShipmentConfirmation, marketplace_id: str) -> dict[str, Any]:
    """The ``ConfirmShipmentRequest`` for one package."""
    package: dict[str, Any] = {
        "packageReferenceId": package_reference_id(confirmation.reference),
        **carrier_fields(confirmation.carrier),
        "trackingNumber": confirmation.tracking_number or "",
        "shipDate": mapper.format_time(confirmation.shipped_at),
        "orderItems": [{"orderItemId": line.line_ref, "quantity": line.quantity} for line in confirmation.lines],
    }
    if confirmation.service:
        package["shippingMethod"] = confirmation.service
    if confirmation.location_ref and confirmation.location_ref != mapper.MFN_CHANNEL:
        package["shipFromSupplySourceId"] = confirmation.location_ref
    return {"marketplaceId": marketplace_id, "packageDetail": package}


def _errors_message(body: Any, status: int) -> str:
    return mapper.describe_errors(mapper.amazon_errors(body)) or f"HTTP {status} without an error message"


class ShipmentConfirmer:
    """``confirm_shipment`` for one seller and marketplace (see the module docstring)."""

    def __init__(self, api: AmazonApi, marketplace_id: str) -> None:
        self._api = api
        self._marketplace_id = marketplace_id
        self._confirmed: OrderedDict[tuple[str, str], str] = OrderedDict()

    async def confirm_shipment(self, confirmation: ShipmentConfirmation) -> ConfirmationResult:
        """Record ``confirmation`` as one package of its order on Amazon; safe to repeat."""
        if not confirmation.lines:
            return ConfirmationResult(False, message="a shipment confirmation needs at least one order item")
        if not confirmation.tracking_number:
            return ConfirmationResult(False, message="Amazon needs a tracking number to confirm a shipment")
        body = confirmation_body(confirmation, self._marketplace_id)
        package_id = str(body["packageDetail"]["packageReferenceId"])
        key = (confirmation.order_ref, confirmation.reference)
        if self._confirmed.get(key) == confirmation.tracking_number:
            return ConfirmationResult(True, channel_ref=package_id, duplicate=True)
        order_path = quote(confirmation.order_ref, safe="")
        status, found = await self._api.call(
            PACKAGES_OPERATION,
            "GET",
            f"{ORDERS_2026}/{order_path}",
            params={"includedData": "PACKAGES"},
            expected=(400, 404),
        )
        if status >= 400:
            return ConfirmationResult(False, message=_errors_message(found, status))
        existing = _package(found, package_id)
        if existing is not None and existing.get("trackingNumber") == confirmation.tracking_number:
            self._remember(key, confirmation.tracking_number)
            return ConfirmationResult(True, channel_ref=package_id, duplicate=True)
        status, answer = await self._api.call(
            CONFIRM_OPERATION,
            "POST",
            f"{ORDERS_V0}/{order_path}/shipmentConfirmation",
            json=body,
            expected=(400, 404),
        )
        if status >= 400:
            return ConfirmationResult(False, message=_errors_message(answer, status))
        self._remember(key, confirmation.tracking_number)
        return ConfirmationResult(True, channel_ref=package_id)

    def _remember(self, key: tuple[str, str], tracking: str) -> None:
        self._confirmed[key] = tracking
        self._confirmed.move_to_end(key)
        while len(self._confirmed) > _REMEMBERED:
            self._confirmed.popitem(last=False)


def _package(body: Any, package_id: str) -> Mapping[str, Any] | None:
    order = body.get("order") if isinstance(body, Mapping) else None
    packages = order.get("packages") if isinstance(order, Mapping) else None
    for package in packages if isinstance(packages, list) else []:
        if isinstance(package, Mapping) and str(package.get("packageReferenceId")) == package_id:
            return package
    return None
