"""The :class:`ShopifyEmulator`: one emulated shop, its ASGI app, scripted actions and signed webhooks."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.routing import Route

from connectors.shopify.emulator.config import ShopifyEmulatorConfig
from connectors.shopify.emulator.control import control_routes
from connectors.shopify.emulator.cost import CostBucket, throttle_status
from connectors.shopify.emulator.customer_mutations import CustomerMutations, compliance_payload
from connectors.shopify.emulator.fulfillment_mutations import FulfillmentMutations
from connectors.shopify.emulator.fulfillment_order_mutations import FulfillmentOrderMutations
from connectors.shopify.emulator.fulfillment_orders import REQUEST_STATUSES, MoveOutcome, fulfillment_order_status
from connectors.shopify.emulator.graphql_api import GraphQLEndpoint
from connectors.shopify.emulator.mutations import InventoryMutations
from connectors.shopify.emulator.order_mutations import OrderMutations
from connectors.shopify.emulator.pickup_mutations import PickupMutations
from connectors.shopify.emulator.product_mutations import ProductMutations
from connectors.shopify.emulator.resolvers import QueryResolvers, parse_gid
from connectors.shopify.emulator.rest_payloads import (
    fulfillment_payload,
    gid,
    inventory_level_payload,
    order_payload,
    refund_payload,
)
from connectors.shopify.emulator.return_desk import ReturnItem
from connectors.shopify.emulator.return_hooks import prepared_payload, return_payload
from connectors.shopify.emulator.return_mutations import ReturnMutations
from connectors.shopify.emulator.return_state import ReturnError, ReturnRecord
from connectors.shopify.emulator.schema import flavor_for
from connectors.shopify.emulator.state import (
    Fulfillment,
    FulfillmentOrder,
    Level,
    Order,
    Refund,
    ShippingAddress,
    ShopError,
    ShopState,
)
from omnibridge.sdk import hmac_sha256_base64
from omnibridge.sdk.emulator import DeliveryRecord, EmulatorKnobs, RequestRecorder, WebhookKnobs, WebhookSender

__all__ = ["OPTIONAL_TOPICS", "ProductRef", "ShopError", "ShopifyEmulator"]

OPTIONAL_TOPICS = frozenset({"fulfillment_orders/order_routing_complete", "fulfillment_orders/moved"})
"""Topics sent only once subscribed (:meth:`ShopifyEmulator.subscribe`): an app gets what it asked for."""
PREPARED_TOPIC = "fulfillment_orders/line_items_prepared_for_pickup"

Clock = Callable[[], datetime]
LineSpec = Iterable[tuple[str, int]]


@dataclass(frozen=True)
class ProductRef:
    """Ids (gids) of a product created by :meth:`ShopifyEmulator.add_product`."""

    sku: str
    product_id: str
    variant_id: str
    inventory_item_id: str


class ShopifyEmulator:
    """An emulated Shopify shop speaking the Admin GraphQL API (see the package docstring for endpoints).

    Seeding (:meth:`add_location`, :meth:`add_product`, :meth:`set_available`) fires no webhooks. Scripted actions
    (:meth:`place_order`, :meth:`cancel_order`, :meth:`refund`, :meth:`fulfill`, :meth:`admin_adjust`) change state
    as Shopify would
    and queue the webhooks Shopify would send, signed with ``config.api_secret``; deliveries run in the event loop
    (call ``await emu.webhooks.drain()`` to wait for them). ``clock`` (aware UTC datetimes) drives timestamps and
    the cost bucket; ``webhook_transport`` lets tests deliver webhooks into an ASGI app without a socket.
    """

    def __init__(
        self,
        config: ShopifyEmulatorConfig | None = None,
        clock: Clock | None = None,
        *,
        webhook_transport: httpx.AsyncBaseTransport | None = None,
        recorder: RequestRecorder | None = None,
    ) -> None:
        self.config = config or ShopifyEmulatorConfig()
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        self.state = ShopState(self.clock)
        self.calls: Counter[str] = Counter()
        self.knobs = EmulatorKnobs(
            latency_ms=self.config.latency_ms, error_rate=self.config.error_rate, seed=self.config.seed
        )
        self.bucket = CostBucket(self.config.bucket_size, self.config.restore_rate, self.clock)
        self.recorder = recorder or RequestRecorder.from_env("shopify")
        self.webhooks = WebhookSender(
            "shopify",
            sign=self._sign,
            url=self.config.webhook_url,
            knobs=WebhookKnobs(seed=self.config.seed),
            transport=webhook_transport,
            clock=self.clock,
        )
        self.resolvers = QueryResolvers(self.state, self.config.currency, self.config.shop, self.config.domain)
        self._version = self.config.webhook_api_version
        self.mutations = InventoryMutations(
            self.state, self.resolvers, lambda: flavor_for(self._version), self._levels_changed
        )
        self.order_mutations = OrderMutations(
            self.state, self._order_cancelled, lambda: f"gid://shopify/Job/{self._uuid()}"
        )
        self.product_mutations = ProductMutations(self.state, self.resolvers)
        self.fulfillment_mutations = FulfillmentMutations(self.state, self.resolvers, self._fulfilled)
        self.fulfillment_order_mutations = FulfillmentOrderMutations(self.state, self.resolvers, self._moved)
        self.customers = CustomerMutations(self.clock)
        self.pickup_mutations = PickupMutations(
            self.state, lambda order, fo: self._emit(PREPARED_TOPIC, prepared_payload(order, fo))
        )
        self.return_mutations = ReturnMutations(
            self.state, self.resolvers, self._return_event, self._refunded, self._levels_changed
        )
        self.subscribed: set[str] = set()
        endpoint = GraphQLEndpoint(
            self.config, self.bucket, self.knobs, self.recorder, self.calls, self._root_value, self._set_version
        )
        self.cost_charged = endpoint.charged
        self.app = Starlette(
            routes=[
                Route("/admin/api/{version}/graphql.json", endpoint.handle, methods=["POST"]),
                *control_routes(self),
            ]
        )

    # --- plumbing ------------------------------------------------------------------------------------------
    def _root_value(self) -> dict[str, Any]:
        return {
            **self.resolvers.root(),
            **self.mutations.root(),
            **self.order_mutations.root(),
            **self.product_mutations.root(),
            **self.fulfillment_mutations.root(),
            **self.fulfillment_order_mutations.root(),
            **self.customers.root(),
            **self.pickup_mutations.root(),
            **self.return_mutations.root(),
        }

    def _set_version(self, version: str) -> None:
        self._version = version

    def _sign(self, body: bytes, url: str) -> dict[str, str]:
        del url
        return {"X-Shopify-Hmac-Sha256": hmac_sha256_base64(self.config.api_secret, body)}

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.knobs.random().getrandbits(128), version=4))

    def _emit(self, topic: str, payload: dict[str, Any]) -> DeliveryRecord:
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        delivery_id, event_id = self._uuid(), self._uuid()
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": self.config.domain,
            "X-Shopify-API-Version": self.config.webhook_api_version,
            "X-Shopify-Webhook-Id": delivery_id,
            "X-Shopify-Event-Id": event_id,
            "X-Shopify-Triggered-At": self.clock()
            .astimezone(UTC)
            .isoformat(timespec="microseconds")
            .replace("+00:00", "Z"),
        }
        return self.webhooks.send(topic, body, headers, delivery_id=delivery_id, event_id=event_id)

    def send_compliance(
        self, topic: str, customer_id: int | None = None, orders: list[int] | None = None
    ) -> DeliveryRecord:
        """Send a mandatory compliance webhook (``customers/data_request``, ``customers/redact``, ``shop/redact``)
        about customer ``customer_id`` of :attr:`customers`, naming ``orders``; signed like every delivery."""
        customer = self.customers.customers.get(customer_id) if customer_id is not None else None
        request_id = self.knobs.random().getrandbits(31)
        payload = compliance_payload(topic, 954889, self.config.domain, customer, orders or [], request_id)
        return self._emit(topic, payload)

    def _emit_subscribed(self, topic: str, payload: dict[str, Any]) -> None:
        if topic in self.subscribed:
            self._emit(topic, payload)

    def _levels_changed(self, levels: list[Level]) -> None:
        for level in levels:
            self._emit("inventory_levels/update", inventory_level_payload(level, self.config.rest_utc_offset_minutes))

    def _location_id(self, location: str | int) -> int:
        numeric = parse_gid(location, "Location") if isinstance(location, str) and location.startswith("gid:") else None
        if numeric is None:
            try:
                numeric = int(location)
            except (TypeError, ValueError):
                raise ShopError(f"not a location id: {location!r}") from None
        self.state.location(numeric)
        return numeric

    def _order_id(self, order: str | int) -> int:
        numeric = parse_gid(order, "Order") if isinstance(order, str) and order.startswith("gid:") else None
        if numeric is None:
            try:
                numeric = int(order)
            except (TypeError, ValueError):
                raise ShopError(f"not an order id: {order!r}") from None
        return numeric

    # --- seeding (no webhooks) -----------------------------------------------------------------------------
    def set_webhook_url(self, url: str | None) -> None:
        """Where deliveries go from now on (queued deliveries keep their URL once sent)."""
        self.webhooks.set_url(url)

    def add_location(self, name: str) -> str:
        """Create an active location; returns its gid."""
        return gid("Location", self.state.add_location(name).id)

    def add_product(self, sku: str, title: str, price: str = "0.00") -> ProductRef:
        """Create a product with one variant and its tracked inventory item."""
        variant = self.state.add_product(sku, title, price)
        return ProductRef(
            sku,
            gid("Product", variant.product_id),
            gid("ProductVariant", variant.id),
            gid("InventoryItem", variant.inventory_item_id),
        )

    def set_available(self, sku: str, location_id: str | int, quantity: int) -> None:
        """Stock ``sku`` at a location (activating it if needed) with ``available = quantity``."""
        level = self.state.stock(self.state.item_by_sku(sku).id, self._location_id(location_id))
        self.state.change(level, "available", quantity - level.get("available"))

    # --- scripted actions (webhooks like Shopify) ----------------------------------------------------------
    def place_order(
        self,
        lines: LineSpec,
        location_id: str | int,
        shipping_address: ShippingAddress | None = ShippingAddress(),
        *,
        pickup: bool = False,
    ) -> dict[str, Any]:
        """A customer checkout fulfilled from ``location_id``; fires orders/create then inventory_levels/update.
        ``shipping_address`` defaults to a sample buyer's; None: the order ships nowhere. ``pickup``: local pickup
        at ``location_id`` (a ``PICK_UP`` fulfillment order, no shipping address)."""
        address = None if pickup else shipping_address
        order = self.state.place_order(list(lines), self._location_id(location_id), address, pickup=pickup)
        payload = order_payload(self.state, order, self.config.rest_utc_offset_minutes, self.config.currency)
        self._emit("orders/create", payload)
        self._levels_changed(self._order_levels(order.id))
        for fo in order.fulfillment_orders:  # Shopify's own routing is done at checkout in the emulator
            self._emit_subscribed(
                "fulfillment_orders/order_routing_complete",
                {"fulfillment_order": {"id": gid("FulfillmentOrder", fo.id), "status": "open"}},
            )
        return payload

    def _moved(self, order: Order, outcome: MoveOutcome, requested: list[dict[str, Any]]) -> None:
        """What Shopify sends after a move or reroute: fulfillment_orders/moved (when subscribed), then
        inventory_levels/update for the levels whose committed units moved."""
        self._emit_subscribed(
            "fulfillment_orders/moved",
            {
                "original_fulfillment_order": self._fo_summary(order, outcome.original),
                "moved_fulfillment_order": self._fo_summary(order, outcome.moved),
                "destination_location_id": gid("Location", outcome.moved.location_id),
                "fulfillment_order_line_items_requested": requested,
                "source_location": {"id": gid("Location", outcome.source)},
            },
        )
        self._levels_changed(list({id(level): level for level in outcome.levels}.values()))

    def _fo_summary(self, order: Order, fo: FulfillmentOrder) -> dict[str, Any]:
        status = fulfillment_order_status(order, fo).lower()
        return {
            "id": gid("FulfillmentOrder", fo.id),
            "status": status,
            "assigned_location_id": gid("Location", fo.location_id),
        }

    def subscribe(self, *topics: str) -> list[str]:
        """Subscribe to optional topics (:data:`OPTIONAL_TOPICS`); returns every optional topic subscribed."""
        unknown = sorted(set(topics) - OPTIONAL_TOPICS)
        if unknown:
            raise ShopError(
                f"unknown optional topic(s) {', '.join(unknown)}: expected {', '.join(sorted(OPTIONAL_TOPICS))}"
            )
        self.subscribed.update(topics)
        return sorted(self.subscribed)

    def set_request_status(self, fulfillment_order_id: str | int, request_status: str) -> str:
        """Set a fulfillment order's ``requestStatus`` (as a fulfillment service's handshake would: ``SUBMITTED``,
        ``ACCEPTED``...); returns the fulfillment order gid."""
        text = str(fulfillment_order_id)
        numeric = parse_gid(text, "FulfillmentOrder") if text.startswith("gid:") else int(text)
        found = self.state.fulfillment_order(numeric) if numeric is not None else None
        if found is None:
            raise ShopError(f"no fulfillment order {fulfillment_order_id}")
        if request_status not in REQUEST_STATUSES:
            raise ShopError(
                f"unknown request status {request_status!r}: expected one of {', '.join(sorted(REQUEST_STATUSES))}"
            )
        found[1].request_status = request_status
        return gid("FulfillmentOrder", found[1].id)

    def _order_levels(self, order_id: int) -> list[Level]:
        order = self.state.order(order_id)
        seen: dict[tuple[int, int], Level] = {}
        for li in order.line_items:
            seen.setdefault(
                (li.inventory_item_id, order.location_id), self.state.levels[(li.inventory_item_id, order.location_id)]
            )
        return list(seen.values())

    def cancel_order(self, order_id: str | int, restock: bool = True, reason: str = "customer") -> dict[str, Any]:
        """Cancel an order: orders/cancelled (+ inventory_levels/update when restocked)."""
        numeric = self._order_id(order_id)
        changed = self.state.cancel_order(numeric, restock=restock, reason=reason)
        return self._order_cancelled(numeric, changed)

    def _order_cancelled(self, order_id: int, restocked: list[Level]) -> dict[str, Any]:
        """What Shopify sends after a cancellation (control API or ``orderCancel``): orders/cancelled, then
        inventory_levels/update for each level the cancellation restocked. Returns the REST order."""
        payload = order_payload(
            self.state, self.state.order(order_id), self.config.rest_utc_offset_minutes, self.config.currency
        )
        self._emit("orders/cancelled", payload)
        self._levels_changed(restocked)
        return payload

    def refund(
        self,
        order_id: str | int,
        lines: LineSpec,
        restock_type: str = "return",
        location_id: str | int | None = None,
        note: str | None = None,
    ) -> dict[str, Any]:
        """Refund line quantities: refunds/create (+ inventory_levels/update when restocked)."""
        numeric = self._order_id(order_id)
        location = self._location_id(location_id) if location_id is not None else None
        refund, changed = self.state.refund(
            numeric, list(lines), restock_type=restock_type, location_id=location, note=note
        )
        order = self.state.order(numeric)
        payload = refund_payload(self.state, order, refund, self.config.rest_utc_offset_minutes, self.config.currency)
        self._emit("refunds/create", payload)
        self._levels_changed(changed)
        return payload

    def fulfill(
        self,
        order_id: str | int,
        lines: LineSpec | None = None,
        *,
        tracking_number: str | None = None,
        tracking_company: str | None = None,
        tracking_url: str | None = None,
    ) -> dict[str, Any]:
        """Staff fulfil an order in the Shopify admin ("Mark as fulfilled", optionally with tracking): ``lines``
        are ``(sku, quantity)`` (default: every open unit). Committed and on_hand go down at the order's location,
        available does not move. Fires fulfillments/create; returns the REST fulfillment."""
        order = self.state.order(self._order_id(order_id))
        quantities: dict[int, int] | None = None
        if lines is not None:
            quantities = {}
            for sku, quantity in lines:
                li = next((x for x in order.line_items if x.sku == sku), None)
                if li is None:
                    raise ShopError(f"order {order.id} has no line with SKU {sku!r}")
                quantities[li.id] = quantities.get(li.id, 0) + quantity
        fulfillment = self.state.fulfill(
            order.id,
            quantities,
            tracking_number=tracking_number,
            tracking_company=tracking_company,
            tracking_url=tracking_url,
        )
        return self._fulfilled(order, fulfillment)

    def request_return(self, order_id: str | int, lines: LineSpec, reason: str = "UNWANTED") -> str:
        """A customer asks for a return on the shop (``lines``: (sku, units) of fulfilled units); fires
        returns/request. Returns the return's gid."""
        order = self.state.order(self._order_id(order_id))
        items = []
        for sku, quantity in lines:
            line = next(
                (
                    fl
                    for f in order.fulfillments
                    for fl in f.lines
                    if any(li.id == fl.line_item_id and li.sku == sku for li in order.line_items)
                ),
                None,
            )
            if line is None:
                raise ShopError(f"order {order.id} has no fulfilled line with SKU {sku!r}")
            items.append(ReturnItem(line.id, quantity, reason, customer_note="changed my mind"))
        try:
            record = self.return_mutations.desk.create(order, items, "REQUESTED", "input")
        except ReturnError as error:
            raise ShopError(error.message) from None
        self._return_event("returns/request", order, record)
        return gid("Return", record.id)

    def _return_event(self, topic: str, order: Order, record: ReturnRecord) -> None:
        self._emit(topic, return_payload(topic, order, record))

    def _refunded(self, order: Order, refund: Refund) -> None:
        self._emit(
            "refunds/create",
            refund_payload(self.state, order, refund, self.config.rest_utc_offset_minutes, self.config.currency),
        )

    def _fulfilled(self, order: Order, fulfillment: Fulfillment) -> dict[str, Any]:
        """What Shopify sends after a fulfillment (control API or ``fulfillmentCreate``): fulfillments/create (no
        inventory_levels/update: available did not change). Returns the REST fulfillment."""
        payload = fulfillment_payload(order, fulfillment, self.config.rest_utc_offset_minutes, self.config.currency)
        self._emit("fulfillments/create", payload)
        return payload

    def admin_adjust(self, sku: str, location_id: str | int, delta: int) -> int:
        """A staff edit of ``available`` in the Shopify admin; fires inventory_levels/update. Returns the new value."""
        level = self.state.level(self.state.item_by_sku(sku).id, self._location_id(location_id))
        after = self.state.change(level, "available", delta)
        self._levels_changed([level])
        return after

    # --- reading -------------------------------------------------------------------------------------------
    def available(self, sku: str, location_id: str | int) -> int:
        """What the shop shows as available now."""
        return self.quantities(sku, location_id)["available"]

    def quantities(self, sku: str, location_id: str | int) -> dict[str, int]:
        """Every quantity name of a level (available, on_hand, committed, incoming, reserved...)."""
        return self.state.level(self.state.item_by_sku(sku).id, self._location_id(location_id)).quantities()

    def listing(self, sku: str) -> tuple[str, str]:
        """The title (the product's) and price (decimal string in the shop's currency) shown for ``sku``.

        The back door for listings tests and the conformance harness (``EmulatorControl.listing``); raises
        :class:`ShopError` for an unknown SKU.
        """
        variant = self.state.variant_by_sku(sku)
        return variant.product_title, variant.price

    def redeliver_last(self, topic: str | None = None) -> DeliveryRecord:
        """Send the last delivery (of ``topic``) again with the same webhook and event ids: a duplicate."""
        record = self.webhooks.last(topic)
        if record is None:
            raise ShopError(f"no webhook delivery{f' of {topic}' if topic else ''} to redeliver")
        return self.webhooks.redeliver(record)

    def snapshot(self) -> dict[str, Any]:
        """The whole shop as JSON-able data (``GET /_emulator/state``)."""
        offset = self.config.rest_utc_offset_minutes
        return {
            "shop": self.config.domain,
            "locations": [{"id": gid("Location", loc.id), "name": loc.name} for loc in self.state.locations.values()],
            "products": [
                {
                    "sku": v.sku,
                    "title": v.product_title,
                    "price": v.price,
                    "variant_id": gid("ProductVariant", v.id),
                    "inventory_item_id": gid("InventoryItem", v.inventory_item_id),
                }
                for v in self.state.variants.values()
            ],
            "levels": [
                {
                    "sku": self.state.items[lv.item_id].sku,
                    "inventory_item_id": gid("InventoryItem", lv.item_id),
                    "location_id": gid("Location", lv.location_id),
                    "quantities": lv.quantities(),
                }
                for lv in self.state.levels.values()
            ],
            "orders": [order_payload(self.state, o, offset, self.config.currency) for o in self.state.orders.values()],
            "fulfillment_orders": [
                {
                    "id": gid("FulfillmentOrder", fo.id),
                    "order_id": gid("Order", o.id),
                    "location_id": gid("Location", fo.location_id),
                    "status": fulfillment_order_status(o, fo),
                    "request_status": fo.request_status,
                    "holds": [hold.handle for hold in fo.holds],
                    "lines": [
                        {
                            "line_item_id": gid("LineItem", line.line_item_id),
                            "total": line.total,
                            "remaining": line.remaining,
                        }
                        for line in fo.lines
                        if line.total
                    ],
                }
                for o in self.state.orders.values()
                for fo in o.fulfillment_orders
            ],
            "calls": dict(self.calls),
            "throttle_status": self._throttle_status(),
            "webhooks": [
                {
                    "topic": d.topic,
                    "webhook_id": d.delivery_id,
                    "event_id": d.event_id,
                    "duplicate": d.duplicate,
                    "delivered": d.delivered,
                    "gave_up": d.gave_up,
                    "attempts": len(d.attempts),
                }
                for d in self.webhooks.deliveries
            ],
        }

    def _throttle_status(self) -> dict[str, float]:
        self.bucket.refill()
        return throttle_status(self.bucket)

    async def aclose(self) -> None:
        """Stop pending deliveries and close the webhook HTTP client."""
        await self.webhooks.aclose()
