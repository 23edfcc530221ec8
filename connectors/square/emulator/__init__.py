"""A local emulator of Square's Connect v2 API (Locations, Catalog, Inventory, Orders) with signed webhooks.

Usage::

    from connectors.square.emulator import SquareEmulator, SquareEmulatorConfig

    emu = SquareEmulator(SquareEmulatorConfig(notification_url="http://127.0.0.1:8000/webhooks/square"))
    loc = emu.add_location("Downtown store")
    emu.add_variation(sku="TENT-2P-GRN", name="Trail tent", price_cents=19900, currency="USD")
    emu.set_count("TENT-2P-GRN", loc, 10)
    emu.pos_sale(loc, [("TENT-2P-GRN", 1)])      # order.updated + inventory.count.updated
    emu.online_order(loc, [("TENT-2P-GRN", 1)], {"display_name": "Jaiden Urie", "address": {...}})  # order.created
    await emu.webhooks.drain()

Served API (``emu.app``, ASGI), every call with ``Authorization: Bearer <access_token>``:

==========================================  ==================================================================
``GET  /v2/locations``                      ListLocations
``POST /v2/catalog/search``                 SearchCatalogObjects (exact/set/prefix query on sku, name, upc)
``POST /v2/catalog/batch-retrieve``         BatchRetrieveCatalogObjects
``POST /v2/catalog/object``                 UpsertCatalogObject (existing ITEM / ITEM_VARIATION, version-checked)
``POST /v2/inventory/changes/batch-create`` BatchChangeInventory (≤100 changes, idempotency_key, 24 h window)
``POST /v2/inventory/counts/batch-retrieve`` BatchRetrieveInventoryCounts (newest calculated_at first)
``POST /v2/inventory/changes/batch-retrieve`` BatchRetrieveInventoryChanges (oldest occurred_at first)
``POST /v2/orders``                         CreateOrder (catalog or custom lines, fulfillments, idempotency_key)
``POST /v2/orders/search``                  SearchOrders (≤10 locations, sort field = filtered time field)
``POST /v2/orders/batch-retrieve``          BatchRetrieveOrders
``GET  /v2/orders/{order_id}``              RetrieveOrder
``PUT  /v2/orders/{order_id}``              UpdateOrder (fulfillment states forward only, ``version`` checked, the
                                            idempotency key replayed, PICKUP ``pickup_details`` checked; see
                                            ``order_updates`` and ``pickups``); fires ``order.fulfillment.updated``
``POST /v2/refunds``                        RefundPayment (money only; ``refund.created``/``refund.updated``)
``GET  /v2/refunds/{refund_id}``            GetPaymentRefund (see ``refunds``)
==========================================  ==================================================================

Every body is validated against the operation's schema in the vendored OpenAPI spec
(:func:`validate_request`); errors are Square's ``{"errors":[{"category","code","detail","field"}]}``.
Wrong token → 401 ``UNAUTHORIZED``; over the token bucket → 429 ``RATE_LIMITED`` (no Retry-After); injected
faults → 503 ``SERVICE_UNAVAILABLE``. With ``OMNIBRIDGE_RECORD_REQUESTS`` set, every request is appended to that
file (service ``"square"``).

Control API (no auth, JSON):

=========================================  =======================================================================
``GET  /_emulator/state``                  locations, variations (id, sku, name), counts, orders, calls, URL
``GET  /_emulator/calls``                  API calls per ``"METHOD /path"`` and ``rate_limited``
``GET  /_emulator/changes``                every inventory change applied, in arrival order
``GET  /_emulator/quantity?sku=&location_id=``  ``{"quantity": n}`` (IN_STOCK)
``GET  /_emulator/listing?sku=``           ``{"sku","title","price","currency"}``: item name, price (decimal)
``GET  /_emulator/webhooks``               deliveries with attempts; ``GET /_emulator/events``: event bodies
``POST /_emulator/locations``              ``{"name"}`` → ``{"id"}``
``POST /_emulator/variations``             ``{"sku","name","price_cents","currency"?}`` → ``{"id"}``
``POST /_emulator/counts``                 ``{"sku","location_id","quantity"}``: seed, no webhook
``POST /_emulator/pos-sale``               ``{"location_id","lines":[{"sku","quantity"}]}`` → ``{"order"}``
``POST /_emulator/orders``                 ``{"location_id","lines":[{"sku","quantity"}],"recipient",
                                           "fulfillment_type"?,"reference_id"?}``: an online order to ship (OPEN,
                                           SHIPMENT fulfillment PROPOSED), fires order.created → ``{"order"}``
``POST /_emulator/receive``                ``{"location_id","sku","quantity"}``: NONE→IN_STOCK adjustment
``POST /_emulator/physical-count``         ``{"location_id","sku","quantity"}``: a stock take
``POST /_emulator/orders/{id}/state``      ``{"state"}`` (e.g. CANCELED) → ``{"order"}``, fires order.updated
``POST /_emulator/orders/{id}/fulfillment-state``  ``{"state"}`` (e.g. COMPLETED) of its fulfillments, order
                                           stays OPEN → ``{"order"}``, fires order.updated
``POST /_emulator/webhook-url``            ``{"url"}``: the subscribed webhook URL
``POST /_emulator/redeliver``              ``{"event_type"?}``: resend the last delivery (same event_id)
``POST /_emulator/knobs``                  any of ``latency_ms``, ``error_rate``, ``fail_next``,
                                           ``requests_per_second``, ``burst``, ``webhooks{duplicate_next,
                                           duplicate_rate, delay_s, fail_first_attempts, max_attempts,
                                           retry_backoff_s}`` → the current knobs
``POST /_emulator/drain``                  wait until queued webhooks are delivered or given up
=========================================  =======================================================================

Pickups, payments and returns at the till (``/_emulator/pickup-orders``, ``/_emulator/orders/{id}/till-pickup``,
``/pay``, ``/till-return``): see :mod:`connectors.square.emulator.control_pickups`.
"""

from connectors.square.emulator.app import SquareEmulator
from connectors.square.emulator.config import SquareEmulatorConfig
from connectors.square.emulator.openapi import SquareError, request_errors, validate_request

__all__ = ["SquareEmulator", "SquareEmulatorConfig", "SquareError", "request_errors", "validate_request"]
