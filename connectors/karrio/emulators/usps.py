"""A local USPS (the v3 REST APIs at apis.usps.com): OAuth, payment authorization, shipping options, labels and
tracking, as karrio calls them.

USPS quirks kept: the token endpoint takes ``client_id``/``client_secret``/``scope`` in a form body; buying a
label needs a second token, the ``paymentAuthorizationToken`` from ``/payments/v3/payment-authorization`` (roles
naming the CRID/MID and the EPS account), sent as ``X-Payment-Authorization-Token``; the label comes back as a
``multipart/form-data`` body (a ``labelMetadata`` JSON part and a base64 ``labelImage`` part); errors are
``{"apiVersion", "error": {"code", "message", "errors": [{"status", "code", "title", "detail"}]}}``; tracking
events are newest first with a local ``eventTimestamp`` and a ``GMTTimestamp``. Prices are a deterministic
function of the weight.
"""

from __future__ import annotations

import base64
import json
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.karrio.emulators.base import CarrierEmulator, EmulatedParcel, ScanStep, VendorError
from connectors.karrio.emulators.fedex import tiny_pdf

__all__ = ["UspsEmulator"]

# mailClass -> (productName, base, per lb, days)
_SERVICES: dict[str, tuple[str, Decimal, Decimal, int]] = {
    "USPS_GROUND_ADVANTAGE": ("USPS Ground Advantage", Decimal("7.35"), Decimal("0.95"), 4),
    "PRIORITY_MAIL": ("Priority Mail", Decimal("10.40"), Decimal("1.60"), 2),
    "PRIORITY_MAIL_EXPRESS": ("Priority Mail Express", Decimal("30.45"), Decimal("3.70"), 1),
}
_CENT = Decimal("0.01")
_LABEL_PDF = base64.b64encode(tiny_pdf()).decode()


class UspsEmulator(CarrierEmulator):
    """USPS for one EPS account (``account_number``); CRID and MID are not checked."""

    service = "usps"
    token_lifetime_seconds = 28799
    steps = (
        ScanStep("GX", "Shipping Label Created, USPS Awaiting Item"),
        ScanStep("03", "USPS picked up item"),
        ScanStep("10", "Departed USPS Regional Facility"),
        ScanStep("OF", "Out for Delivery"),
        ScanStep("01", "Delivered, In/At Mailbox"),
    )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.payment_tokens: set[str] = set()

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/oauth2/v3/token", self.api("token", self._token), methods=["POST"]),
            Route("/payments/v3/payment-authorization", self.api("payment", self._payment), methods=["POST"]),
            Route("/shipments/v3/options/search", self.api("rate", self._rate), methods=["POST"]),
            Route("/labels/v3/label", self.api("ship", self._label, write=True), methods=["POST"]),
            Route("/tracking/v3/tracking/{number}", self.api("track", self._track), methods=["GET"]),
        ]

    def error_response(self, status: int, code: str, message: str) -> Response:
        return JSONResponse(
            {
                "apiVersion": "v3",
                "error": {
                    "code": str(status),
                    "message": message,
                    "errors": [{"status": str(status), "code": code, "title": message, "detail": message}],
                },
            },
            status_code=status,
        )

    def injected_error(self, status: int) -> tuple[str, str]:
        known = {
            400: ("010001", "Invalid request: the package weight is invalid."),
            401: self.unauthorized(),
            403: ("403", "Forbidden: the token does not grant this API."),
            429: ("429", "Too Many Requests: exceeded the quota of API calls per hour."),
        }
        return known.get(status, (str(status), "Service Unavailable"))

    def unauthorized(self) -> tuple[str, str]:
        return "401", "Unauthorized: the access token is missing, invalid or expired."

    # -- endpoints -------------------------------------------------------------------------------------------------

    async def _token(self, request: Request, body: bytes) -> Response:
        form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
        if form.get("grant_type") != "client_credentials":
            raise VendorError(400, "unsupported_grant_type", "grant_type must be client_credentials")
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret):
            # The OAuth endpoint answers in RFC 6749's error shape, not the APIs' ``error.errors`` one.
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Client authentication failed."}, status_code=401
            )
        return JSONResponse(
            {
                "access_token": self.issue_token(),
                "token_type": "Bearer",
                "issued_at": int(self.clock().timestamp() * 1000),
                "expires_in": self.token_lifetime_seconds,
                "status": "approved",
                "scope": form.get("scope", ""),
                "issuer": "api.usps.com",
                "client_id": self.client_id,
            }
        )

    async def _payment(self, request: Request, body: bytes) -> Response:
        self.check_bearer(request)
        roles = self.json_body(body).get("roles") or []
        accounts = {str(role.get("accountNumber")) for role in roles if role.get("accountNumber")}
        if accounts != {self.account_number}:
            raise VendorError(400, "020001", "The payment account is not an EPS account of this application.")
        token = f"emu-usps-payment-{self.next_id()}"
        self.payment_tokens.add(token)
        return JSONResponse({"paymentAuthorizationToken": token})

    @staticmethod
    def _weight(payload: dict[str, Any]) -> Decimal:
        raw = payload.get("packageDescription", {}).get("weight", payload.get("weight"))
        try:
            weight = Decimal(str(raw))
        except ArithmeticError as exc:
            raise VendorError(400, "010001", "Invalid request: the package weight is invalid.") from exc
        if weight <= 0:
            raise VendorError(400, "010001", "Invalid request: the package weight is invalid.")
        return weight

    def _price(self, mail_class: str, weight: Decimal) -> Decimal:
        _, base, per_lb, _ = _SERVICES[mail_class]
        return (base + per_lb * max(weight, Decimal(1))).quantize(_CENT, rounding=ROUND_HALF_UP)

    async def _rate(self, request: Request, body: bytes) -> Response:
        self.check_bearer(request)
        payload = self.json_body(body)
        description = payload.get("packageDescription") or {}
        if not payload.get("originZIPCode") or not payload.get("destinationZIPCode"):
            raise VendorError(400, "010002", "originZIPCode and destinationZIPCode are required.")
        weight = self._weight(payload)
        asked = description.get("mailClass")
        classes = [asked] if asked in _SERVICES else list(_SERVICES)
        today = self.clock().date()
        options = []
        for mail_class in classes:
            name, _, _, days = _SERVICES[mail_class]
            price = self._price(mail_class, weight)
            delivery = today.fromordinal(today.toordinal() + days)
            options.append(
                {
                    "mailClass": mail_class,
                    "rateOptions": [
                        {
                            "commitment": {"name": f"{days} Days", "scheduleDeliveryDate": delivery.isoformat()},
                            "totalPrice": float(price),
                            "totalBasePrice": float(price),
                            "rates": [
                                {
                                    "SKU": f"D{mail_class[:3]}XXXXC00000",
                                    "description": name,
                                    "priceType": "COMMERCIAL",
                                    "price": float(price),
                                    "weight": float(weight),
                                    "mailClass": mail_class,
                                    "productName": name,
                                    "processingCategory": "MACHINABLE",
                                    "rateIndicator": "SP",
                                    "zone": "05",
                                }
                            ],
                            "extraServices": [],
                        }
                    ],
                }
            )
        return JSONResponse(
            {
                "originZIPCode": payload["originZIPCode"],
                "destinationZIPCode": payload["destinationZIPCode"],
                "pricingOptions": [{"priceType": "COMMERCIAL", "shippingOptions": options}],
            }
        )

    async def _label(self, request: Request, body: bytes) -> Response:
        self.check_bearer(request)
        if request.headers.get("x-payment-authorization-token") not in self.payment_tokens:
            raise VendorError(401, "401", "Unauthorized: the payment authorization token is missing or invalid.")
        payload = self.json_body(body)
        description = payload.get("packageDescription") or {}
        mail_class = str(description.get("mailClass") or "")
        if mail_class not in _SERVICES:
            raise VendorError(400, "010003", f"Invalid mailClass {mail_class!r}.")
        weight = self._weight(payload)
        to_address = payload.get("toAddress") or {}
        if not to_address.get("ZIPCode") or not (payload.get("fromAddress") or {}).get("ZIPCode"):
            raise VendorError(400, "010002", "fromAddress.ZIPCode and toAddress.ZIPCode are required.")
        price = self._price(mail_class, weight)
        number = f"9400100000000{self.next_id():09d}"
        reference = str((description.get("customerReference") or [{}])[0].get("referenceNumber") or "")
        self.parcels[number] = EmulatedParcel(
            tracking_number=number,
            reference=reference,
            service=mail_class,
            amount=price,
            currency="USD",
            destination_city=str(to_address.get("city") or ""),
            destination_postal_code=str(to_address.get("ZIPCode") or ""),
            destination_country="US",
        )
        self.labels_by_reference[reference] += 1
        self.advance(number)
        metadata: dict[str, Any] = {
            "labelAddress": to_address,
            "routingInformation": "420" + str(to_address.get("ZIPCode")),
            "trackingNumber": number,
            "postage": float(price),
            "extraServices": [],
            "zone": "05",
            "commitment": {"name": f"{_SERVICES[mail_class][3]} Days"},
            "weightUOM": "lb",
            "weight": float(weight),
            "fees": [],
            "SKU": f"D{mail_class[:3]}XXXXC00000",
        }
        boundary = uuid.uuid4().hex
        parts = [
            ("labelMetadata", "application/json", None, json.dumps(metadata)),
            ("labelImage", "application/pdf", "labelImage.pdf", _LABEL_PDF),
        ]
        chunks = []
        for name, content_type, filename, content in parts:
            disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
            headers = f"Content-Disposition: {disposition}\r\nContent-Type: {content_type}"
            chunks.append(f"--{boundary}\r\n{headers}\r\n\r\n{content}\r\n")
        chunks.append(f"--{boundary}--\r\n")
        return Response("".join(chunks), media_type=f"multipart/form-data; boundary={boundary}")

    async def _track(self, request: Request, body: bytes) -> Response:
        self.check_bearer(request)
        number = request.path_params["number"]
        parcel = self.parcels.get(number)
        if parcel is None:
            raise VendorError(404, "404", f"The tracking number {number} could not be found.")
        events = [
            {
                "eventType": step.description,
                "eventTimestamp": when.strftime("%Y-%m-%dT%H:%M:%S"),
                "GMTTimestamp": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "GMTOffset": "+00:00",
                "eventCountry": parcel.destination_country,
                "eventCity": parcel.destination_city,
                "eventState": "",
                "eventZIP": parcel.destination_postal_code,
                "eventCode": step.code,
            }
            for step, when in reversed(parcel.scans)
        ]
        latest = parcel.scans[-1][0]
        return JSONResponse(
            {
                "trackingNumber": number,
                "mailClass": parcel.service,
                "destinationZIP": parcel.destination_postal_code,
                "status": latest.description,
                "statusCategory": latest.description,
                "trackingEvents": events,
            }
        )
