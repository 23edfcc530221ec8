"""A local emulator of ShipBob's 1.0 API, held to the official OpenAPI document (connectors/shipbob/specs).

Served API (``emu.app``), every call with ``Authorization: Bearer <token>`` (else 401), 150 calls per sliding
minute across all of them (over it: 429 ``Rate limit is exceeded. Try again in N seconds`` with ``x-retry-after``;
every answer carries ``x-remaining-calls``). Every request is checked against the spec (headers, query, body:
a violation is 400 ``{"field": ["message"]}``) and every answer is built in the spec's shapes.

================================  ======================================================================
``GET  /1.0/channel``             the token's channel
``GET  /1.0/fulfillmentCenter``   the fulfilment centres
``GET  /1.0/product``             products with fulfillable/on hand/committed per centre (``ReferenceIds``,
                                  ``Page``, ``Limit``; ``next-page`` header)
``POST /1.0/order``               create (``shipbob_channel_id`` header); a repeated ``reference_id`` is
                                  422 ``Duplicate reference ID...``
``GET  /1.0/order``               list (``ReferenceIds``, ``IDs``, ``LastUpdateStartDate``, ``SortOrder``)
``GET  /1.0/order/{id}``          one order with its shipments; ``/shipment``: its shipments
``POST /1.0/order/{id}/cancel``   cancel (sends ``shipment_cancelled``)
``GET  /1.0/shipment/{id}``       one shipment (with its order's ``reference_id`` and products)
``GET  /1.0/return``              return orders (``IDs``, ``ReferenceIds``, ``Status``, ``FulfillmentCenterIds``,
                                  ``OriginalShipmentIds``, ``StartDate``/``EndDate`` on the insert date; paged)
``POST /1.0/return``              create (``CreateReturn``: centre, inventory ids with requested action)
``GET  /1.0/return/{id}``         one return; ``POST /1.0/return/{id}/cancel`` cancels it before processing
``GET|POST /1.0/webhook``         subscriptions ``{topic, subscription_url}``; ``DELETE /1.0/webhook/{id}``
================================  ======================================================================

Webhooks (the ``Shipment`` as body) are signed Standard-Webhooks style: ``webhook-id``, ``webhook-timestamp``,
``webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` and ``x-webhook-topic``.

Control API (no auth, JSON): ``GET /_emulator/state``, ``GET /_emulator/webhooks``, ``POST /_emulator/inventory``
``{sku, fulfillment_center_id, on_hand}``, ``POST /_emulator/orders/{order}/ship`` ``{carrier?}`` (``order``: the
order id or its reference_id), ``POST /_emulator/orders/{order}/cancel``, ``POST /_emulator/webhook-url`` ``{url}``,
``POST /_emulator/fail-next`` ``{status, count?}``, ``POST /_emulator/lose-next`` ``{count?}``,
``POST /_emulator/latency`` ``{min_ms, max_ms}``, ``POST /_emulator/drain``; returns (see :mod:`.returns`):
``POST /_emulator/returns`` ``{order, items?: [[sku, quantity, action]], fulfillment_center_id?,
tracking_number?}`` (a customer's return of a shipped order, AwaitingArrival), ``POST /_emulator/returns/{id}/arrive``,
``POST /_emulator/returns/{id}/process`` ``{taken?: {sku: [[action, quantity]]}}`` (Completed; default: the
requested action, Default meaning Restock; Restock puts units back on hand).
"""

from connectors.shipbob.emulator.app import ShipBobEmulator, ShipBobEmulatorConfig
from connectors.shipbob.emulator.state import DEFAULT_CENTRES, ApiError, Centre

__all__ = ["DEFAULT_CENTRES", "ApiError", "Centre", "ShipBobEmulator", "ShipBobEmulatorConfig"]
