"""Notifications API v1 of the Amazon emulator: destinations (grantless) and subscriptions (seller-authorized).

The emulator cannot write to SQS or EventBridge. A destination records the queue or event bus the application named;
the notifications themselves are POSTed, signed, to the emulator's ``notification_url`` (standing in for the
SQS → forwarder hop, see :mod:`connectors.amazon.emulator.notifications`). ``subscription_ids`` is what the
emulator writes into each notification's ``SubscriptionId``: the created subscription once there is one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from connectors.amazon.emulator.common import ApiError, invalid_input, not_found

__all__ = ["GRANTLESS_OPERATIONS", "NOTIFICATION_TYPES", "Subscriptions"]

NOTIFICATION_TYPES = ("ORDER_CHANGE", "FEED_PROCESSING_FINISHED", "LISTINGS_ITEM_MFN_QUANTITY_CHANGE")
GRANTLESS_OPERATIONS = frozenset({"getDestinations", "createDestination", "getDestination", "deleteDestination"})


class Subscriptions:
    """Destinations and one subscription per notification type; ``new_id()`` makes identifiers."""

    def __init__(self, new_id: Callable[[], str]) -> None:
        self._new_id = new_id
        self.destinations: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.subscription_ids = {kind: f"subscription-{new_id()}" for kind in NOTIFICATION_TYPES}

    def create_destination(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """``createDestination``: 409 when a destination for the same resource exists (as Amazon answers)."""
        name, spec = body.get("name"), body.get("resourceSpecification")
        if not isinstance(name, str) or not name:
            raise invalid_input("'name' is required.", "name")
        if not isinstance(spec, dict) or len(spec) != 1 or not ({"sqs", "eventBridge"} & set(spec)):
            raise invalid_input("'resourceSpecification' must name one resource: sqs or eventBridge.")
        resource = dict(spec)
        if "eventBridge" in spec:
            bridge = spec["eventBridge"]
            resource = {"eventBridge": {**bridge, "name": f"aws.partner/sellingpartnerapi.amazon.com/{name}"}}
        for existing in self.destinations.values():
            if existing["resource"] == resource:
                raise ApiError(409, "Conflict", "A destination with this resource already exists.")
        destination_id = self._new_id()
        destination: dict[str, Any] = {"destinationId": destination_id, "name": name, "resource": resource}
        self.destinations[destination_id] = destination
        return destination

    def create_subscription(self, notification_type: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``createSubscription``: 409 when the type already has one (``getSubscription`` shows it)."""
        if notification_type not in NOTIFICATION_TYPES:
            raise invalid_input(f"The emulator publishes {', '.join(NOTIFICATION_TYPES)}, not {notification_type!r}.")
        destination_id, version = body.get("destinationId"), body.get("payloadVersion")
        if not isinstance(version, str) or not version:
            raise invalid_input("'payloadVersion' is required.", "payloadVersion")
        if destination_id not in self.destinations:
            raise invalid_input(f"'destinationId' {destination_id!r} is not a destination of this application.")
        if notification_type in self.subscriptions:
            raise ApiError(409, "Conflict", "A subscription for this notification type already exists.")
        subscription: dict[str, Any] = {
            "subscriptionId": self._new_id(),
            "payloadVersion": version,
            "destinationId": destination_id,
        }
        if isinstance(body.get("processingDirective"), dict):
            subscription["processingDirective"] = body["processingDirective"]
        self.subscriptions[notification_type] = subscription
        self.subscription_ids[notification_type] = subscription["subscriptionId"]
        return subscription

    def get_subscription(self, notification_type: str) -> dict[str, Any]:
        """``getSubscription``: 404 when the type has none."""
        found = self.subscriptions.get(notification_type)
        if found is None:
            raise not_found(f"No subscription for {notification_type}.")
        return found
