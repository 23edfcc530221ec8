"""A local emulator of Shopify's Admin GraphQL API (api-contracts §1), for tests, the demo and trying omnibridge.

Python use::

    from connectors.shopify.emulator import ShopifyEmulator, ShopifyEmulatorConfig
    emu = ShopifyEmulator(ShopifyEmulatorConfig(shop="demo-outfitters", access_token="shpat_emulator"))
    loc = emu.add_location("Main warehouse")
    emu.add_product(sku="TENT-2P-GRN", title="Trail tent", price="199.00")
    emu.set_available("TENT-2P-GRN", loc, 10)
    order = emu.place_order([("TENT-2P-GRN", 2)], location_id=loc)   # fires orders/create + inventory_levels/update
    emu.fulfill(order["id"], tracking_number="1Z999", tracking_company="UPS")   # fires fulfillments/create
    emu.subscribe("fulfillment_orders/order_routing_complete", "fulfillment_orders/moved")  # optional topics
    emu.set_request_status(fulfillment_order_gid, "SUBMITTED")   # a fulfillment service has it: no moves
    # serve emu.app (ASGI) with uvicorn, or call it through httpx.ASGITransport

Vendor API (what a connector talks to):

* ``POST /admin/api/{version}/graphql.json`` — versions 2024-10 … 2026-10, header ``X-Shopify-Access-Token``.
  Every document is validated against the official schema of the version (:func:`validate_document`); cost
  is computed and charged to a leaky bucket; ``inventorySetQuantities`` / ``inventoryAdjustQuantities`` follow
  the version's compare-and-set and ``@idempotent`` rules; ``orderCancel`` cancels (and restocks) an order and
  sends ``orders/cancelled`` (see :mod:`~connectors.shopify.emulator.order_mutations`); ``fulfillmentCreate`` ships
  units of an order's fulfillment order and sends ``fulfillments/create``
  (:mod:`~connectors.shopify.emulator.fulfillment_mutations`); ``fulfillmentOrderHold``,
  ``fulfillmentOrderReleaseHold``, ``fulfillmentOrderMove`` and ``fulfillmentOrdersReroute`` (2025-10+) change an
  order's fulfillment orders and send ``fulfillment_orders/moved`` when subscribed
  (:mod:`~connectors.shopify.emulator.fulfillment_orders`); ``productUpdate`` (title)
  and ``productVariantsBulkUpdate`` (price) change listings (:mod:`~connectors.shopify.emulator.product_mutations`);
  ``fulfillmentOrderLineItemsPreparedForPickup`` prepares a ``PICK_UP`` fulfillment order
  (:mod:`~connectors.shopify.emulator.pickup_mutations`); ``returnRequest``, ``returnCreate``,
  ``returnApproveRequest``, ``returnDeclineRequest``, ``returnCancel``, ``returnClose``,
  ``reverseFulfillmentOrderDispose``, ``returnRefund``, ``returnProcess`` (2025-07+) and
  ``reverseDeliveryCreateWithShipping`` run the returns state machine
  (:mod:`~connectors.shopify.emulator.return_mutations`, :mod:`~connectors.shopify.emulator.return_desk`).
  Queries: ``shop``, ``return``, ``reverseFulfillmentOrder``,
  ``locations``, ``location``, ``inventoryItems``, ``inventoryItem``, ``inventoryLevel``, ``productVariants``,
  ``productVariant``, ``orders``, ``order`` (with ``fulfillmentOrders`` and ``fulfillments``), ``fulfillment``,
  ``fulfillmentOrder`` (with ``supportedActions``, ``fulfillmentHolds``, ``locationsForMove``), ``node``, ``nodes``.

Control API (not Shopify's; JSON in and out, no auth; ``loc`` is a location gid or number)::

    POST /_emulator/locations            {"name": "Main warehouse"}  -> {"id": "gid://shopify/Location/…"}
    POST /_emulator/products             {"sku": "A", "title": "Tent", "price": "9.00"}
                                         -> {sku, product_id, variant_id, inventory_item_id}
    POST /_emulator/inventory/set        {"sku": "A", "location_id": loc, "available": 10}  (seeding, no webhook)
    POST /_emulator/inventory/adjust     {"sku": "A", "location_id": loc, "delta": -2}
                                         (a staff edit: inventory_levels/update)
    POST /_emulator/orders               {"lines": [["A", 2]] or [{"sku": "A", "quantity": 2}], "location_id": loc,
                                          "pickup": false}  (pickup: a PICK_UP fulfillment order, no address)
                                         -> REST order (orders/create + inventory_levels/update)
    POST /_emulator/orders/{id}/returns  {"lines": [["A", 1]], "reason": "UNWANTED"}  (fulfilled units)
                                         -> {"id": return gid} (returns/request), as a customer asking
    POST /_emulator/orders/{id}/cancel   {"restock": true, "reason": "customer"}  -> REST order (orders/cancelled)
    POST /_emulator/orders/{id}/refunds  {"lines": [["A", 1]], "restock_type": "return", "location_id": loc}
                                         -> REST refund (refunds/create)
    POST /_emulator/orders/{id}/fulfill  {"lines": [["A", 1]], "tracking_number": "1Z…", "tracking_company": "UPS",
                                          "tracking_url": "https://…"}  (all optional; default every open unit)
                                         -> REST fulfillment (fulfillments/create), as staff "Mark as fulfilled"
    GET  /_emulator/state                -> locations, products, levels, orders, fulfillment orders, calls,
                                            throttle status, webhooks
    GET  /_emulator/listing?sku=A        -> {"sku", "title", "price", "currency"}  (also emu.listing(sku))
    GET|POST /_emulator/webhook-url      {"url": "http://127.0.0.1:8080/webhooks/shopify"}
    GET|POST /_emulator/knobs            {"latency_ms": [0, 50], "error_rate": 0.1, "fail_next": 2,
                                          "bucket_size": 100, "restore_rate": 10,
                                          "webhooks": {"duplicate_next": 1, "duplicate_rate": 0.0, "delay_s": [0, 2],
                                                       "fail_first_attempts": 2, "max_attempts": 8,
                                                       "retry_backoff_s": 0.25}}
    POST /_emulator/webhooks/redeliver   {"topic": "orders/create"}  (same X-Shopify-Webhook-Id and Event-Id)
    GET|POST /_emulator/webhook-subscriptions  {"topics": ["fulfillment_orders/order_routing_complete",
                                          "fulfillment_orders/moved"]}  (optional topics, sent once subscribed)
    POST /_emulator/fulfillment-orders/{id}/request-status  {"request_status": "SUBMITTED"}
                                         (a fulfillment service's handshake; SUBMITTED/ACCEPTED block moves)

Order ids in paths may be numeric or gids. Set ``OMNIBRIDGE_RECORD_REQUESTS=/path/file.jsonl`` to record every API
request (service ``"shopify"``).
"""

from connectors.shopify.emulator.app import ProductRef, ShopifyEmulator
from connectors.shopify.emulator.config import SUPPORTED_VERSIONS, ShopifyEmulatorConfig
from connectors.shopify.emulator.schema import schema_for, shopify_errors, validate_document
from connectors.shopify.emulator.state import ShopError

__all__ = [
    "SUPPORTED_VERSIONS",
    "ProductRef",
    "ShopError",
    "ShopifyEmulator",
    "ShopifyEmulatorConfig",
    "schema_for",
    "shopify_errors",
    "validate_document",
]
