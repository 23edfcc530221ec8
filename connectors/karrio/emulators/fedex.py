"""A local FedEx: OAuth client credentials, Rate Quotes, Ship and Track (REST APIs), as karrio calls them.

Shapes follow FedEx's REST APIs (``/rate/v1/rates/quotes``, ``/ship/v1/shipments``, ``/track/v1/trackingnumbers``)
as karrio's FedEx package reads them. FedEx quirks kept: the token endpoint takes ``client_id``/``client_secret``
in a form body; every response carries a ``transactionId``; errors are ``{"transactionId", "errors": [{"code",
"message"}]}`` with dotted codes (``NOT.AUTHORIZED.ERROR``, ``SERVICE.UNAVAILABLE.ERROR``); an unknown tracking
number is *not* an HTTP error but a ``trackResults[].error`` inside a 200; scan times carry their UTC offset.
Prices are a deterministic function of the package weight.
"""

from __future__ import annotations

import base64
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.karrio.emulators.base import CarrierEmulator, EmulatedParcel, ScanStep, VendorError

__all__ = ["FedexEmulator", "tiny_pdf"]

# serviceType -> (name, base, per lb, days to commit)
_SERVICES: dict[str, tuple[str, Decimal, Decimal, int]] = {
    "FEDEX_GROUND": ("FedEx Ground", Decimal("10.10"), Decimal("1.05"), 4),
    "FEDEX_2_DAY": ("FedEx 2Day", Decimal("19.75"), Decimal("2.40"), 2),
    "STANDARD_OVERNIGHT": ("FedEx Standard Overnight", Decimal("33.80"), Decimal("4.10"), 1),
}
_FUEL = Decimal("0.15")
_CENT = Decimal("0.01")


def tiny_pdf() -> bytes:
    """A valid one-page PDF (karrio merges FedEx's PDF labels with PyPDF2, which needs a real cross-reference)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


_LABEL_PDF = base64.b64encode(tiny_pdf()).decode()


class FedexEmulator(CarrierEmulator):
    """FedEx for one account (``account_number`` is the 9-digit FedEx account)."""

    service = "fedex"
    token_lifetime_seconds = 3599
    steps = (
        ScanStep("OC", "Shipment information sent to FedEx"),
        ScanStep("PU", "Picked up"),
        ScanStep("IT", "In transit"),
        ScanStep("OD", "On FedEx vehicle for delivery"),
        ScanStep("DL", "Delivered"),
    )

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/oauth/token", self.api("token", self._token), methods=["POST"]),
            Route("/rate/v1/rates/quotes", self.api("rate", self._rate), methods=["POST"]),
            Route("/ship/v1/shipments", self.api("ship", self._ship, write=True), methods=["POST"]),
            Route("/track/v1/trackingnumbers", self.api("track", self._track), methods=["POST"]),
            Route("/track/v1/trackingdocuments", self.api("track_documents", self._documents), methods=["POST"]),
        ]

    def error_response(self, status: int, code: str, message: str) -> Response:
        return JSONResponse(
            {"transactionId": str(uuid.uuid4()), "errors": [{"code": code, "message": message}]}, status_code=status
        )

    def injected_error(self, status: int) -> tuple[str, str]:
        if status == 400:
            return "SERVICE.TYPE.INVALID", "Invalid service type. Please update and try again."
        if status in (401, 403):
            return "NOT.AUTHORIZED.ERROR", "Access token expired. Please modify your request and try again."
        if status == 429:
            return "TOO.MANY.REQUESTS.ERROR", "We have received too many requests in a short duration."
        if status == 503:
            return (
                "SERVICE.UNAVAILABLE.ERROR",
                "The service is currently unavailable and we are working to resolve the issue.",
            )
        return "INTERNAL.SERVER.ERROR", "We encountered an unexpected error and are working to resolve the issue."

    def unauthorized(self) -> tuple[str, str]:
        return "NOT.AUTHORIZED.ERROR", "Access token expired. Please modify your request and try again."

    # -- endpoints -------------------------------------------------------------------------------------------------

    async def _token(self, request: Request, body: bytes) -> Response:
        form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
        if form.get("grant_type") != "client_credentials":
            raise VendorError(400, "BAD.REQUEST.ERROR", "The given grant_type is not supported.")
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret):
            raise VendorError(
                401,
                "NOT.AUTHORIZED.ERROR",
                "The given client credentials were not valid. Please modify your request and try again.",
            )
        return JSONResponse(
            {
                "access_token": self.issue_token(),
                "token_type": "bearer",
                "expires_in": self.token_lifetime_seconds,
                "scope": "CXS-TP",
            }
        )

    def _shipment(self, payload: dict[str, Any]) -> tuple[dict[str, Any], Decimal]:
        if (payload.get("accountNumber") or {}).get("value") != self.account_number:
            raise VendorError(
                403, "FORBIDDEN.ERROR", "We could not authorize your credentials. Please check your permissions."
            )
        shipment = payload.get("requestedShipment") or {}
        # Rate Quotes names the consignee ``recipient``; Ship takes a list, ``recipients``.
        consignee = shipment.get("recipient") or shipment.get("recipients")
        for party, raw in (("shipper", shipment.get("shipper")), ("recipient", consignee)):
            entry = raw[0] if isinstance(raw, list) and raw else raw
            address = (entry or {}).get("address") or {}
            if not address.get("countryCode") or not address.get("postalCode"):
                raise VendorError(400, f"{party.upper()}.POSTALCODE.MISSING", f"The {party} postal code is missing.")
        total = Decimal(0)
        for item in shipment.get("requestedPackageLineItems") or []:
            weight = item.get("weight") or {}
            try:
                value = Decimal(str(weight.get("value")))
            except ArithmeticError as exc:
                raise VendorError(400, "WEIGHT.VALUE.INVALID", "The package weight is invalid.") from exc
            total += value * Decimal("2.20462") if str(weight.get("units")).upper() == "KG" else value
        if total <= 0:
            raise VendorError(400, "WEIGHT.VALUE.INVALID", "The package weight is invalid.")
        return shipment, max(total, Decimal(1))

    def _price(self, service: str, weight: Decimal) -> tuple[Decimal, Decimal]:
        _, base, per_lb, _ = _SERVICES[service]
        charge = (base + per_lb * weight).quantize(_CENT, rounding=ROUND_HALF_UP)
        return charge, (charge * _FUEL).quantize(_CENT, rounding=ROUND_HALF_UP)

    async def _rate(self, request: Request, body: bytes) -> Response:
        self.check_bearer(request)
        shipment, weight = self._shipment(self.json_body(body))
        asked = shipment.get("serviceType")
        services = [asked] if asked in _SERVICES else list(_SERVICES)
        today = self.clock().date()
        details = []
        for service in services:
            name, _, _, days = _SERVICES[service]
            base, fuel = self._price(service, weight)
            commit = today.fromordinal(today.toordinal() + days)
            details.append(
                {
                    "serviceType": service,
                    "serviceName": name,
                    "packagingType": "YOUR_PACKAGING",
                    "ratedShipmentDetails": [
                        {
                            "rateType": "ACCOUNT",
                            "ratedWeightMethod": "ACTUAL",
                            "totalDiscounts": 0.0,
                            "totalBaseCharge": float(base),
                            "totalNetCharge": float(base + fuel),
                            "totalNetFedExCharge": float(base + fuel),
                            "shipmentRateDetail": {
                                "rateZone": "05",
                                "totalSurcharges": float(fuel),
                                "surCharges": [
                                    {"type": "FUEL", "description": "Fuel Surcharge", "amount": float(fuel)}
                                ],
                                "currency": "USD",
                            },
                            "currency": "USD",
                        }
                    ],
                    "operationalDetail": {"commitDate": f"{commit.isoformat()}T23:59:00"},
                }
            )
        return JSONResponse(
            {
                "transactionId": str(uuid.uuid4()),
                "output": {"rateReplyDetails": details, "quoteDate": today.isoformat(), "encoded": False},
            }
        )

    async def _ship(self, request: Request, body: bytes) -> Response:
        self.check_bearer(request)
        payload = self.json_body(body)
        shipment, weight = self._shipment(payload)
        service = str(shipment.get("serviceType") or "")
        if service not in _SERVICES:
            raise VendorError(400, "SERVICE.TYPE.INVALID", "Invalid service type. Please update and try again.")
        base, fuel = self._price(service, weight)
        number = f"7949{self.next_id():08d}"
        items = shipment.get("requestedPackageLineItems") or [{}]
        references = items[0].get("customerReferences") or []
        reference = next((str(r.get("value")) for r in references if r.get("value")), "")
        recipient = shipment.get("recipients") or shipment.get("recipient") or {}
        recipient = recipient[0] if isinstance(recipient, list) and recipient else recipient
        address = (recipient or {}).get("address") or {}
        self.parcels[number] = EmulatedParcel(
            tracking_number=number,
            reference=reference,
            service=service,
            amount=base + fuel,
            currency="USD",
            destination_city=str(address.get("city") or ""),
            destination_postal_code=str(address.get("postalCode") or ""),
            destination_country=str(address.get("countryCode") or ""),
        )
        self.labels_by_reference[reference] += 1
        self.advance(number)
        return JSONResponse(
            {
                "transactionId": str(uuid.uuid4()),
                "output": {
                    "transactionShipments": [
                        {
                            "masterTrackingNumber": number,
                            "serviceType": service,
                            "serviceName": _SERVICES[service][0],
                            "shipDatestamp": self.clock().date().isoformat(),
                            "pieceResponses": [
                                {
                                    "masterTrackingNumber": number,
                                    "trackingNumber": number,
                                    "trackingIdType": "FEDEX",
                                    "serviceCategory": "GROUND" if service == "FEDEX_GROUND" else "EXPRESS",
                                    "packageDocuments": [
                                        {
                                            "contentType": "LABEL",
                                            "copiesToPrint": 1,
                                            "encodedLabel": _LABEL_PDF,
                                            "docType": "PDF",
                                        }
                                    ],
                                    "customerReferences": references,
                                }
                            ],
                            "completedShipmentDetail": {
                                "shipmentRating": {
                                    "actualRateType": "PAYOR_ACCOUNT_PACKAGE",
                                    "shipmentRateDetails": [
                                        {
                                            "rateType": "PAYOR_ACCOUNT_PACKAGE",
                                            "totalBaseCharge": float(base),
                                            "totalSurcharges": float(fuel),
                                            "totalNetCharge": float(base + fuel),
                                            "currency": "USD",
                                        }
                                    ],
                                }
                            },
                        }
                    ]
                },
            }
        )

    async def _track(self, request: Request, body: bytes) -> Response:
        self.check_bearer(request)
        infos = self.json_body(body).get("trackingInfo") or []
        results = []
        for info in infos:
            number = str((info.get("trackingNumberInfo") or {}).get("trackingNumber") or "")
            parcel = self.parcels.get(number)
            if parcel is None:
                track_result: dict[str, Any] = {
                    "trackingNumberInfo": {"trackingNumber": number, "trackingNumberUniqueId": "", "carrierCode": ""},
                    "error": {
                        "code": "TRACKING.TRACKINGNUMBER.NOTFOUND",
                        "message": "Tracking number cannot be found. Please correct the tracking number and try again.",
                    },
                }
            else:
                events = [
                    {
                        "date": when.isoformat(),
                        "eventType": step.code,
                        "eventDescription": step.description,
                        "exceptionCode": "",
                        "exceptionDescription": "",
                        "scanLocation": {
                            "city": parcel.destination_city,
                            "postalCode": parcel.destination_postal_code,
                            "countryCode": parcel.destination_country,
                            "residential": False,
                        },
                        "derivedStatusCode": step.code,
                        "derivedStatus": step.description,
                    }
                    for step, when in reversed(parcel.scans)
                ]
                latest = parcel.scans[-1][0]
                track_result = {
                    "trackingNumberInfo": {
                        "trackingNumber": number,
                        "trackingNumberUniqueId": f"12029~{number}~FDEG",
                        "carrierCode": "FDXG",
                    },
                    "latestStatusDetail": {
                        "code": latest.code,
                        "derivedCode": latest.code,
                        "statusByLocale": latest.description,
                        "description": latest.description,
                    },
                    "serviceDetail": {"type": parcel.service, "description": _SERVICES[parcel.service][0]},
                    "scanEvents": events,
                }
            results.append({"trackingNumber": number, "trackResults": [track_result]})
        return JSONResponse({"transactionId": str(uuid.uuid4()), "output": {"completeTrackResults": results}})

    async def _documents(self, request: Request, body: bytes) -> Response:
        # karrio asks for the proof of delivery without a bearer token; FedEx refuses that.
        self.check_bearer(request)
        raise VendorError(404, "TRACKING.DOCUMENTS.NOTFOUND", "No documents found for the tracking number.")
