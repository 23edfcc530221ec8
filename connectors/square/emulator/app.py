"""The Square emulator: merchant state, scripted store actions and the ASGI app serving Square's v2 API."""

from __future__ import annotations

import copy
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.square.emulator import catalog, inventory, order_updates, orders, pickups
from connectors.square.emulator.common import ApiError
from connectors.square.emulator.config import SquareEmulatorConfig
from connectors.square.emulator.control import control_routes
from connectors.square.emulator.control_pickups import pickup_control_routes
from connectors.square.emulator.events import (
    fulfillment_event,
    inventory_event,
    order_event,
    refund_event,
    retry_headers,
    signer,
)
from connectors.square.emulator.openapi import SquareError, find_operation, request_errors
from connectors.square.emulator.refunds import RefundBook
from connectors.square.emulator.state import ChangeRecord, MerchantState, format_time
from omnibridge.sdk.emulator import DeliveryRecord, EmulatorKnobs, RequestRecorder, WebhookKnobs, WebhookSender

__all__ = ["SquareEmulator"]

Quantity = int | str | Decimal
_Handler = Callable[[dict[str, Any], Request], dict[str, Any]]


class _Bucket:
    """Token bucket: ``rate`` tokens per second up to ``burst``; ``take()`` is False when empty."""

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate, self.burst, self.tokens, self.stamp = rate, burst, float(burst), now

    def take(self, now: float) -> bool:
        self.tokens = min(float(self.burst), self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


async def _not_found(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods answer in Square's error shape, not Starlette's plain text."""
    detail = f"No API operation {request.method} {request.url.path}."
    return JSONResponse({"errors": [SquareError("INVALID_REQUEST_ERROR", "NOT_FOUND", detail).to_json()]}, 404)


class SquareEmulator:
    """A local fake of Square's Locations, Catalog, Inventory and Orders APIs, with signed webhooks.

    ``clock`` returns the current aware UTC time (Square timestamps, the 24 h ``occurred_at`` window);
    ``monotonic`` drives the rate-limit bucket (default :func:`time.monotonic`). ``webhook_transport`` lets tests
    deliver webhooks to an in-process ASGI receiver. The state is in memory; one instance is one merchant.
    """

    def __init__(
        self,
        config: SquareEmulatorConfig | None = None,
        clock: Callable[[], datetime] | None = None,
        *,
        monotonic: Callable[[], float] | None = None,
        webhook_transport: httpx.AsyncBaseTransport | None = None,
        webhook_knobs: WebhookKnobs | None = None,
        recorder: RequestRecorder | None = None,
    ) -> None:
        self.config = config or SquareEmulatorConfig()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.monotonic = monotonic or time.monotonic
        cfg = self.config
        self.knobs = EmulatorKnobs(latency_ms=cfg.latency_ms, error_rate=cfg.error_rate, seed=cfg.seed)
        self.state = MerchantState(self.config.merchant_id, self.clock, self.knobs.random())
        self.recorder = recorder or RequestRecorder.from_env("square")
        self.webhooks = WebhookSender(
            "square",
            sign=signer(self.config.signature_key),
            url=self.config.notification_url,
            knobs=webhook_knobs,
            retry_headers=retry_headers,
            transport=webhook_transport,
            clock=self.clock,
        )
        self.calls: Counter[str] = Counter()
        self.events: list[dict[str, Any]] = []
        self.idempotency = inventory.IdempotencyCache()
        self.catalog_idempotency = inventory.IdempotencyCache()
        self.order_idempotency = inventory.IdempotencyCache()
        self.update_idempotency = inventory.IdempotencyCache()
        self.refunds = RefundBook(self.state)
        self._buckets: dict[str, _Bucket] = {}
        self.app = Starlette(routes=self._routes(), exception_handlers={404: _not_found, 405: _not_found})

    # -- scripted merchant actions (Python API) --------------------------------------------------------------

    def set_notification_url(self, url: str | None) -> None:
        """Change the subscribed webhook URL (deliveries are signed over it)."""
        self.config.notification_url = url
        self.webhooks.set_url(url)

    def set_rate_limit(self, requests_per_second: float, burst: int) -> None:
        """Change the token bucket (existing buckets are refilled to the new burst)."""
        self.config.requests_per_second, self.config.burst = requests_per_second, burst
        self._buckets.clear()

    def add_location(self, name: str) -> str:
        """Create an ACTIVE location; returns its 13-character id."""
        return self.state.add_location(name)

    def add_variation(self, sku: str, name: str, price_cents: int, currency: str = "USD") -> str:
        """Create an ITEM with one tracked ITEM_VARIATION carrying ``sku``; returns the variation id."""
        return self.state.add_variation(sku, name, price_cents, currency)

    def set_count(self, sku: str, location_id: str, quantity: Quantity) -> None:
        """Seed the IN_STOCK count: a PHYSICAL_COUNT dated now, visible in change history, without webhook."""
        self._change("PHYSICAL_COUNT", sku, location_id, quantity, {"state": "IN_STOCK"}, product="SQUARE_POS")

    def pos_sale(
        self, location_id: str, lines: Sequence[tuple[str, Quantity]], *, created_at: datetime | None = None
    ) -> dict[str, Any]:
        """An in-store sale: a COMPLETED order (source POS) and an IN_STOCK→SOLD adjustment per line.

        Fires ``order.updated`` (POS sales do not fire ``order.created``) and ``inventory.count.updated``.
        ``created_at`` in the past models an offline sale uploaded late. Returns the order.
        """
        self._location(location_id)
        resolved = [(self.state.variation_for_sku(sku), Decimal(str(qty))) for sku, qty in lines]
        order = self.state.new_order(location_id, resolved, "Square Point of Sale", created_at)
        self.state.set_order_state(order["id"], "COMPLETED")
        records = [
            self._change(
                "ADJUSTMENT",
                sku,
                location_id,
                qty,
                {"from_state": "IN_STOCK", "to_state": "SOLD", "transaction_id": order["id"]},
                product="SQUARE_POS",
                occurred_at=created_at,
            )
            for sku, qty in lines
        ]
        self._emit_order(order, "updated")
        self._emit_inventory(records)
        return order

    def online_order(
        self,
        location_id: str,
        lines: Sequence[tuple[str, Quantity]],
        recipient: Mapping[str, Any],
        *,
        fulfillment_type: str = "SHIPMENT",
        reference_id: str | None = None,
    ) -> dict[str, Any]:
        """An online order to ship: OPEN, source Square Online, one SHIPMENT (or DELIVERY) fulfillment PROPOSED to
        ``recipient`` (a ``FulfillmentRecipient``: ``display_name``, ``phone_number``, ``address{address_line_1,
        locality, administrative_district_level_1, postal_code, country, ...}``). Fires ``order.created``.

        Unpaid, as CreateOrder leaves it: no inventory change (Square adjusts stock when an order is paid).
        """
        self._location(location_id)
        resolved = [(self.state.variation_for_sku(sku), Decimal(str(qty))) for sku, qty in lines]
        sent = orders.fulfillment(fulfillment_type, dict(recipient), self.state.now())
        names = {"reference_id": reference_id} if reference_id else None
        order = self.state.new_order(location_id, resolved, "Square Online", fulfillments=[sent], names=names)
        self._emit_order(order, "created")
        return order

    def set_fulfillment_state(self, order_id: str, state: str) -> dict[str, Any]:
        """Move the order's live fulfillments to ``state`` (COMPLETED: shipped) and fire ``order.updated``; the
        order stays OPEN, as when an integration completes only the fulfillment."""
        order = self.state.set_fulfillment_state(order_id, state)
        self._emit_order(order, "updated")
        return order

    def pickup_order(
        self,
        location_id: str,
        lines: Sequence[tuple[str, Quantity]],
        recipient: Mapping[str, Any],
        **pickup_details: Any,
    ) -> dict[str, Any]:
        """An online order to collect at ``location_id``: OPEN, one PICKUP fulfillment PROPOSED with
        ``pickup_details`` (``pickup_at``, ``pickup_window_duration``, ``prep_time_duration``, ``expires_at``,
        ``schedule_type``, ``is_curbside_pickup``, ``curbside_pickup_details``; checked as CreateOrder does).
        Fires ``order.created``."""
        self._location(location_id)
        resolved = [(self.state.variation_for_sku(sku), Decimal(str(qty))) for sku, qty in lines]
        details = pickups.details({"recipient": dict(recipient), **pickup_details}, "pickup_details", self.state.now())
        sent = {"type": "PICKUP", "state": "PROPOSED", "pickup_details": details}
        order = self.state.new_order(location_id, resolved, "Square Online", fulfillments=[sent])
        self._emit_order(order, "created")
        return order

    def till_pickup(
        self, order_id: str, state: str | None = None, *, uid: str | None = None, arrived: bool = False, note: str = ""
    ) -> dict[str, Any]:
        """Staff move the order's PICKUP fulfillment to ``state`` at the Square POS, or (``arrived``) the curbside
        buyer says they are outside. No webhook: Square fires ``order.fulfillment.updated`` only for UpdateOrder,
        so a connector learns of this by reading the order back."""
        order = self.state.orders[order_id]
        return pickups.till_change(order, uid, state, arrived=arrived, note=note or None, now=self.state.now())

    def pay(self, order_id: str) -> str:
        """A card payment of the order's total (a ``tenders[]`` entry); returns its ``payment_id``."""
        return self.refunds.pay(order_id)

    def till_return(
        self,
        order_id: str,
        lines: Sequence[tuple[str, Quantity]],
        *,
        location_id: str | None = None,
        reason: str = "",
        restock: bool = True,
    ) -> dict[str, Any]:
        """An itemized return at the Square POS of ``(line uid, quantity)`` of ``order_id`` at ``location_id``
        (default: the order's store): a return order and its refund (``refund.created``, ``refund.updated``,
        ``order.updated`` for the return order); with ``restock`` the units go back IN_STOCK there (SOLD→IN_STOCK
        adjustments naming the refund in ``refund_id``, ``inventory.count.updated``); without, Square records no
        inventory change. Returns the return order."""
        resolved = [(uid, Decimal(str(qty))) for uid, qty in lines]
        order, refund = self.refunds.till_return(order_id, resolved, location_id, reason)
        self._emit_refund(refund, "created")
        self._emit_refund(self.refunds.settle(refund["id"]), "updated")
        self._emit_order(order, "updated")
        if restock:
            records = []
            for line in order["returns"][0]["return_line_items"]:
                variation = line.get("catalog_object_id")
                if variation is None:
                    continue
                sku = self.state.catalog[variation]["item_variation_data"]["sku"]
                move = {"from_state": "SOLD", "to_state": "IN_STOCK", "transaction_id": order["id"]}
                move["refund_id"] = refund["id"]
                records.append(
                    self._change("ADJUSTMENT", sku, order["location_id"], line["quantity"], move, product="SQUARE_POS")
                )
            self._emit_inventory(records)
        return order

    def set_order_state(self, order_id: str, state: str) -> dict[str, Any]:
        """Move an order to another state (e.g. CANCELED) and fire ``order.updated``."""
        order = self.state.set_order_state(order_id, state)
        self._emit_order(order, "updated")
        return order

    def receive_stock(self, location_id: str, sku: str, quantity: Quantity) -> None:
        """Staff received a delivery: ADJUSTMENT NONE→IN_STOCK, fires ``inventory.count.updated``."""
        move = {"from_state": "NONE", "to_state": "IN_STOCK"}
        record = self._change("ADJUSTMENT", sku, location_id, quantity, move, product="SQUARE_POS")
        self._emit_inventory([record])

    def physical_count(self, location_id: str, sku: str, quantity: Quantity) -> None:
        """A stock take by staff: PHYSICAL_COUNT in IN_STOCK, fires ``inventory.count.updated``."""
        record = self._change("PHYSICAL_COUNT", sku, location_id, quantity, {"state": "IN_STOCK"}, product="SQUARE_POS")
        self._emit_inventory([record])

    def quantity(self, sku: str, location_id: str) -> int:
        """The IN_STOCK count now (fractions truncated)."""
        return int(self.state.in_stock(self.state.variation_for_sku(sku), location_id))

    def listing(self, sku: str) -> tuple[str, str]:
        """The item name and the variation's price (decimal string, e.g. ``"199.00"``) Square shows for ``sku``.

        The back door for listings tests and the conformance harness (``EmulatorControl.listing``); raises
        ``KeyError`` for an unknown SKU.
        """
        name, price, _ = catalog.listing(self.state, sku)
        return name, price

    def redeliver_last(self, event_type: str | None = None) -> DeliveryRecord | None:
        """Send the last delivery (optionally of ``event_type``) again, same ``event_id``: a duplicate."""
        record = self.webhooks.last(event_type)
        return None if record is None else self.webhooks.redeliver(record)

    # -- internals ---------------------------------------------------------------------------------------------

    def _location(self, location_id: str) -> None:
        if location_id not in self.state.locations:
            raise KeyError(f"unknown location {location_id!r}")

    def _change(
        self,
        change_type: str,
        sku: str,
        location_id: str,
        quantity: Quantity,
        extra: dict[str, Any],
        *,
        product: str,
        occurred_at: datetime | None = None,
    ) -> ChangeRecord:
        self._location(location_id)
        body = {
            "catalog_object_id": self.state.variation_for_sku(sku),
            "location_id": location_id,
            "quantity": str(quantity),
            "source": {"product": product, "name": "Square Point of Sale"},
            **extra,
        }
        return self.state.record_change(change_type, body, occurred_at or self.state.now())

    def _emit(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        headers = {
            "content-type": "application/json",
            "square-environment": self.config.environment,
            "square-initial-delivery-timestamp": format_time(self.state.now()),
            "user-agent": "Square Connect v2",
        }
        self.webhooks.send(event["type"], event, headers, delivery_id=event["event_id"], event_id=event["event_id"])

    def _emit_order(self, order: dict[str, Any], kind: str) -> None:
        now = format_time(self.state.now())
        self._emit(order_event(self.config.merchant_id, self.state.new_uuid(), now, order, kind))

    def _emit_refund(self, refund: dict[str, Any], kind: str) -> None:
        now = format_time(self.state.now())
        self._emit(refund_event(self.config.merchant_id, self.state.new_uuid(), now, refund, kind))

    def _emit_inventory(self, records: Sequence[ChangeRecord]) -> None:
        groups: dict[tuple[str, str], list[ChangeRecord]] = {}
        for record in records:
            groups.setdefault((record.catalog_object_id, record.location_id), []).append(record)
        for group in groups.values():
            counts = self.state.counts_for(group)
            if counts:
                now = format_time(self.state.now())
                self._emit(
                    inventory_event(self.config.merchant_id, self.state.new_uuid(), self.state.new_uuid(), now, counts)
                )

    # -- HTTP --------------------------------------------------------------------------------------------------

    def _routes(self) -> list[BaseRoute]:
        state = self.state
        api: list[tuple[str, str, _Handler]] = [
            ("GET", "/v2/locations", lambda body, req: {"locations": list(state.locations.values())}),
            ("POST", "/v2/catalog/search", lambda body, req: catalog.search(state, body)),
            ("POST", "/v2/catalog/batch-retrieve", lambda body, req: catalog.batch_retrieve(state, body)),
            ("POST", "/v2/catalog/object", lambda body, req: catalog.upsert(state, self.catalog_idempotency, body)),
            ("GET", "/v2/catalog/object/{object_id}", self._retrieve_object),
            ("POST", "/v2/inventory/changes/batch-create", self._batch_change),
            ("POST", "/v2/inventory/counts/batch-retrieve", lambda body, req: inventory.retrieve_counts(state, body)),
            ("POST", "/v2/inventory/changes/batch-retrieve", lambda body, req: inventory.retrieve_changes(state, body)),
            ("POST", "/v2/orders", self._create_order),
            ("POST", "/v2/orders/search", lambda body, req: orders.search(state, body)),
            ("POST", "/v2/orders/batch-retrieve", lambda body, req: orders.batch_retrieve(state, body)),
            ("GET", "/v2/orders/{order_id}", lambda body, req: orders.retrieve(state, req.path_params["order_id"])),
            ("PUT", "/v2/orders/{order_id}", self._update_order),
            ("POST", "/v2/refunds", self._refund_payment),
            ("GET", "/v2/refunds/{refund_id}", lambda body, req: self.refunds.get(req.path_params["refund_id"])),
        ]
        routes: list[BaseRoute] = [
            Route(path, self._endpoint(method, path, handler), methods=[method]) for method, path, handler in api
        ]
        return routes + control_routes(self) + pickup_control_routes(self)

    def _retrieve_object(self, body: dict[str, Any], request: Request) -> dict[str, Any]:
        related = request.query_params.get("include_related_objects", "false").lower() == "true"
        return catalog.retrieve(self.state, request.path_params["object_id"], related)

    def _create_order(self, body: dict[str, Any], request: Request) -> dict[str, Any]:
        response, created = orders.create(self.state, self.order_idempotency, body)
        if created:
            self._emit_order(self.state.orders[response["order"]["id"]], "created")
        return response

    def _update_order(self, body: dict[str, Any], request: Request) -> dict[str, Any]:
        order_id = request.path_params["order_id"]
        before = copy.deepcopy(self.state.orders.get(order_id) or {})
        response = order_updates.update(self.state, self.update_idempotency, order_id, body)
        if response["order"]["version"] != before.get("version"):
            order = self.state.orders[order_id]
            old = {f.get("uid"): f.get("state") for f in before.get("fulfillments") or []}
            sent = {f.get("uid") for f in (body.get("order") or {}).get("fulfillments") or []}
            updates = [
                {"fulfillment_uid": f["uid"], "old_state": old.get(f["uid"]), "new_state": f.get("state")}
                for f in order.get("fulfillments") or []
                if f.get("uid") in sent
            ]
            if updates:
                now = format_time(self.state.now())
                event = fulfillment_event(self.config.merchant_id, self.state.new_uuid(), now, order, updates)
                self._emit(event)
            self._emit_order(order, "updated")
        return response

    def _refund_payment(self, body: dict[str, Any], request: Request) -> dict[str, Any]:
        response, created = self.refunds.refund_payment(body)
        if created:
            refund_id = response["refund"]["id"]
            self._emit_refund(self.refunds.refunds[refund_id], "created")
            self._emit_refund(self.refunds.settle(refund_id), "updated")
        return response

    def _batch_change(self, body: dict[str, Any], request: Request) -> dict[str, Any]:
        outcome = inventory.batch_change(self.state, self.idempotency, body)
        if outcome.applied:
            self._emit_inventory(outcome.applied)
        return outcome.response

    def _endpoint(self, method: str, template: str, handler: _Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            self.recorder.record(request.method, request.url.path, request.url.query, request.headers, raw)
            try:
                body = self._admit(request, raw, template)
                await self.knobs.delay()
                if self.knobs.should_fail():
                    raise ApiError(503, [SquareError("API_ERROR", "SERVICE_UNAVAILABLE", "Service unavailable.")])
                return JSONResponse(handler(body, request))
            except ApiError as error:
                return JSONResponse(error.body(), status_code=error.status)

        return endpoint

    def _admit(self, request: Request, raw: bytes, template: str) -> dict[str, Any]:
        """Auth, rate limit, call counting and schema validation; returns the parsed body."""
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.config.access_token:
            raise ApiError(
                401, [SquareError("AUTHENTICATION_ERROR", "UNAUTHORIZED", "This request could not be authorized.")]
            )
        now = self.monotonic()
        bucket = self._buckets.setdefault(token, _Bucket(self.config.requests_per_second, self.config.burst, now))
        if not bucket.take(now):
            self.calls["rate_limited"] += 1
            raise ApiError(429, [SquareError("RATE_LIMIT_ERROR", "RATE_LIMITED", "Too many requests; back off.")])
        self.calls[f"{request.method} {template}"] += 1
        errors = request_errors(request.method, request.url.path, raw, strict=self.config.reject_unknown_fields)
        if errors:
            raise ApiError(400, errors)
        op = find_operation(request.method, request.url.path)
        if op is None or op.request_schema is None or not raw.strip():
            return {}
        parsed = json.loads(raw)
        if not isinstance(parsed, dict):
            raise ApiError(400, [SquareError("INVALID_REQUEST_ERROR", "EXPECTED_OBJECT", "Expected a JSON object.")])
        return parsed
