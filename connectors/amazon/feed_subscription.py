"""Subscribing to ``FEED_PROCESSING_FINISHED`` (Notifications API v1), so a feed's end is pushed, not polled.

Once per connector, before its first feed, with ``feed_notifications`` and ``notification_destination_arn`` set::

    getDestinations (grantless) ─► the destination of that SQS queue, or createDestination (grantless)
        ─► getSubscription(FEED_PROCESSING_FINISHED) ─► 404: createSubscription(payloadVersion 2020-09-04)

Both steps find what a previous run made, so a restart subscribes nothing twice. The notifications reach omnibridge
from the queue through the merchant's signing forwarder (see :mod:`connectors.amazon.notifications`). A failure
is logged once and leaves the feeds on ``getFeed`` polling, which is always the fallback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.amazon.notifications import FEED_PROCESSING_FINISHED
from omnibridge.sdk import ConnectorError, FatalConnectorError, get_logger

if TYPE_CHECKING:
    from connectors.amazon.client import AmazonApi
    from connectors.amazon.settings import AmazonSettings

NOTIFICATIONS_PATH = "/notifications/v1"
GRANTLESS_NOTIFICATIONS_SCOPE = "sellingpartnerapi::notifications"
FEED_PAYLOAD_VERSION = "2020-09-04"
DESTINATION_NAME = "omnibridge"


class FeedSubscription:
    """Makes sure this application is subscribed to ``FEED_PROCESSING_FINISHED``; ``subscription_id`` once it is."""

    def __init__(self, api: AmazonApi, settings: AmazonSettings) -> None:
        self._api = api
        self._settings = settings
        self._tried = False
        self.subscription_id: str | None = None

    @property
    def wanted(self) -> bool:
        """Whether notifications are configured (``feed_notifications`` with a destination queue)."""
        return self._settings.feed_notifications and self._settings.notification_destination_arn is not None

    async def ensure(self) -> str | None:
        """Subscribe once (later calls return at once); the subscription id, or None when not configured or
        when Amazon refused (logged, feeds are then polled)."""
        if self._tried or not self.wanted:
            return self.subscription_id
        self._tried = True
        try:
            destination_id = await self._destination()
            self.subscription_id = await self._subscription(destination_id)
        except ConnectorError as exc:
            get_logger("connectors.amazon").warning("amazon.feeds.subscription_failed", error=str(exc))
        return self.subscription_id

    async def _grantless(self, operation: str, method: str, path: str, body: Any = None) -> Any:
        token = await self._api.grantless_tokens.token()
        _, answer = await self._api.call(operation, method, path, json=body, restricted_token=token)
        return answer

    async def _destination(self) -> str:
        arn = self._settings.notification_destination_arn
        listed = await self._grantless("getDestinations", "GET", f"{NOTIFICATIONS_PATH}/destinations")
        for destination in _payload(listed, "getDestinations") or []:
            resource = destination.get("resource") if isinstance(destination, dict) else None
            sqs = resource.get("sqs") if isinstance(resource, dict) else None
            if isinstance(sqs, dict) and sqs.get("arn") == arn:
                return str(destination["destinationId"])
        created = await self._grantless(
            "createDestination",
            "POST",
            f"{NOTIFICATIONS_PATH}/destinations",
            {"name": DESTINATION_NAME, "resourceSpecification": {"sqs": {"arn": arn}}},
        )
        return str(_payload(created, "createDestination")["destinationId"])

    async def _subscription(self, destination_id: str) -> str:
        path = f"{NOTIFICATIONS_PATH}/subscriptions/{FEED_PROCESSING_FINISHED}"
        status, found = await self._api.call("getSubscription", "GET", path, expected=(404,))
        if status == 200:
            return str(_payload(found, "getSubscription")["subscriptionId"])
        _, created = await self._api.call(
            "createSubscription",
            "POST",
            path,
            json={"payloadVersion": FEED_PAYLOAD_VERSION, "destinationId": destination_id},
        )
        return str(_payload(created, "createSubscription")["subscriptionId"])


def _payload(body: Any, operation: str) -> Any:
    payload = body.get("payload") if isinstance(body, dict) else None
    if payload is None:
        raise FatalConnectorError(f"{operation} answered without payload", connector="amazon", op=operation)
    return payload
