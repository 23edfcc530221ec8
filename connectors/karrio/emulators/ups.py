"""A local UPS: OAuth client credentials, Rating (Shop/Rate), Shipping (ship) and Track, as karrio calls them.

Shapes follow UPS's JSON APIs (``/api/rating/v2409``, ``/api/shipments/v2409``, ``/api/track/v1``) as karrio's
UPS package reads them. UPS quirks kept: the token endpoint takes HTTP Basic ``client_id:client_secret`` and
answers ``issued_at`` in epoch milliseconds; errors are ``{"response": {"errors": [{"code", "message"}]}}``
(throttling is 429 code ``10429`` "Too Many Requests", without rate-limit headers); Track wants ``transId`` and
``transactionSrc`` headers; track activities are newest first (unknown numbers: 404 ``TW0001``) with the scan's
local ``date``/``time`` and no offset (this emulator scans in UTC). Prices are a deterministic function of the
billed weight. Labels come back as the GIF or PNG image ``LabelImageFormat`` asks for.
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

__all__ = ["UpsEmulator"]

# service code -> (description, base, per lb, business days in transit)
_SERVICES: dict[str, tuple[str, Decimal, Decimal, int]] = {
    "03": ("UPS Ground", Decimal("9.50"), Decimal("1.10"), 4),
    "02": ("UPS 2nd Day Air", Decimal("18.20"), Decimal("2.30"), 2),
    "01": ("UPS Next Day Air", Decimal("31.40"), Decimal("3.90"), 1),
}
_FUEL = Decimal("0.12")
# 1x1 images: UPS returns labels as base64 GIF or PNG, as LabelImageFormat asks (karrio converts them to PDF).
_LABEL_IMAGES = {
    "GIF": "R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7",
    "PNG": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
}
_CENT = Decimal("0.01")


def _money(value: Decimal) -> str:
    return str(value.quantize(_CENT, rounding=ROUND_HALF_UP))


class UpsEmulator(CarrierEmulator):
    """UPS for one shipper account (``account_number`` is the 6-character shipper number)."""

    service = "ups"
    token_lifetime_seconds = 14399
    steps = (
        ScanStep("M", "Shipper created a label, UPS has not received the package yet.", "MP"),
        ScanStep("P", "Pickup Scan", "PU"),
        ScanStep("I", "Departed from Facility", "DP"),
        ScanStep("O", "Out For Delivery Today", "OT"),
        ScanStep("D", "DELIVERED", "FS"),
    )

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/security/v1/oauth/token", self.api("token", self._token), methods=["POST"]),
            Route("/api/rating/{version}/{option}", self.api("rate", self._rate), methods=["POST"]),
            Route("/api/shipments/{version}/ship", self.api("ship", self._ship, write=True), methods=["POST"]),
            Route("/api/track/v1/details/{number}", self.api("track", self._track), methods=["GET"]),
        ]

    def error_response(self, status: int, code: str, message: str) -> Response:
        return JSONResponse({"response": {"errors": [{"code": code, "message": message}]}}, status_code=status)

    def injected_error(self, status: int) -> tuple[str, str]:
        known = {
            400: ("120100", "Missing or invalid shipper number"),
            401: self.unauthorized(),
            403: ("250003", "Invalid Access License for the requested API"),
            404: ("TW0001", "Tracking Information Not Found"),
            429: ("10429", "Too Many Requests"),
        }
        return known.get(status, (f"{status}", "The service is temporarily unavailable. Please try again later."))

    def unauthorized(self) -> tuple[str, str]:
        return "250002", "Invalid Authentication Information."

    # -- endpoints -------------------------------------------------------------------------------------------------

    async def _token(self, request: Request, body: bytes) -> Response:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            client_id, secret = "", ""
        if scheme.lower() != "basic" or (client_id, secret) != (self.client_id, self.client_secret):
            raise VendorError(401, "10401", "ClientId is Invalid")
        if b"grant_type=client_credentials" not in body:
            raise VendorError(400, "10400", "Invalid/Missing grant_type")
        token = self.issue_token()
        issued = int(self.clock().timestamp() * 1000)
        return JSONResponse(
            {
                "token_type": "Bearer",
                "issued_at": str(issued),
                "client_id": self.client_id,
                "access_token": token,
                "expires_in": str(self.token_lifetime_seconds),
                "status": "approved",
            }
        )

    def _weight_lbs(self, shipment: dict[str, Any]) -> Decimal:
        packages = shipment.get("Package") or []
        packages = packages if isinstance(packages, list) else [packages]
        if not packages:
            raise VendorError(400, "111035", "Missing or invalid package weight.")
        total = Decimal(0)
        for package in packages:
            weight = (package.get("PackageWeight") or {}).get("Weight")
            try:
                total += Decimal(str(weight))
            except ArithmeticError as exc:
                raise VendorError(400, "111035", "Missing or invalid package weight.") from exc
        return max(total, Decimal(1))

    def _check_shipper(self, shipment: dict[str, Any]) -> None:
        shipper = shipment.get("Shipper") or {}
        if shipper.get("ShipperNumber") != self.account_number:
            raise VendorError(400, "120100", "Missing or invalid shipper number")
        for party in ("Shipper", "ShipTo"):
            address = (shipment.get(party) or {}).get("Address") or {}
            if not address.get("CountryCode") or not address.get("PostalCode"):
                raise VendorError(400, "120201", f"Missing or invalid {party} postal code or country code.")

    def _price(self, code: str, weight: Decimal) -> tuple[Decimal, Decimal]:
        _, base, per_lb, _ = _SERVICES[code]
        transport = (base + per_lb * weight).quantize(_CENT, rounding=ROUND_HALF_UP)
        return transport, (transport * _FUEL).quantize(_CENT, rounding=ROUND_HALF_UP)

    def _rated(self, code: str, weight: Decimal) -> dict[str, Any]:
        description, _, _, days = _SERVICES[code]
        transport, fuel = self._price(code, weight)

        def charge(value: Decimal) -> dict[str, str]:
            return {"CurrencyCode": "USD", "MonetaryValue": _money(value)}

        return {
            "Service": {"Code": code, "Description": ""},
            "BillingWeight": {"UnitOfMeasurement": {"Code": "LBS", "Description": "Pounds"}, "Weight": str(weight)},
            "TransportationCharges": charge(transport),
            "BaseServiceCharge": charge(transport),
            "ItemizedCharges": [{"Code": "375", **charge(fuel)}],
            "ServiceOptionsCharges": charge(Decimal(0)),
            "TotalCharges": charge(transport + fuel),
            "RatedPackage": [{"Weight": str(weight), "TransportationCharges": charge(transport)}],
            "TimeInTransit": {
                "PickupDate": self.clock().strftime("%Y%m%d"),
                "ServiceSummary": {
                    "Service": {"Description": description},
                    "EstimatedArrival": {
                        "BusinessDaysInTransit": str(days),
                        "DayOfWeek": "",
                        "TotalTransitDays": str(days),
                    },
                    "SaturdayDelivery": "0",
                },
            },
        }

    async def _rate(self, request: Request, body: bytes) -> Response:
        self.check_bearer(request)
        payload = self.json_body(body).get("RateRequest") or {}
        shipment = payload.get("Shipment") or {}
        self._check_shipper(shipment)
        weight = self._weight_lbs(shipment)
        option = request.path_params["option"].lower()
        if option == "shop":
            codes = list(_SERVICES)
        else:
            code = str((shipment.get("Service") or {}).get("Code") or "")
            if code not in _SERVICES:
                raise VendorError(400, "111210", "The requested service is unavailable between the selected locations.")
            codes = [code]
        return JSONResponse(
            {
                "RateResponse": {
                    "Response": {
                        "ResponseStatus": {"Code": "1", "Description": "Success"},
                        "TransactionReference": (payload.get("Request") or {}).get("TransactionReference") or {},
                    },
                    "RatedShipment": [self._rated(code, weight) for code in codes],
                }
            }
        )

    async def _ship(self, request: Request, body: bytes) -> Response:
        self.check_bearer(request)
        payload = self.json_body(body).get("ShipmentRequest") or {}
        shipment = payload.get("Shipment") or {}
        self._check_shipper(shipment)
        code = str((shipment.get("Service") or {}).get("Code") or "")
        if code not in _SERVICES:
            raise VendorError(400, "120412", "The requested service is invalid.")
        weight = self._weight_lbs(shipment)
        transport, fuel = self._price(code, weight)
        label_spec = (payload.get("LabelSpecification") or {}).get("LabelImageFormat") or {}
        image_format = "PNG" if str(label_spec.get("Code", "GIF")).upper() == "PNG" else "GIF"
        number = f"1Z{self.account_number}{code}{self.next_id():08d}"
        context = ((payload.get("Request") or {}).get("TransactionReference") or {}).get("CustomerContext")
        reference = str(context or "")
        ship_to = (shipment.get("ShipTo") or {}).get("Address") or {}
        parcel = EmulatedParcel(
            tracking_number=number,
            reference=reference,
            service=code,
            amount=transport + fuel,
            currency="USD",
            destination_city=str(ship_to.get("City") or ""),
            destination_postal_code=str(ship_to.get("PostalCode") or ""),
            destination_country=str(ship_to.get("CountryCode") or ""),
        )
        self.parcels[number] = parcel
        self.labels_by_reference[reference] += 1
        self.advance(number)

        def charge(value: Decimal) -> dict[str, str]:
            return {"CurrencyCode": "USD", "MonetaryValue": _money(value)}

        return JSONResponse(
            {
                "ShipmentResponse": {
                    "Response": {"ResponseStatus": {"Code": "1", "Description": "Success"}},
                    "ShipmentResults": {
                        "ShipmentCharges": {
                            "TransportationCharges": charge(transport),
                            "ItemizedCharges": [{"Code": "375", **charge(fuel)}],
                            "ServiceOptionsCharges": charge(Decimal(0)),
                            "TotalCharges": charge(transport + fuel),
                        },
                        "BillingWeight": {
                            "UnitOfMeasurement": {"Code": "LBS", "Description": "Pounds"},
                            "Weight": str(weight),
                        },
                        "ShipmentIdentificationNumber": number,
                        "PackageResults": [
                            {
                                "TrackingNumber": number,
                                "ServiceOptionsCharges": charge(Decimal(0)),
                                "ShippingLabel": {
                                    "ImageFormat": {"Code": image_format, "Description": image_format},
                                    "GraphicImage": _LABEL_IMAGES[image_format],
                                },
                            }
                        ],
                    },
                }
            }
        )

    async def _track(self, request: Request, body: bytes) -> Response:
        self.check_bearer(request)
        if not request.headers.get("transid") or not request.headers.get("transactionsrc"):
            raise VendorError(400, "TV0002", "Missing transId or transactionSrc header.")
        number = request.path_params["number"]
        parcel = self.parcels.get(number)
        if parcel is None:
            raise VendorError(404, "TW0001", "Tracking Information Not Found")
        activity = []
        for step, when in reversed(parcel.scans):
            utc = when.astimezone(UTC)
            activity.append(
                {
                    "location": {
                        "address": {
                            "city": parcel.destination_city,
                            "postalCode": parcel.destination_postal_code,
                            "country": parcel.destination_country,
                        }
                    },
                    "status": {
                        "type": step.code,
                        "description": step.description,
                        "code": step.detail_code,
                        "statusCode": "003",
                    },
                    "date": utc.strftime("%Y%m%d"),
                    "time": utc.strftime("%H%M%S"),
                }
            )
        return JSONResponse(
            {
                "trackResponse": {
                    "shipment": [
                        {
                            "inquiryNumber": number,
                            "package": [
                                {
                                    "trackingNumber": number,
                                    "deliveryDate": [],
                                    "activity": activity,
                                    "packageAddress": [],
                                    "service": {"code": parcel.service, "description": _SERVICES[parcel.service][0]},
                                    "currentStatus": activity[0]["status"],
                                }
                            ],
                        }
                    ]
                }
            }
        )
