"""A local DHL Express MyDHL API (``/mydhlapi``): rates, shipments and tracking, as karrio's ``mydhl`` package
calls them.

MyDHL quirks kept: HTTP Basic authentication on every request (no token endpoint); errors are RFC 7807-like
``{"instance", "detail", "title", "message", "status"}`` with ``status`` as a string; product codes are one or
two characters (``N`` Express Domestic, ``1`` Express Domestic 12:00, ``P`` Express Worldwide); tracking takes
``shipmentTrackingNumber`` query parameters and lists events with a local ``date``/``time`` plus ``GMTOffset``.
Prices are a deterministic function of the weight in kilograms (``unitOfMeasurement`` ``imperial`` requests are
converted). The shipment reference is read from ``customerReferences`` (typeCode ``CU``).
"""

from __future__ import annotations

import base64
from datetime import UTC
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.karrio.emulators.base import CarrierEmulator, EmulatedParcel, ScanStep, VendorError
from connectors.karrio.emulators.fedex import tiny_pdf

__all__ = ["DhlExpressEmulator"]

# productCode -> (productName, base, per kg, days)
_DOMESTIC: dict[str, tuple[str, Decimal, Decimal, int]] = {
    "N": ("EXPRESS DOMESTIC", Decimal("21.40"), Decimal("3.10"), 1),
    "1": ("EXPRESS DOMESTIC 12:00", Decimal("29.90"), Decimal("3.60"), 1),
}
_INTERNATIONAL: dict[str, tuple[str, Decimal, Decimal, int]] = {
    "P": ("EXPRESS WORLDWIDE", Decimal("48.50"), Decimal("9.20"), 3),
}
_FUEL = Decimal("0.18")
_CENT = Decimal("0.01")
_LABEL_PDF = base64.b64encode(tiny_pdf()).decode()


def _lookup(code: str) -> tuple[str, Decimal, Decimal, int] | None:
    return _DOMESTIC.get(code) or _INTERNATIONAL.get(code)


def _product_name(code: str) -> str:
    product = _lookup(code)
    return product[0] if product is not None else code


class DhlExpressEmulator(CarrierEmulator):
    """MyDHL for one account: ``client_id``/``client_secret`` are the API username and password, and
    ``account_number`` the shipper account billed."""

    service = "dhl_express"
    steps = (
        ScanStep("PU", "Shipment picked up"),
        ScanStep("PL", "Processed at LONDON-HEATHROW - UK"),
        ScanStep("DF", "Departed Facility in LONDON-HEATHROW - UK"),
        ScanStep("WC", "With delivery courier"),
        ScanStep("OK", "Delivered"),
    )

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/rates", self.api("rate", self._rate), methods=["POST"]),
            Route("/shipments", self.api("ship", self._ship, write=True), methods=["POST"]),
            Route("/tracking", self.api("track", self._track), methods=["GET"]),
            Route("/shipments/{number}/proof-of-delivery", self.api("pod", self._pod), methods=["GET"]),
        ]

    def error_response(self, status: int, code: str, message: str) -> Response:
        titles = {400: "Bad request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests"}
        return JSONResponse(
            {"instance": "/expressapi", "detail": message, "title": titles.get(status, code), "status": str(status)},
            status_code=status,
        )

    def injected_error(self, status: int) -> tuple[str, str]:
        known = {
            400: ("Bad request", "998: Invalid product code"),
            401: self.unauthorized(),
            429: ("Too Many Requests", "Too many requests. Please try again later."),
        }
        return known.get(status, ("Service Unavailable", "The server is temporarily unable to handle the request."))

    def unauthorized(self) -> tuple[str, str]:
        return "Unauthorized", "Invalid Credentials"

    def check_basic(self, request: Request) -> None:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            username, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            username, password = "", ""
        if scheme.lower() != "basic" or (username, password) != (self.client_id, self.client_secret):
            raise VendorError(401, *self.unauthorized())

    # -- endpoints -------------------------------------------------------------------------------------------------

    def _accounts(self, payload: dict[str, Any]) -> None:
        numbers = {str(a.get("number")) for a in payload.get("accounts") or [] if a.get("typeCode") == "shipper"}
        if self.account_number not in numbers:
            raise VendorError(400, "Bad request", "1001: The shipper account number is missing or invalid")

    @staticmethod
    def _weight_kg(packages: list[dict[str, Any]], unit: str) -> Decimal:
        # unitOfMeasurement "imperial" means pounds and inches (karrio sends imperial for ounce/inch parcels).
        factor = Decimal("0.45359237") if unit == "imperial" else Decimal(1)
        try:
            total = sum((Decimal(str(p["weight"])) * factor for p in packages), Decimal(0))
        except (KeyError, ArithmeticError) as exc:
            raise VendorError(400, "Bad request", "420505: The package weight is missing or invalid") from exc
        if total <= 0:
            raise VendorError(400, "Bad request", "420505: The package weight is missing or invalid")
        return total

    def _products(self, origin: str, destination: str) -> dict[str, tuple[str, Decimal, Decimal, int]]:
        return _DOMESTIC if origin == destination else _INTERNATIONAL

    def _price(self, code: str, kilograms: Decimal) -> tuple[Decimal, Decimal]:
        product = _lookup(code)
        assert product is not None
        _, base, per_kg, _ = product
        charge = (base + per_kg * max(kilograms, Decimal("0.5"))).quantize(_CENT, rounding=ROUND_HALF_UP)
        return charge, (charge * _FUEL).quantize(_CENT, rounding=ROUND_HALF_UP)

    async def _rate(self, request: Request, body: bytes) -> Response:
        self.check_basic(request)
        payload = self.json_body(body)
        self._accounts(payload)
        details = payload.get("customerDetails") or {}
        origin = str((details.get("shipperDetails") or {}).get("countryCode") or "")
        destination = str((details.get("receiverDetails") or {}).get("countryCode") or "")
        if not origin or not destination:
            raise VendorError(400, "Bad request", "420504: shipperDetails and receiverDetails need a countryCode")
        kilograms = self._weight_kg(payload.get("packages") or [], str(payload.get("unitOfMeasurement")))
        currency = "GBP" if origin == "GB" else "USD"
        products = []
        today = self.clock().date()
        for code, (name, _, _, days) in self._products(origin, destination).items():
            charge, fuel = self._price(code, kilograms)
            products.append(
                {
                    "productName": name,
                    "productCode": code,
                    "localProductCode": code,
                    "networkTypeCode": "TD",
                    "isCustomerAgreement": False,
                    "weight": {"volumetric": 0, "provided": float(kilograms), "unitOfMeasurement": "metric"},
                    "totalPrice": [{"currencyType": "BILLC", "priceCurrency": currency, "price": float(charge + fuel)}],
                    "totalPriceBreakdown": [
                        {
                            "currencyType": "BILLC",
                            "priceCurrency": currency,
                            "priceBreakdown": [
                                {"typeCode": "STRD", "price": float(charge)},
                                {"typeCode": "FF", "price": float(fuel)},
                            ],
                        }
                    ],
                    "deliveryCapabilities": {
                        "deliveryTypeCode": "QDDC",
                        "estimatedDeliveryDateAndTime": f"{today.fromordinal(today.toordinal() + days)}T23:59:00",
                        "totalTransitDays": days,
                    },
                }
            )
        return JSONResponse({"products": products, "exchangeRates": []})

    async def _ship(self, request: Request, body: bytes) -> Response:
        self.check_basic(request)
        payload = self.json_body(body)
        self._accounts(payload)
        code = str(payload.get("productCode") or "")
        if _lookup(code) is None:
            raise VendorError(400, "Bad request", f"998: Invalid product code {code!r}")
        content = payload.get("content") or {}
        kilograms = self._weight_kg(content.get("packages") or [], str(content.get("unitOfMeasurement")))
        receiver = ((payload.get("customerDetails") or {}).get("receiverDetails") or {}).get("postalAddress") or {}
        charge, fuel = self._price(code, kilograms)
        number = f"{self.next_id():010d}"
        references = payload.get("customerReferences") or []
        reference = next((str(r.get("value")) for r in references if r.get("value")), "")
        self.parcels[number] = EmulatedParcel(
            tracking_number=number,
            reference=reference,
            service=code,
            amount=charge + fuel,
            currency="GBP" if receiver.get("countryCode") == "GB" else "USD",
            destination_city=str(receiver.get("cityName") or ""),
            destination_postal_code=str(receiver.get("postalCode") or ""),
            destination_country=str(receiver.get("countryCode") or ""),
        )
        parcel = self.parcels[number]
        self.labels_by_reference[reference] += 1
        self.advance(number)
        return JSONResponse(
            {
                "url": f"/shipments/{number}",
                "shipmentTrackingNumber": number,
                "trackingUrl": f"/shipments/{number}/tracking",
                "packages": [{"referenceNumber": 1, "trackingNumber": f"JD01460000{number}"}],
                "documents": [{"imageFormat": "PDF", "content": _LABEL_PDF, "typeCode": "label"}],
                "shipmentCharges": [
                    {
                        "currencyType": "BILLC",
                        "priceCurrency": parcel.currency,
                        "price": float(parcel.amount),
                        "serviceBreakdown": [{"name": _product_name(code), "price": float(charge)}],
                    }
                ],
            },
            status_code=201,
        )

    async def _track(self, request: Request, body: bytes) -> Response:
        self.check_basic(request)
        numbers = request.query_params.getlist("shipmentTrackingNumber")
        found = [self.parcels[n] for n in numbers if n in self.parcels]
        if not found:
            raise VendorError(404, "Not Found", "No shipments found for the given tracking numbers.")
        shipments = []
        for parcel in found:
            events = []
            for step, when in reversed(parcel.scans):
                utc = when.astimezone(UTC)
                events.append(
                    {
                        "date": utc.strftime("%Y-%m-%d"),
                        "time": utc.strftime("%H:%M:%S"),
                        "GMTOffset": "+00:00",
                        "typeCode": step.code,
                        "description": step.description,
                        "serviceArea": [{"code": "LHR", "description": f"{parcel.destination_city}-UK"}],
                    }
                )
            shipments.append(
                {
                    "shipmentTrackingNumber": parcel.tracking_number,
                    "status": "Success",
                    "productCode": parcel.service,
                    "description": _product_name(parcel.service),
                    "events": events,
                }
            )
        return JSONResponse({"shipments": shipments})

    async def _pod(self, request: Request, body: bytes) -> Response:
        self.check_basic(request)
        raise VendorError(404, "Not Found", "The proof of delivery is not available yet.")
