"""A local emulator of Clover's REST v3 API (merchant, items, item_stocks, orders) with X-Clover-Auth notifications.

Usage::

    from connectors.clover.emulator import CloverEmulator, CloverEmulatorConfig

    emu = CloverEmulator(CloverEmulatorConfig(notification_url="http://127.0.0.1:8000/webhooks/clover"))
    emu.add_item(sku="TENT-2P-GRN", name="Trail tent", price_cents=19900, quantity=10)
    emu.pos_sale([("TENT-2P-GRN", 2)])      # paid order, stock 10 -> 8, one message: O: CREATE + I: UPDATE
    await emu.webhooks.drain()

Serve it: ``serve_forever(emu.app, port=8766)`` (:mod:`omnibridge.sdk.emulator`), or ``run_server`` in tests.

Served API (``emu.app``, ASGI), every call with ``Authorization: Bearer <access_token>`` and a ``User-Agent``:

=================================================  ===========================================================
``GET  /v3/merchants/{mId}``                       the merchant (id, name, currency)
``GET  /v3/merchants/{mId}/items``                 ``filter=`` (sku, code, name, id, modifiedTime,
                                                   itemStock.quantity...; repeated = AND), ``expand=itemStock``,
                                                   ``limit`` (1..1000, default 100), ``offset``
``GET  /v3/merchants/{mId}/items/{itemId}``        one item (``expand=itemStock``)
``POST /v3/merchants/{mId}/items/{itemId}``        update the documented Item fields (``name``, ``price``,
                                                   ``priceType``, ``sku``, ``code``, ``hidden``, ``cost``...)
``GET|POST /v3/merchants/{mId}/item_stocks/{id}``  read / set ``{"quantity": n}`` (absolute); notifies ``I:``
``GET  /v3/merchants/{mId}/orders``                ``filter=modifiedTime>=<ms>`` etc., ``expand=lineItems``,
                                                   ``limit``/``offset``; newest ``createdTime`` first
``GET  /v3/merchants/{mId}/orders/{orderId}``      one order (``expand=lineItems``)
=================================================  ===========================================================

Errors are Clover's ``{"message": "..."}``: wrong token or merchant → 401 ``401 Unauthorized``; unknown item or
order → 404; bad body, filter or missing ``User-Agent`` → 400. Limits per token: 16 requests/s (token bucket
holding one second) and 5 in flight; over either → 429 with ``X-RateLimit-tokenLimit`` or
``X-RateLimit-tokenConcurrentLimit`` (+ ``retry-after: 1``), counted in ``refused``. With
``OMNIBRIDGE_RECORD_REQUESTS`` set, every request is appended to that file (service ``"clover"``).

Notifications: ``{"appId", "merchants": {mId: [{"objectId": "O:...|I:...", "type", "ts"}]}}`` POSTed to
``notification_url`` with ``X-Clover-Auth: <auth_code>``, retried until a 2xx (at least once).

Control API (no auth, JSON):

=========================================  ====================================================================
``GET  /_emulator/state``                  items (with itemStock), orders (with lineItems), calls, counters
``GET  /_emulator/stock?sku=``             ``{"quantity": q}`` (float)
``GET  /_emulator/listing?sku=``           ``{"name", "price"}`` (price in cents)
``GET  /_emulator/refused``                ``{"refused_requests", "api_requests"}``
``GET  /_emulator/webhooks``               deliveries with bodies and attempts
``POST /_emulator/items``                  ``{"sku","name","price"(cents),"quantity"?,"code"?}`` → ``{"id"}``
``POST /_emulator/stock``                  ``{"sku","quantity","notify"?}``: dashboard edit (notifies ``I:``
                                           unless ``notify`` is false: seeding)
``POST /_emulator/sale``                   ``{"lines":[{"sku","quantity"}]}`` → ``{"order"}``: POS sale
``POST /_emulator/orders/{id}/refund``     ``{"line_id"}`` → ``{"order"}``: refund one line, notifies ``O:``
``POST /_emulator/webhook-url``            ``{"url"}``
``POST /_emulator/knobs``                  any of ``latency_ms``, ``error_rate``, ``fail_next{status,count}``,
                                           ``lose_next_response`` (count), ``requests_per_second``,
                                           ``concurrent_limit`` → the current knobs
``POST /_emulator/drain``                  wait until queued notifications are delivered or given up
=========================================  ====================================================================
"""

from connectors.clover.emulator.app import CloverEmulator
from connectors.clover.emulator.config import CloverEmulatorConfig

__all__ = ["CloverEmulator", "CloverEmulatorConfig"]
