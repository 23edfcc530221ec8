"""Amazon Selling Partner API connector (marketplace): metadata only. Importing this module stays cheap.

What it does: merchant-fulfilled (MFN) stock of one marketplace, read with ``searchListingsItems`` (20 SKUs a call)
and set with ``patchListingsItem`` (few SKUs) or one ``JSON_LISTINGS_FEED`` (many); orders polled from Orders v0;
shipments confirmed with ``confirmShipment`` (:mod:`connectors.amazon.shipments`); in-store pickup (ISPU) status
with ``updateShipmentStatus`` (:mod:`connectors.amazon.pickup`); returns from the returns report when
``returns_report`` is on (:mod:`connectors.amazon.returns`); titles and prices set like stock; ``ORDER_CHANGE`` and
``LISTINGS_ITEM_MFN_QUANTITY_CHANGE`` notifications through a forwarder, and with ``feed_notifications``
``FEED_PROCESSING_FINISHED``, which ends a feed's wait (:mod:`connectors.amazon.feed_subscription`; ``getFeed``
polling is the fallback). Amazon has no compare-and-set and no
per-write reference, so this connector never reports stock changes as movements (no ``StockChangeEvent``): a
quantity notification is a ``StockObservedEvent``, a level the engine re-reads and reconciles.

Notifications: Amazon does not sign them. It delivers ``ORDER_CHANGE`` (and the listings notifications) to an SQS
queue whose *queue policy* (the
grant of ``sqs:SendMessage`` to Amazon's SP-API principal) is what makes a message authentic. omnibridge expects a
small forwarder you run next to the queue that receives each message and POSTs its body unchanged to omnibridge's
webhook URL with ``X-Omnibridge-Forwarder-Signature: base64(HMAC-SHA256(forwarder_secret, body))``, and deletes
the message after a 2xx answer. Example (AWS Lambda with an SQS trigger)::

    import base64, hashlib, hmac, os, urllib.request

    def handler(event, context):
        secret = os.environ["FORWARDER_SECRET"].encode()
        for record in event["Records"]:
            body = record["body"].encode()
            signature = base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()
            request = urllib.request.Request(os.environ["OMNIBRIDGE_WEBHOOK_URL"], data=body, method="POST",
                headers={"Content-Type": "application/json", "X-Omnibridge-Forwarder-Signature": signature})
            urllib.request.urlopen(request, timeout=10)   # raises on non-2xx: SQS redelivers the message
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.amazon.settings import AmazonSettings
from omnibridge.sdk import Capability, ConnectorKind, ConnectorSpec, EmulatorHook, EmulatorOptions, EmulatorServer

if TYPE_CHECKING:
    from connectors.amazon.client import AmazonConnector

__all__ = ["AmazonSettings", "connector", "create_client"]
__version__ = "0.1.0"


def create_client(settings: AmazonSettings) -> AmazonConnector:
    """Build a live :class:`~connectors.amazon.client.AmazonConnector` from validated settings."""
    from connectors.amazon.client import AmazonConnector

    return AmazonConnector(settings)


def serve_emulator(options: EmulatorOptions) -> EmulatorServer:
    """The spec's emulator hook: ``omnibridge emulator amazon`` (imports the emulator only when called)."""
    from connectors.amazon.emulator.serve import build

    return build(options)


connector = ConnectorSpec(
    id="amazon",
    label="Amazon Seller Central (SP-API)",
    kind=ConnectorKind.MARKETPLACE,
    settings_model=AmazonSettings,
    capabilities=frozenset(
        {
            Capability.INVENTORY_READ,
            Capability.INVENTORY_WRITE,
            Capability.ORDERS_READ,
            Capability.FULFILLMENT_WRITE,
            Capability.WEBHOOKS,
            Capability.LISTINGS_WRITE,
            Capability.PRICES_WRITE,
        }
    ),
    factory=create_client,
    version=__version__,
    description=(
        "Amazon SP-API marketplace: merchant-fulfilled quantities read 20 SKUs a call (searchListingsItems) and set "
        "via patchListingsItem or one JSON_LISTINGS_FEED for many SKUs (absolute writes, no compare-and-set), "
        "Orders v0 polling, shipment confirmation (confirmShipment with carrier code, tracking number and supply "
        "source), in-store pickup status (updateShipmentStatus), returns from the returns report (opt-in), titles "
        "and prices, ORDER_CHANGE, LISTINGS_ITEM_MFN_QUANTITY_CHANGE and FEED_PROCESSING_FINISHED notifications "
        "through a signing SQS forwarder."
    ),
    docs_url="https://developer-docs.amazon.com/sp-api/",
    emulator=EmulatorHook(
        build=serve_emulator,
        default_port=8803,
        description="Amazon SP-API with LWA: every SKU listed at 0",
        settings={
            "feed_processing_s": "seconds a JSON_LISTINGS_FEED stays IN_PROGRESS (default 0.5)",
            "listing_delay_s": "seconds until an accepted listings change shows in reads (default 120)",
            "report_processing_s": "seconds a requested report (the returns report) takes to build (default 0.5)",
        },
    ),
)
