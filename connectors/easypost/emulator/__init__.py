"""A local emulator of EasyPost's v2 API (Shipments, Trackers, Events) with signed webhooks.

Usage::

    from connectors.easypost.emulator import EasyPostEmulator, EasyPostEmulatorConfig

    emu = EasyPostEmulator(EasyPostEmulatorConfig(webhook_url="http://127.0.0.1:8000/webhooks/easypost"))
    # serve emu.app (ASGI); point EasyPostSettings(base_url=<url>/v2, api_key=emu.config.api_key) at it
    emu.advance_tracking("EZ1000000001")       # one tracking step on + a signed tracker.updated Event
    await emu.webhooks.drain()

Served API (``emu.app``), every call with the API key as a Bearer token or as the HTTP Basic user (empty password):

==================================  =====================================================================
``POST /v2/shipments``              create a Shipment with rates from the carrier accounts (USPS, UPS,
                                    FedEx, DHLExpress); 422 naming the field for a bad address/parcel
``GET  /v2/shipments/{id}``         retrieve
``POST /v2/shipments/{id}/buy``     buy ``{"rate":{"id"}}`` once; again → 422 ``SHIPMENT.POSTAGE.EXISTS``
``POST /v2/trackers``               create, or return the existing tracker for the same code and carrier
``GET  /v2/trackers/{id}``          retrieve
``GET  /v2/shipments|trackers|events``  list (``page_size``, ``before_id``); over 5 req/s → 429
==================================  =====================================================================

Errors are ``{"error":{"code","message","errors":[{"field","message","suggestion"}]}}``; a wrong key is 401
``APIKEY.INACTIVE``. Webhook Events (``tracker.created`` on buy/track, ``tracker.updated`` on every advance)
carry ``X-Hmac-Signature: hmac-sha256-hex=…``. With ``OMNIBRIDGE_RECORD_REQUESTS`` set, every request is
appended to that file (service ``"easypost"``).

Control API (no auth, JSON):

======================================  ===================================================================
``GET  /_emulator/state``               accounts, shipments (labels_bought), trackers, calls, counters
``GET  /_emulator/events``              every Event built; ``GET /_emulator/webhooks``: deliveries
``GET  /_emulator/labels-bought?shipment_id=``  ``{"labels_bought": n}``
``POST /_emulator/advance``             ``{"tracking_code"}`` → ``{"status"}`` (sends tracker.updated)
``POST /_emulator/webhook-url``         ``{"url"}``
``POST /_emulator/fail-next``           ``{"status", "count"?}``: next API requests answer that error
``POST /_emulator/lose-next``           ``{"count"?}``: next writes are applied, then answered 503
``POST /_emulator/drain``               wait until queued webhooks are delivered or given up
======================================  ===================================================================
"""

from connectors.easypost.emulator.app import EasyPostEmulator
from connectors.easypost.emulator.config import DEFAULT_ACCOUNTS, EasyPostEmulatorConfig
from connectors.easypost.emulator.state import TEST_CODES, ApiError

__all__ = ["DEFAULT_ACCOUNTS", "TEST_CODES", "ApiError", "EasyPostEmulator", "EasyPostEmulatorConfig"]
