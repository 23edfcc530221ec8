"""The Amazon emulator: seller state, LWA, the SP-API operations and the "S3" document URLs as one ASGI app."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import gzip
import json
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, quote

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.amazon.emulator.common import ApiError, invalid_input, new_uuid, not_found, query_list
from connectors.amazon.emulator.config import AmazonEmulatorConfig
from connectors.amazon.emulator.control import AmazonControl
from connectors.amazon.emulator.feeds import (
    FEED_TYPES,
    Document,
    FeedProcessor,
    Presigner,
    StoredFeed,
    report_bytes,
    s3_error,
)
from connectors.amazon.emulator.http_control import control_routes
from connectors.amazon.emulator.listings import Listing, apply_patches, incomplete_issue, issue, listing_view
from connectors.amazon.emulator.notifications import (
    NOTIFICATION_ID_HEADER,
    feed_processing_finished,
    forwarder_signer,
    mfn_quantity_change,
    order_change,
)
from connectors.amazon.emulator.orders import DEFAULT_SHIPPING_ADDRESS, OrderBook, StoredOrder
from connectors.amazon.emulator.pickup import ORDER_STATUS_AFTER, check_shipment_status
from connectors.amazon.emulator.ratelimit import OperationBuckets
from connectors.amazon.emulator.reports import ReportBook
from connectors.amazon.emulator.search import ListingSearch
from connectors.amazon.emulator.shipments import apply_confirmation, order_2026
from connectors.amazon.emulator.subscriptions import GRANTLESS_OPERATIONS, Subscriptions
from connectors.amazon.emulator.tokens import RestrictedTokens
from omnibridge.sdk.emulator import EmulatorKnobs, RequestRecorder, WebhookKnobs, WebhookSender

__all__ = ["AmazonEmulator"]

_Handler = Callable[[Request, bytes], tuple[int, dict[str, Any]]]
_LWA_SCOPES = ("sellingpartnerapi::notifications", "sellingpartnerapi::client_credential:rotation")
_DENIED = "Access to requested resource is denied."
_INJECTED = {
    400: ("InvalidInput", "Invalid input."),
    403: ("Unauthorized", _DENIED),
    404: ("NotFound", "Resource not found."),
    429: ("QuotaExceeded", "You exceeded your quota for the requested resource."),
    500: ("InternalFailure", "We encountered an internal error. Please try again."),
    503: ("ServiceUnavailable", "Service temporarily unavailable. Please try again."),
}


@dataclass
class _Token:
    expires: datetime
    grantless: bool


async def _not_found(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods answer in the SP-API error shape, not Starlette's plain text."""
    body = {"errors": [{"code": "NotFound", "message": f"No operation {request.method} {request.url.path}."}]}
    return JSONResponse(body, status_code=404)


def _raw_path(request: Request) -> str:
    """The path as sent, still percent-encoded (``/items/S/A%2FB``): the decoded one would split a SKU holding
    ``/`` into two segments and no longer match the models' path templates."""
    raw = request.scope.get("raw_path")
    if isinstance(raw, bytes) and raw:
        return raw.decode("latin-1").split("?", 1)[0]
    return quote(request.url.path, safe="/")


class AmazonEmulator:
    """A local fake of one selling partner on the SP-API (see the package docstring for the full contract).

    ``clock`` returns aware UTC wall time (order dates, token and URL expiry, feed processing); ``monotonic``
    drives the per-operation rate-limit buckets. ``webhook_transport`` lets tests deliver notifications to an
    in-process ASGI receiver. State is in memory; one instance is one seller in one marketplace.
    """

    def __init__(
        self,
        config: AmazonEmulatorConfig | None = None,
        clock: Callable[[], datetime] | None = None,
        *,
        monotonic: Callable[[], float] | None = None,
        webhook_transport: httpx.AsyncBaseTransport | None = None,
        webhook_knobs: WebhookKnobs | None = None,
        recorder: RequestRecorder | None = None,
    ) -> None:
        self.config = cfg = config or AmazonEmulatorConfig()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.monotonic = monotonic or time.monotonic
        self.knobs = EmulatorKnobs(latency_ms=cfg.latency_ms, error_rate=cfg.error_rate, seed=cfg.seed)
        self.rng = self.knobs.random()
        self.recorder = recorder or RequestRecorder.from_env("amazon")
        self.webhooks = WebhookSender(
            "amazon",
            sign=forwarder_signer(cfg.forwarder_secret),
            url=cfg.notification_url,
            knobs=webhook_knobs,
            transport=webhook_transport,
            clock=self.clock,
        )
        self.buckets = OperationBuckets(cfg.rate_scale, cfg.rate_limits)
        self.calls: Counter[str] = Counter()
        self.refused = 0
        self.api_requests = 0
        self.injected: list[int] = []
        self.lose_next = 0
        self.tokens: dict[str, _Token] = {}
        self.restricted = RestrictedTokens()
        self.listings: dict[str, Listing] = {}
        self.search = ListingSearch(self.listings)
        self.orders = OrderBook(cfg.marketplace_id, cfg.currency, self.clock, self.rng)
        self.documents: dict[str, Document] = {}
        self.feeds: dict[str, StoredFeed] = {}
        self.reports = ReportBook(
            cfg.marketplace_id, self.clock, lambda: str(self.rng.randrange(50_000_000_000, 59_999_999_999))
        )
        self.notifications: list[dict[str, Any]] = []
        self.presigner = Presigner(secrets.token_bytes(32), cfg.upload_url_ttl_s)
        self.processor = FeedProcessor(cfg.seller_id, self.listings, self.new_listing)
        self._pending: list[tuple[datetime, Callable[[], object]]] = []
        self.subscriptions = Subscriptions(lambda: new_uuid(self.rng))
        self._subscription_ids = self.subscriptions.subscription_ids
        self.control = AmazonControl(self)
        self.app = Starlette(routes=self._routes(), exception_handlers={404: _not_found, 405: _not_found})

    # -- state helpers (used by the control back door and the handlers) ----------------------------------------

    def now(self) -> datetime:
        return self.clock()

    def _defer(self, apply: Callable[[], object]) -> datetime:
        """Run ``apply`` (an accepted listings change) ``listing_delay_s`` from now; returns when."""
        due = self.now() + timedelta(seconds=self.config.listing_delay_s)
        self._pending.append((due, apply))
        return due

    def settle_listings(self) -> None:
        """Make the accepted listings changes whose ``listing_delay_s`` has passed visible, oldest first."""
        now = self.now()
        due = [apply for at, apply in self._pending if at <= now]
        self._pending = [(at, apply) for at, apply in self._pending if at > now]
        for apply in due:
            apply()

    def new_listing(self, sku: str, product_type: str = "PRODUCT") -> Listing:
        """A listing object for ``sku`` (not stored; the caller stores it)."""
        asin = "B0" + "".join(self.rng.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(8))
        now = self.now()
        return Listing(sku, product_type, asin, now, now)

    def issue_token(self, *, grantless: bool = False) -> str:
        """A fresh LWA access token valid for ``token_lifetime_s``."""
        token = "Atza|" + secrets.token_urlsafe(48)
        self.tokens[token] = _Token(self.now() + timedelta(seconds=self.config.token_lifetime_s), grantless)
        return token

    def create_order(
        self,
        lines: list[tuple[str, int, Decimal | None]],
        status: str,
        address: Mapping[str, Any] | None = DEFAULT_SHIPPING_ADDRESS,
        pickup_source: str | None = None,
    ) -> StoredOrder:
        """Place an order for existing listings; the quantities leave the DEFAULT fulfillment_availability.
        Sends ORDER_CHANGE, then LISTINGS_ITEM_MFN_QUANTITY_CHANGE per SKU whose quantity changed.
        ``pickup_source``: an in-store pickup order collected at that supply source."""
        self.settle_listings()
        resolved: list[tuple[str, int, Decimal]] = []
        for sku, quantity, price in lines:
            listing = self.listings.get(sku)
            if listing is None:
                raise KeyError(f"unknown SKU {sku!r}: seed the listing first")
            if quantity < 1:
                raise ValueError(f"quantity must be >= 1, got {quantity}")
            unit = price if price is not None else Decimal(listing.price or "10.00")
            resolved.append((sku, quantity, unit))
        stored = self.orders.create(resolved, status, address, pickup_source)
        before = {sku: self.listings[sku].quantity for sku, _, _ in resolved}
        for item in stored.items:
            stored_listing = self.listings[item["SellerSKU"]]
            stored_listing.set_quantity(max(0, (stored_listing.quantity or 0) - int(item["QuantityOrdered"])))
            item["Title"] = stored_listing.title or item["SellerSKU"]
            item["ASIN"] = stored_listing.asin
        self._notify_order(stored, f"Order placed ({status})")
        self._notify_quantities(before)
        return stored

    def set_order_status(self, order_id: str, status: str) -> StoredOrder:
        """Move an order on; cancelling an order that had not shipped puts its quantities back."""
        self.settle_listings()
        before = self.orders.get(order_id).status
        stored = self.orders.set_status(order_id, status)
        quantities: dict[str, int | None] = {}
        if status == "Canceled" and before not in ("Canceled", "Shipped", "PartiallyShipped"):
            for item in stored.items:
                listing = self.listings.get(item["SellerSKU"])
                if listing is not None:
                    quantities.setdefault(listing.sku, listing.quantity)
                    listing.set_quantity((listing.quantity or 0) + int(item["QuantityOrdered"]))
        if before != status:
            self._notify_order(stored, f"Order status changed to {status}")
        self._notify_quantities(quantities)
        return stored

    def advance_feeds(self, *, force: bool = False) -> None:
        """Move feeds along the clock (IN_QUEUE → IN_PROGRESS → DONE/FATAL); ``force`` finishes all now."""
        now = self.now()
        delay = timedelta(seconds=self.config.feed_processing_s)
        for feed in self.feeds.values():
            if feed.status not in ("IN_QUEUE", "IN_PROGRESS"):
                continue
            if feed.status == "IN_QUEUE" and (force or now >= feed.created + delay / 2):
                feed.status, feed.started = "IN_PROGRESS", min(now, feed.created + delay / 2)
            if feed.status == "IN_PROGRESS" and (force or now >= feed.created + delay):
                self._finish(feed, max(feed.started or now, min(now, feed.created + delay)))

    def _finish(self, feed: StoredFeed, at: datetime) -> None:
        if self.config.listing_delay_s > 0:
            # Amazon reports the feed DONE, then shows its listing changes some minutes later.
            scratch = FeedProcessor(self.config.seller_id, copy.deepcopy(self.listings), self.new_listing)
            status, report = scratch.run(feed.feed_id, feed.body, at)
            if status == "DONE":
                self._defer(lambda: self.processor.run(feed.feed_id, feed.body, self.now()))
        else:
            status, report = self.processor.run(feed.feed_id, feed.body, at)
        compression = self.config.report_compression
        document = Document(self._document_id(), "application/json", at, "result", report_bytes(report, compression))
        document.compression = compression
        self.documents[document.document_id] = document
        feed.status, feed.ended, feed.report, feed.result_document_id = status, at, report, document.document_id
        notification_id = new_uuid(self.rng)
        body = feed_processing_finished(
            seller_id=self.config.seller_id,
            feed=feed.to_json(),
            now=at,
            notification_id=notification_id,
            application_id=self.config.application_id,
            subscription_id=self._subscription_ids["FEED_PROCESSING_FINISHED"],
        )
        self._publish("FEED_PROCESSING_FINISHED", body, notification_id)

    def _notify_order(self, stored: StoredOrder, reason: str) -> None:
        notification_id = new_uuid(self.rng)
        body = order_change(
            seller_id=self.config.seller_id,
            order=stored.order,
            items=stored.items,
            now=self.now(),
            notification_id=notification_id,
            application_id=self.config.application_id,
            subscription_id=self._subscription_ids["ORDER_CHANGE"],
            reason=reason,
        )
        self._publish("ORDER_CHANGE", body, notification_id)

    def _notify_quantities(self, before: dict[str, int | None]) -> None:
        """LISTINGS_ITEM_MFN_QUANTITY_CHANGE for each SKU whose DEFAULT quantity differs from ``before``."""
        if not self.config.mfn_quantity_notifications:
            return
        for sku, quantity in before.items():
            listing = self.listings.get(sku)
            if listing is None or listing.quantity is None or listing.quantity == quantity:
                continue
            notification_id = new_uuid(self.rng)
            body = mfn_quantity_change(
                seller_id=self.config.seller_id,
                sku=sku,
                quantity=listing.quantity,
                now=self.now(),
                notification_id=notification_id,
                application_id=self.config.application_id,
                subscription_id=self._subscription_ids["LISTINGS_ITEM_MFN_QUANTITY_CHANGE"],
            )
            self._publish("LISTINGS_ITEM_MFN_QUANTITY_CHANGE", body, notification_id)

    def _publish(self, kind: str, body: dict[str, Any], notification_id: str) -> None:
        self.notifications.append(body)
        if self.webhooks.url:
            headers = {"content-type": "application/json", NOTIFICATION_ID_HEADER: notification_id}
            self.webhooks.send(kind, body, headers, delivery_id=notification_id, event_id=notification_id)

    def _document_id(self) -> str:
        return f"amzn1.tortuga.4.na.{new_uuid(self.rng)}.T{self.rng.randrange(16**12):012X}"

    def _base_url(self, request: Request) -> str:
        return (self.config.public_url or str(request.base_url)).rstrip("/")

    # -- HTTP: plumbing ----------------------------------------------------------------------------------------

    def _routes(self) -> list[BaseRoute]:
        api: list[tuple[str, str, str, _Handler, bool]] = [
            ("GET", "/orders/v0/orders", "getOrders", self._get_orders, False),
            ("GET", "/orders/v0/orders/{orderId}", "getOrder", self._get_order, False),
            ("GET", "/orders/v0/orders/{orderId}/orderItems", "getOrderItems", self._get_order_items, False),
            ("GET", "/orders/v0/orders/{orderId}/address", "getOrderAddress", self._get_order_address, False),
            (
                "POST",
                "/orders/v0/orders/{orderId}/shipmentConfirmation",
                "confirmShipment",
                self._confirm_shipment,
                True,
            ),
            ("POST", "/orders/v0/orders/{orderId}/shipment", "updateShipmentStatus", self._update_shipment, True),
            ("GET", "/orders/2026-01-01/orders/{orderId}", "getOrder2026", self._get_order_2026, False),
            ("POST", "/tokens/2021-03-01/restrictedDataToken", "createRestrictedDataToken", self._create_rdt, True),
            ("GET", "/listings/2021-08-01/items/{sellerId}", "searchListingsItems", self._search_listings, False),
            ("GET", "/listings/2021-08-01/items/{sellerId}/{sku:path}", "getListingsItem", self._get_listing, False),
            (
                "PATCH",
                "/listings/2021-08-01/items/{sellerId}/{sku:path}",
                "patchListingsItem",
                self._patch_listing,
                True,
            ),
            ("POST", "/feeds/2021-06-30/documents", "createFeedDocument", self._create_document, True),
            ("GET", "/feeds/2021-06-30/documents/{feedDocumentId}", "getFeedDocument", self._get_document, False),
            ("POST", "/feeds/2021-06-30/feeds", "createFeed", self._create_feed, True),
            ("GET", "/feeds/2021-06-30/feeds/{feedId}", "getFeed", self._get_feed, False),
            ("POST", "/reports/2021-06-30/reports", "createReport", self._create_report, True),
            ("GET", "/notifications/v1/destinations", "getDestinations", self._get_destinations, False),
            ("POST", "/notifications/v1/destinations", "createDestination", self._create_destination, True),
            (
                "GET",
                "/notifications/v1/subscriptions/{notificationType}",
                "getSubscription",
                self._get_subscription,
                False,
            ),
            (
                "POST",
                "/notifications/v1/subscriptions/{notificationType}",
                "createSubscription",
                self._create_subscription,
                True,
            ),
            ("GET", "/reports/2021-06-30/reports/{reportId}", "getReport", self._get_report, False),
            (
                "GET",
                "/reports/2021-06-30/documents/{reportDocumentId}",
                "getReportDocument",
                self._get_report_document,
                False,
            ),
        ]
        by_path: dict[str, dict[str, Callable[[Request], Awaitable[Response]]]] = {}
        for method, path, operation, handler, write in api:
            by_path.setdefault(path, {})[method] = self._endpoint(operation, handler, write)
        routes: list[BaseRoute] = [
            Route(path, self._dispatch(methods), methods=list(methods)) for path, methods in by_path.items()
        ]
        routes.append(Route("/auth/o2/token", self._lwa, methods=["POST"]))
        routes.append(Route("/_s3/{documentId:path}", self._s3, methods=["PUT", "GET"]))
        return routes + control_routes(self)

    @staticmethod
    def _dispatch(
        methods: dict[str, Callable[[Request], Awaitable[Response]]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await methods[request.method](request)

        return endpoint

    def _record(self, request: Request, raw: bytes) -> None:
        self.recorder.record(request.method, _raw_path(request), request.url.query, request.headers, raw)

    def _endpoint(self, operation: str, handler: _Handler, write: bool) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            self._record(request, raw)
            self.api_requests += 1
            headers = {"x-amzn-RequestId": new_uuid(self.rng)}
            self.advance_feeds()
            self.settle_listings()
            try:
                self._authorize(request, grantless=operation in GRANTLESS_OPERATIONS)
                headers["x-amzn-RateLimit-Limit"] = self.buckets.advertised(operation)
                if not self.buckets.take(operation, self.monotonic()):
                    self.refused += 1
                    del headers["x-amzn-RateLimit-Limit"]  # Amazon's 429 carries only the request id
                    raise ApiError(429, "QuotaExceeded", _INJECTED[429][1])
                self.calls[operation] += 1
                await self.knobs.delay()
                if self.injected:
                    status = self.injected.pop(0)
                    if status == 429:
                        headers.pop("x-amzn-RateLimit-Limit", None)
                    code, message = _INJECTED.get(status, ("InvalidInput" if status < 500 else "InternalFailure", ""))
                    raise ApiError(status, code, message or f"Injected failure {status}.")
                if self.knobs.should_fail():
                    raise ApiError(503, *_INJECTED[503])
                status, body = handler(request, raw)
                if write and self.lose_next > 0:
                    self.lose_next -= 1  # applied, but the answer is lost on the way back
                    raise ApiError(503, *_INJECTED[503])
                if status == 204:
                    return Response(status_code=204, headers=headers)
                return JSONResponse(body, status_code=status, headers=headers)
            except ApiError as error:
                return JSONResponse(error.body(), status_code=error.status, headers=headers)

        return endpoint

    def _authorize(self, request: Request, *, grantless: bool = False) -> None:
        token = request.headers.get("x-amz-access-token", "")
        if self.restricted.is_restricted(token):
            if not self.restricted.allows(token, request.method, _raw_path(request), None, self.now()):
                raise ApiError(403, "Unauthorized", _DENIED, "The restricted data token does not cover this request.")
            return
        found = self.tokens.get(token)
        if found is None:
            raise ApiError(
                403, "Unauthorized", _DENIED, "The access token you provided is revoked, malformed or invalid."
            )
        if self.now() >= found.expires:
            raise ApiError(403, "Unauthorized", _DENIED, "The access token you provided has expired.")
        if found.grantless != grantless:
            if grantless:
                raise ApiError(403, "Unauthorized", _DENIED, "This grantless operation needs a grantless token.")
            raise ApiError(403, "Unauthorized", _DENIED, "A grantless token cannot call a selling partner operation.")

    @staticmethod
    def _json_body(raw: bytes) -> dict[str, Any]:
        try:
            parsed = json.loads(raw) if raw.strip() else None
        except ValueError:
            raise invalid_input("The request body is not valid JSON.", "body") from None
        if not isinstance(parsed, dict):
            raise invalid_input("The request body must be a JSON object.", "body")
        return parsed

    def _marketplace(self, request: Request, name: str) -> str:
        ids = query_list({k: request.query_params.getlist(k) for k in request.query_params}, name)
        if not ids:
            raise invalid_input(f"Missing required parameter '{name}'.", name)
        if self.config.marketplace_id not in ids:
            raise invalid_input(f"'{name}' must include the seller's marketplace {self.config.marketplace_id}.", name)
        return self.config.marketplace_id

    # -- LWA -------------------------------------------------------------------------------------------------

    async def _lwa(self, request: Request) -> Response:
        raw = await request.body()
        self._record(request, raw)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return self._lwa_error(
                400, "invalid_request", "The Content-Type must be application/x-www-form-urlencoded."
            )
        form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", errors="replace")).items()}
        grant = form.get("grant_type", "")
        if grant not in ("refresh_token", "client_credentials"):
            if not grant:
                return self._lwa_error(
                    400, "invalid_request", "The request is missing a required parameter : grant_type"
                )
            return self._lwa_error(400, "unsupported_grant_type", f"The grant type {grant!r} is not supported.")
        if form.get("client_id") != self.config.client_id or form.get("client_secret") != self.config.client_secret:
            return self._lwa_error(401, "invalid_client", "Client authentication failed")
        lifetime = self.config.token_lifetime_s
        if grant == "refresh_token":
            if not form.get("refresh_token"):
                return self._lwa_error(
                    400, "invalid_request", "The request is missing a required parameter : refresh_token"
                )
            if form["refresh_token"] != self.config.refresh_token:
                return self._lwa_error(
                    400, "invalid_grant", "The request has an invalid grant parameter : refresh_token"
                )
            body = {
                "access_token": self.issue_token(),
                "refresh_token": self.config.refresh_token,
                "token_type": "bearer",
                "expires_in": lifetime,
            }
            return JSONResponse(body)
        scope = form.get("scope", "")
        if scope not in _LWA_SCOPES:
            return self._lwa_error(400, "invalid_scope", f"The scope {scope!r} is not valid for this client.")
        token = self.issue_token(grantless=True)
        return JSONResponse({"access_token": token, "scope": scope, "token_type": "bearer", "expires_in": lifetime})

    @staticmethod
    def _lwa_error(status: int, error: str, description: str) -> Response:
        return JSONResponse({"error_description": description, "error": error}, status_code=status)

    # -- "S3" ------------------------------------------------------------------------------------------------

    async def _s3(self, request: Request) -> Response:
        raw = await request.body()
        self._record(request, raw)
        request_id = secrets.token_hex(8).upper()
        document_id = str(request.path_params["documentId"])
        document = self.documents.get(document_id)
        if document is None:
            body = s3_error("NoSuchKey", "The specified key does not exist.", request_id)
            return Response(body, status_code=404, media_type="application/xml")
        query = {k: v for k, v in request.query_params.items()}
        refused = self.presigner.check(
            request.method, document_id, query, request.headers.get("content-type", ""), self.now()
        )
        if refused is not None:
            status, code, message = refused
            return Response(s3_error(code, message, request_id), status_code=status, media_type="application/xml")
        if request.method == "GET":
            if document.body is None:
                body = s3_error("NoSuchKey", "The specified key does not exist.", request_id)
                return Response(body, status_code=404, media_type="application/xml")
            return Response(document.body, media_type=document.content_type)
        if document.kind != "input":
            body = s3_error("AccessDenied", "Access Denied", request_id)
            return Response(body, status_code=403, media_type="application/xml")
        document.body = raw
        etag = '"' + secrets.token_hex(16) + '"'
        return Response(b"", status_code=200, headers={"ETag": etag, "x-amz-request-id": request_id})

    # -- SP-API handlers ---------------------------------------------------------------------------------------

    @staticmethod
    def _params(request: Request) -> dict[str, list[str]]:
        return {key: request.query_params.getlist(key) for key in request.query_params}

    def _full_address(self, request: Request) -> bool:
        """Whether the request's token is an RDT opening this path's shippingAddress (else PII is withheld)."""
        token = request.headers.get("x-amz-access-token", "")
        return self.restricted.allows(token, request.method, _raw_path(request), "shippingAddress", self.now())

    def _get_orders(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        full = self._full_address(request)
        return 200, self.orders.get_orders(self._params(request), self.config.orders_lag_s, full)

    def _get_order(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        return 200, self.orders.get_order(request.path_params["orderId"], self._full_address(request))

    def _get_order_address(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        return 200, self.orders.get_order_address(request.path_params["orderId"], self._full_address(request))

    def _confirm_shipment(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        order_id = str(request.path_params["orderId"])
        stored = self.orders.orders.get(order_id)
        if stored is None:
            raise not_found(f"Order {order_id!r} was not found.")
        before = stored.status
        apply_confirmation(
            stored,
            self._json_body(raw),
            request.url.path,
            marketplace_id=self.config.marketplace_id,
            supply_sources=self.config.supply_source_ids,
            now=self.now(),
        )
        self._notify_order(stored, f"Shipment confirmed ({stored.status})" if before != stored.status else "Edited")
        return 204, {}

    def _update_shipment(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        order_id = str(request.path_params["orderId"])
        stored = self.orders.orders.get(order_id)
        if stored is None:
            raise not_found(f"Order {order_id!r} was not found.")
        status = check_shipment_status(stored, self._json_body(raw), self.config.marketplace_id)
        if status is not None:
            stored.pickup_status = status
            if status in ORDER_STATUS_AFTER:
                self.set_order_status(order_id, ORDER_STATUS_AFTER[status])
        return 204, {}

    def _get_order_2026(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        order_id = str(request.path_params["orderId"])
        stored = self.orders.orders.get(order_id)
        if stored is None:
            raise not_found(f"Order {order_id!r} was not found.")
        return 200, order_2026(stored, query_list(self._params(request), "includedData"))

    def _create_rdt(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        if self.restricted.is_restricted(request.headers.get("x-amz-access-token", "")):
            raise ApiError(403, "Unauthorized", _DENIED, "A restricted data token cannot create another one.")
        return 200, self.restricted.create(self._json_body(raw), self.now())

    def _get_order_items(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        return 200, self.orders.get_order_items(request.path_params["orderId"], self._params(request))

    def _seller(self, request: Request) -> None:
        if request.path_params["sellerId"] != self.config.seller_id:
            raise ApiError(403, "Unauthorized", _DENIED, "The sellerId does not match the authorized selling partner.")

    def _get_listing(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        self._seller(request)
        marketplace = self._marketplace(request, "marketplaceIds")
        sku = str(request.path_params["sku"])
        listing = self.listings.get(sku)
        if listing is None:
            raise not_found(f"SKU '{sku}' not found in marketplace {marketplace}")
        included = query_list(self._params(request), "includedData")
        return 200, listing_view(listing, marketplace, included)

    def _search_listings(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        self._seller(request)
        marketplace = self._marketplace(request, "marketplaceIds")
        return 200, self.search.search(self._params(request), marketplace)

    def _patch_listing(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        self._seller(request)
        self._marketplace(request, "marketplaceIds")
        body = self._json_body(raw)
        sku = str(request.path_params["sku"])
        patches = body.get("patches")
        if not isinstance(body.get("productType"), str) or not isinstance(patches, list) or not patches:
            raise invalid_input("The body needs 'productType' and a non-empty 'patches' array.", "body")
        submission = new_uuid(self.rng)
        listing = self.listings.get(sku)
        preview = request.query_params.get("mode") == "VALIDATION_PREVIEW"
        if listing is None and self.config.unknown_sku_patch == "ACCEPTED":
            return 200, {"sku": sku, "status": "ACCEPTED", "submissionId": submission, "issues": [incomplete_issue()]}
        if listing is None:
            problems = [
                issue("4000004", f"SKU '{sku}' does not exist for this seller; PATCH needs an existing listing.")
            ]
        else:
            target = listing if not preview else self.new_listing(sku, listing.product_type)
            if preview:
                target.attributes = dict(listing.attributes)
            delayed = not preview and self.config.listing_delay_s > 0
            if delayed:
                target = copy.deepcopy(listing)
            problems = apply_patches(target, patches)
            if not problems and delayed:
                self._defer(lambda: self._apply_later(sku, patches))
            elif not problems and not preview:
                listing.updated = self.now()
        status = "INVALID" if problems else ("VALID" if preview else "ACCEPTED")
        return 200, {"sku": sku, "status": status, "submissionId": submission, "issues": problems}

    def _apply_later(self, sku: str, patches: list[Any]) -> None:
        listing = self.listings.get(sku)
        if listing is not None and not apply_patches(listing, patches):
            listing.updated = self.now()

    def _create_document(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        body = self._json_body(raw)
        content_type = body.get("contentType")
        if not isinstance(content_type, str) or not content_type.strip():
            raise invalid_input("'contentType' is required.", "contentType")
        document = Document(self._document_id(), content_type, self.now())
        self.documents[document.document_id] = document
        url = self.presigner.url(self._base_url(request), "PUT", document, self.now())
        return 201, {"feedDocumentId": document.document_id, "url": url}

    def _get_document(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        document = self.documents.get(request.path_params["feedDocumentId"])
        if document is None:
            raise not_found(f"Feed document {request.path_params['feedDocumentId']!r} not found.")
        answer: dict[str, Any] = {
            "feedDocumentId": document.document_id,
            "url": self.presigner.url(self._base_url(request), "GET", document, self.now()),
        }
        if document.compression:
            answer["compressionAlgorithm"] = document.compression
        return 200, answer

    def _create_feed(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        body = self._json_body(raw)
        feed_type, marketplaces = body.get("feedType"), body.get("marketplaceIds")
        document_id = body.get("inputFeedDocumentId")
        if not isinstance(feed_type, str) or not feed_type:
            raise invalid_input("'feedType' is required.", "feedType")
        if feed_type not in FEED_TYPES:
            raise invalid_input(
                f"The emulator supports feedType {', '.join(FEED_TYPES)}, not {feed_type!r}.", "feedType"
            )
        if not isinstance(marketplaces, list) or not 1 <= len(marketplaces) <= 25:
            raise invalid_input("'marketplaceIds' must list 1 to 25 marketplaces.", "marketplaceIds")
        if self.config.marketplace_id not in marketplaces:
            raise invalid_input(f"'marketplaceIds' must include {self.config.marketplace_id}.", "marketplaceIds")
        document = self.documents.get(document_id) if isinstance(document_id, str) else None
        if document is None or document.kind != "input":
            raise invalid_input(f"'inputFeedDocumentId' {document_id!r} is not a feed document of yours.")
        feed_id = str(self.rng.randrange(50_000_000_000, 59_999_999_999))
        while feed_id in self.feeds:
            feed_id = str(self.rng.randrange(50_000_000_000, 59_999_999_999))
        options = body.get("feedOptions") if isinstance(body.get("feedOptions"), dict) else {}
        feed = StoredFeed(
            feed_id, feed_type, [str(m) for m in marketplaces], self.now(), document.document_id, document.body
        )
        feed.options = dict(options or {})
        self.feeds[feed_id] = feed
        self._schedule_processing()
        return 202, {"feedId": feed_id}

    def _schedule_processing(self) -> None:
        with contextlib.suppress(RuntimeError):
            loop = asyncio.get_running_loop()
            delay = self.config.feed_processing_s
            loop.call_later(delay / 2 + 0.01, self.advance_feeds)
            loop.call_later(delay + 0.01, self.advance_feeds)

    def _get_feed(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        feed = self.feeds.get(request.path_params["feedId"])
        if feed is None:
            raise not_found(f"Feed {request.path_params['feedId']!r} not found.")
        return 200, feed.to_json()

    def _get_destinations(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        return 200, {"payload": list(self.subscriptions.destinations.values())}

    def _create_destination(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        return 200, {"payload": self.subscriptions.create_destination(self._json_body(raw))}

    def _get_subscription(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        return 200, {"payload": self.subscriptions.get_subscription(str(request.path_params["notificationType"]))}

    def _create_subscription(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        kind = str(request.path_params["notificationType"])
        return 200, {"payload": self.subscriptions.create_subscription(kind, self._json_body(raw))}

    def _create_report(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        report = self.reports.create(self._json_body(raw))
        if report.document_id:
            compression = self.config.report_compression
            body = gzip.compress(report.document, mtime=0) if compression == "GZIP" else report.document
            document = Document(report.document_id, "text/tab-separated-values", report.created, "result", body)
            document.compression = compression
            self.documents[document.document_id] = document
        return 202, {"reportId": report.report_id}

    def _get_report(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        report = self.reports.get(str(request.path_params["reportId"]))
        return 200, report.view(self.now(), timedelta(seconds=self.config.report_processing_s))

    def _get_report_document(self, request: Request, raw: bytes) -> tuple[int, dict[str, Any]]:
        document_id = str(request.path_params["reportDocumentId"])
        document = self.documents.get(document_id)
        if document is None or not document_id.startswith("amzn1.spdoc."):
            raise not_found(f"Report document {document_id!r} not found.")
        answer: dict[str, Any] = {
            "reportDocumentId": document_id,
            "url": self.presigner.url(self._base_url(request), "GET", document, self.now()),
        }
        if document.compression:
            answer["compressionAlgorithm"] = document.compression
        return 200, answer
