"""A local emulator of Amazon's Selling Partner API (LWA, Orders v0, Listings Items 2021-08-01, Feeds 2021-06-30,
Reports 2021-06-30 for the returns report).

Usage (in process, with a fake clock)::

    from connectors.amazon.emulator import AmazonEmulator, AmazonEmulatorConfig

    emu = AmazonEmulator(AmazonEmulatorConfig(notification_url="http://127.0.0.1:8000/webhooks/amazon"))
    emu.control.seed_listing("TENT-2P-GRN", title="Trail tent", price="199.00", quantity=10)
    order_id = emu.control.create_order("TENT-2P-GRN", 1)          # Unshipped MFN order, ORDER_CHANGE and
                                                                    # LISTINGS_ITEM_MFN_QUANTITY_CHANGE sent
    emu.control.cancel_order(order_id)                              # Canceled, ORDER_CHANGE sent
    transport = httpx.ASGITransport(app=emu.app)                    # or: async with run_server(emu.app) as srv
    await emu.control.drain()                                       # wait for notification deliveries

Constructor: ``AmazonEmulator(config=None, clock=None, *, monotonic=None, webhook_transport=None,
webhook_knobs=None, recorder=None)``. ``clock()`` is the aware UTC wall time (timestamps, token and upload-URL
expiry, feed processing); ``monotonic()`` drives the rate-limit buckets (both default to the real clocks).
Serve it with ``omnibridge.sdk.emulator.run_server(emu.app)`` (tests) or ``serve_forever(emu.app, port=...)``.
The same app serves LWA, the SP-API, the "S3" upload/download URLs and the control API, so a client's
settings use the server URL both as ``endpoint`` and as ``lwa_endpoint`` (``<url>/auth/o2/token``).

Config (:class:`AmazonEmulatorConfig`): ``seller_id``, ``marketplace_id`` (default ``ATVPDKIKX0DER``),
``currency``; the accepted LWA credentials ``client_id``, ``client_secret``, ``refresh_token``;
``token_lifetime_s`` (3600); ``rate_scale`` (1.0 = Amazon's default usage plans; e.g. 100.0 refills 100x faster,
bursts unchanged) and ``rate_limits`` (per-operation ``(rate, burst)`` overrides); ``feed_processing_s`` (0.5:
IN_QUEUE for the first half, IN_PROGRESS for the second, then DONE/FATAL); ``upload_url_ttl_s`` (300);
``report_compression`` (``None`` or ``"GZIP"``); ``orders_lag_s`` (0: how far behind "now" getOrders' upper bound
is when the request gives none); ``notification_url`` + ``forwarder_secret`` (notification delivery);
``mfn_quantity_notifications`` (True: LISTINGS_ITEM_MFN_QUANTITY_CHANGE after buyer orders); ``supply_source_ids``
(the seller's supply sources, valid ``shipFromSupplySourceId`` values); ``public_url`` (base
of the pre-signed URLs; default: the URL the request came in on); ``latency_ms``, ``error_rate``, ``seed``.

Served API (every SP-API call needs ``x-amz-access-token: Atza|...`` issued by the LWA endpoint and still live;
missing/unknown/expired → 403 ``{"errors":[{"code":"Unauthorized",...}]}``)::

    POST /auth/o2/token                                   LWA, form-encoded; grant_type=refresh_token (client_id,
                                                          client_secret, refresh_token) or client_credentials
                                                          (client_id, client_secret, scope) → {"access_token":
                                                          "Atza|…","token_type":"bearer","expires_in":3600,
                                                          "refresh_token"?}; errors {"error",
                                                          "error_description"}: bad refresh token → 400
                                                          invalid_grant, bad client id/secret → 401
                                                          invalid_client, missing field or JSON body → 400
                                                          invalid_request, other grants → 400
                                                          unsupported_grant_type, bad scope → 400 invalid_scope;
                                                          a client_credentials (grantless) token gets 403 on
                                                          the seller operations below
    GET  /orders/v0/orders                                getOrders (MarketplaceIds + CreatedAfter|LastUpdatedAfter,
                                                          or MarketplaceIds + NextToken) → {"payload":{"Orders",
                                                          "NextToken"?, "LastUpdatedBefore"|"CreatedBefore"}}
    GET  /orders/v0/orders/{orderId}                      getOrder → {"payload": Order}
    GET  /orders/v0/orders/{orderId}/orderItems           getOrderItems (NextToken paging, 2 items a page so
                                                          clients exercise it)
    POST /orders/v0/orders/{orderId}/shipmentConfirmation confirmShipment (ConfirmShipmentRequest validated; 204;
                                                          the same packageReferenceId edits the package; the order
                                                          PartiallyShipped, then Shipped; see .shipments)
    POST /orders/v0/orders/{orderId}/shipment             updateShipmentStatus (in-store pickup orders only;
                                                          ReadyForPickup, then PickedUp → Shipped or
                                                          RefusedPickup → Canceled; 204; see .pickup)
    GET  /orders/2026-01-01/orders/{orderId}              getOrder of Orders 2026-01-01 (includedData=PACKAGES:
                                                          the confirmed packages)
    GET  /listings/2021-08-01/items/{sellerId}            searchListingsItems (marketplaceIds; identifiers ≤ 20 +
                                                          identifiersType SKU|ASIN|..., pageSize 1..20 default 10,
                                                          pageToken, includedData, sortBy/sortOrder, created*/
                                                          lastUpdated* dates, withStatus/withoutStatus) →
                                                          ItemSearchResults {numberOfResults, pagination?
                                                          {nextToken, previousToken}, items: [Item]}; unknown
                                                          identifiers are simply absent; 400 InvalidInput for
                                                          > 20 identifiers, identifiers without identifiersType
                                                          (or the reverse), pageSize out of range, a foreign
                                                          pageToken (see connectors.amazon.emulator.search)
    GET  /listings/2021-08-01/items/{sellerId}/{sku}      getListingsItem (marketplaceIds, includedData=summaries,
                                                          attributes,issues,offers,fulfillmentAvailability,
                                                          productTypes,relationships); 404 for an unknown SKU
    PATCH /listings/2021-08-01/items/{sellerId}/{sku}     patchListingsItem → ListingsItemSubmissionResponse; an
                                                          unknown SKU or bad patch → 200 status INVALID + issues;
                                                          mode=VALIDATION_PREVIEW → VALID, nothing applied;
                                                          another sellerId → 403; no body/patches → 400
    POST /feeds/2021-06-30/documents                      createFeedDocument → 201 {feedDocumentId, url}
    PUT  /_s3/{documentId}?X-Amz-...&X-Amz-Signature=…    the pre-signed upload URL (exact Content-Type, 5 min)
    GET  /_s3/{documentId}?X-Amz-...                      download a result document (processing report)
    POST /feeds/2021-06-30/feeds                          createFeed (JSON_LISTINGS_FEED) → 202 {feedId}
    GET  /feeds/2021-06-30/feeds/{feedId}                 getFeed → Feed (IN_QUEUE → IN_PROGRESS → DONE | FATAL)
    GET  /feeds/2021-06-30/documents/{feedDocumentId}     getFeedDocument → {feedDocumentId, url,
                                                          compressionAlgorithm?}
    POST /reports/2021-06-30/reports                      createReport (GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE
                                                          only, ≤ 60 days) → 202 {reportId}
    GET  /reports/2021-06-30/reports/{reportId}           getReport (IN_QUEUE → IN_PROGRESS over
                                                          report_processing_s → DONE | CANCELLED (no rows) |
                                                          FATAL (fail_next_report))
    GET  /reports/2021-06-30/documents/{reportDocumentId} getReportDocument → {reportDocumentId, url,
                                                          compressionAlgorithm?} (the TSV, see .reports)
    GET  /notifications/v1/destinations                   getDestinations (grantless token) → {payload: [Destination]}
    POST /notifications/v1/destinations                   createDestination (grantless token; {name,
                                                          resourceSpecification: {sqs: {arn}} | {eventBridge}})
                                                          → {payload: Destination}; 409 for a resource already
                                                          registered
    GET  /notifications/v1/subscriptions/{type}           getSubscription → {payload: Subscription}; 404 without one
    POST /notifications/v1/subscriptions/{type}           createSubscription ({payloadVersion, destinationId})
                                                          → {payload: Subscription}; 409 when the type has one
                                                          (see .subscriptions)

Behaviour worth knowing when writing a client:

* Rate limits: one token bucket per operation at Amazon's default usage plan (:data:`OPERATION_LIMITS`, e.g.
  getOrders 0.0167/s burst 20, patchListingsItem 5/5, getListingsItem 5/10, searchListingsItems 5/5, createFeed
  0.0083/15). Every response has
  ``x-amzn-RequestId`` and (SP-API operations) ``x-amzn-RateLimit-Limit``; over the bucket → 429
  ``{"errors":[{"code":"QuotaExceeded","message":"You exceeded your quota for the requested resource.",
  "details":""}]}`` without ``Retry-After`` (counted by ``control.refused_requests()``).
* Errors: Orders v0 → ``{"errors":[...]}`` (400 ``InvalidInput``, 404 ``NotFound``); Listings/Feeds →
  ``{"errors":[{"code","message","details"}]}``. Injected failures (``fail_next``): 500 ``InternalFailure``,
  503 ``ServiceUnavailable``, 429 ``QuotaExceeded``, any other status ``InvalidInput``-style.
* Listings: an ACCEPTED patch is applied immediately (Amazon applies it asynchronously, within minutes).
  Supported paths: ``/attributes/fulfillment_availability`` (``[{fulfillment_channel_code:"DEFAULT",
  quantity}]``), ``/attributes/purchasable_offer`` (``[{marketplace_id?, currency, audience?, our_price:
  [{schedule:[{value_with_tax}]}]}]``), ``/attributes/item_name`` (``[{value, language_tag?,
  marketplace_id?}]``); any other ``/attributes/<name>`` is stored as is. ``merge`` on fulfillment_availability
  updates only the fields given.
* Orders: MFN; statuses Pending, Unshipped, Shipped, Canceled (``create_order`` default Unshipped); dates are
  ISO 8601 UTC seconds (``2026-03-02T15:00:00Z``); a ``CreatedBefore``/``LastUpdatedBefore`` later than two
  minutes ago → 400 InvalidInput (as the model says); results are sorted by the filtered date. Creating an
  order takes its quantity off the listing's DEFAULT fulfillment_availability; cancelling an unshipped order puts
  it back. ``NextToken`` is opaque and only valid for the query that issued it; the other filters are ignored
  when it is given (MarketplaceIds is still required).
* Feeds: JSON_LISTINGS_FEED only. The uploaded document is validated against ``listings-feed-schema-v2.json``
  (1..25,000 messages); an unparseable/invalid document, or none uploaded, → FATAL with a processing report.
  Messages PATCH / PARTIAL_UPDATE / UPDATE / DELETE are applied like patchListingsItem; an unknown SKU → an ERROR
  issue (``messageId``, ``sku``, ``code`` "4000004") and ``messagesInvalid``; a bad patch value → ERROR with
  ``attributeName``. Issue codes are the emulator's own (Amazon's are undocumented): 4000001 malformed patch,
  90001 invalid attribute value, 4000003 FATAL document, 4000004 unknown SKU. The report validates against
  ``listings-feed-processing-report-schema-v2.json``. Processing happens lazily when time passes the processing
  delay (checked on every request and control call, and by a background task when an event loop runs).
* Notifications: ORDER_CHANGE (PascalCase, ``NotificationMetadata.NotificationId``) on order create/status
  change; LISTINGS_ITEM_MFN_QUANTITY_CHANGE (PascalCase, ``Payload{SellerId, FulfillmentChannelCode: "DEFAULT",
  Sku, Quantity}``) right after it for each SKU whose DEFAULT quantity a buyer order changed (placed, or cancelled
  before shipping). Amazon documents it for any change of the quantity; the emulator leaves out the seller's own
  patches and feeds, so a bulk write does not answer with one notification per SKU. FEED_PROCESSING_FINISHED
  (camelCase) when a feed ends (after its ``feed_processing_s``). The emulator cannot write to SQS or
  EventBridge: a destination only records the queue named, and every notification goes the way below, which
  stands in for the queue and the merchant's forwarder; its ``SubscriptionId`` is the created subscription's once
  there is one. Each is appended to the queue
  (``control.notifications()``) and, when ``notification_url`` is set, POSTed there as the SQS message body by a
  forwarder: header ``X-Omnibridge-Forwarder-Signature`` = base64 HMAC-SHA256(forwarder_secret, raw body),
  ``X-Omnibridge-Notification-Id``; retried until 2xx (at-least-once), duplicates via ``webhooks.knobs``.

Control back door, Python (``emu.control``, an :class:`AmazonControl`, also an
:class:`omnibridge.testing.harness.EmulatorControl`)::

    seed_listing(sku, *, title=None, price=None, quantity=0, product_type="PRODUCT") -> None
    create_order(sku=None, quantity=1, *, status="Unshipped", price=None, lines=None, pickup_at=None) -> str
        (AmazonOrderId; lines=[(sku, qty), ...] for several items; pickup_at=supply source id: an in-store
        pickup order, IsISPU; KeyError for an SKU that has no listing);  pickup_status(order_id) -> str | None
    set_order_status(order_id, status) / ship_order(order_id) / cancel_order(order_id) -> dict  (the Order)
    order(order_id) -> dict;  order_ids() -> list[str];  order_items(order_id) -> [OrderItem dicts]
    packages(order_id) -> {packageReferenceId: PackageDetail};  add_supply_source(supply_source_id) -> None
    listing_quantity(sku) -> int | None;  listing_title(sku) -> str | None;  listing_price(sku) -> str | None
    listing(sku) -> (title, price);  has_listing(sku) -> bool;  listing_attributes(sku) -> dict
    calls() -> {"getOrders": 3, "patchListingsItem": 12, ...}  (requests that passed auth and the rate limit)
    api_requests() -> int  (every SP-API request);  refused_requests() -> int  (429s from the buckets only)
    feeds() -> [Feed dicts];  report(feed_id) -> dict | None;  feed_document(feed_id) -> bytes | None
    uploaded_documents() -> {feedDocumentId: bytes}  (the exact bodies PUT to the upload URLs)
    add_return(sku, quantity=1, *, order_id=None, status="Approved", requested_at=None, rma_id=None,
        reason="UNWANTED_ITEM", delivered_at=None, refunded=None, **columns) -> dict  (a returns report row)
    add_raw_return_row(line, *, requested_at=None);  fail_next_report(count=1);  reports() -> [Report dicts]
    process_feeds() -> None   (finish every pending feed now, whatever the clock says)
    notifications() -> [bodies];  issue_access_token() -> str;  expire_access_tokens() -> None
    fail_next(status, *, count=1);  lose_next_response(*, count=1);  set_notification_url(url)
    async drain(timeout=30.0)   (wait for queued notification deliveries)
    EmulatorControl hooks: seed_stock(sku, location_ref, quantity), shown_stock(sku, location_ref),
    place_order(sku, location_ref, quantity) -> order id, order_cancelled(order_id), listing(sku)
    (``location_ref`` is ignored: Amazon has one merchant-fulfilled quantity per SKU)

Control API over HTTP (no auth, JSON in/out; 400 ``{"error": "..."}`` on bad input)::

    GET  /_emulator/state                         listings, orders, feeds, calls, refused_requests,
                                                 supply_source_ids, packages (by order id)
    POST /_emulator/supply-sources                {"id"} → {"supply_source_ids"} (a valid shipFromSupplySourceId)
    POST /_emulator/returns                       {"sku","quantity"?,"order_id"?,"status"?,"requested_at"?,
                                                 "rma_id"?,"reason"?,"delivered_at"?,"refunded"?} → the row
    GET  /_emulator/reports                       [Report] (as getReport shows them now)
    GET  /_emulator/calls                         {"calls": {...}, "refused_requests": n, "api_requests": n}
    GET  /_emulator/listings/{sku}                {"sku","title","price","quantity"} (404 when unknown)
    POST /_emulator/listings                      {"sku","title"?,"price"?,"quantity"?}
    POST /_emulator/orders                        {"sku","quantity"?,"status"?,"price"?,"pickup_at"?} →
                                                 {"AmazonOrderId"} (pickup_at: in-store pickup at that source)
    POST /_emulator/orders/{orderId}/status       {"status"} → the Order
    GET  /_emulator/feeds                         [Feed]
    POST /_emulator/feeds/process                 finish pending feeds now
    GET  /_emulator/notifications                 [notification bodies]
    POST /_emulator/fail-next                     {"status", "count"?}
    POST /_emulator/lose-next                     {"count"?}
    POST /_emulator/webhook-url                   {"url"}
    POST /_emulator/knobs                         any of latency_ms [lo, hi], error_rate, webhooks{duplicate_next,
                                                 duplicate_rate, delay_s, fail_first_attempts, max_attempts,
                                                 retry_backoff_s} → the current knobs
    POST /_emulator/drain                         wait for queued deliveries

With ``OMNIBRIDGE_RECORD_REQUESTS`` set every request (LWA, SP-API and the S3 PUT with the uploaded document
as body) is appended to that file with service ``"amazon"`` and the path as sent (still percent-encoded, so a SKU
holding ``/`` stays one segment); :mod:`connectors.amazon.spec_check` validates it.
"""

from connectors.amazon.emulator.app import AmazonEmulator
from connectors.amazon.emulator.config import AmazonEmulatorConfig
from connectors.amazon.emulator.control import AmazonControl
from connectors.amazon.emulator.ratelimit import OPERATION_LIMITS

__all__ = ["OPERATION_LIMITS", "AmazonControl", "AmazonEmulator", "AmazonEmulatorConfig"]
