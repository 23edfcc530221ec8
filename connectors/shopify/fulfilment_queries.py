"""The Admin GraphQL documents of fulfilment: fulfillment orders, holds, moves, reroutes and fulfillments.

Constants, so tests compare the exact text sent and validate it against the official schema of each API version
(fulfilment-contracts A1). Requested costs stay well under 1,000 points (see
:func:`~connectors.shopify.queries.estimate_cost`).
"""

from __future__ import annotations

__all__ = [
    "FULFILLMENTS_QUERY",
    "FULFILLMENT_CREATE_MUTATION",
    "FULFILLMENT_ORDERS_PAGE",
    "FULFILLMENT_ORDERS_QUERY",
    "FULFILLMENT_ORDERS_QUERY_2024_10",
    "FULFILLMENT_ORDER_LINES_PAGE",
    "FULFILLMENT_ORDER_ORDER_QUERY",
    "HOLD_MUTATION",
    "LOCATIONS_FOR_MOVE_QUERY",
    "MOVE_MUTATION",
    "RELEASE_HOLD_MUTATION",
    "REROUTE_MUTATION",
    "REROUTE_SINCE",
    "fulfillment_orders_query",
    "supports_hold_handles",
    "supports_reroute",
]

FULFILLMENT_ORDERS_PAGE = 5
"""Fulfillment orders read per order (an order split over more locations than this is refused, not half-read)."""
FULFILLMENT_ORDER_LINES_PAGE = 40
"""Line items read per fulfillment order."""
REROUTE_SINCE = "2025-10"
"""The first API version with ``fulfillmentOrdersReroute``."""

_FULFILLMENT_ORDERS_QUERY = f"""\
query OrderFulfillmentOrders($id: ID!) {{
  order(id: $id) {{
    id
    fulfillmentOrders(first: {FULFILLMENT_ORDERS_PAGE}) {{
      nodes {{
        id
        status
        requestStatus
        supportedActions {{ action }}
        assignedLocation {{ location {{ id }} }}
        fulfillmentHolds {{ id%HANDLE% }}
        lineItems(first: {FULFILLMENT_ORDER_LINES_PAGE}) {{
          nodes {{ id remainingQuantity lineItem {{ id }} }}
          pageInfo {{ hasNextPage }}
        }}
      }}
      pageInfo {{ hasNextPage }}
    }}
  }}
}}"""

FULFILLMENT_ORDERS_QUERY = _FULFILLMENT_ORDERS_QUERY.replace("%HANDLE%", " handle")
"""Every open fulfillment order of an order, with its holds (by handle), actions and remaining units (2025-01+)."""
FULFILLMENT_ORDERS_QUERY_2024_10 = _FULFILLMENT_ORDERS_QUERY.replace("%HANDLE%", "")
"""The same for 2024-10, whose ``FulfillmentHold`` has no ``handle`` (holds stack from 2025-01)."""


def supports_hold_handles(api_version: str) -> bool:
    """True from 2025-01, where holds stack and carry an app's ``handle``."""
    return api_version >= "2025-01"


def fulfillment_orders_query(api_version: str) -> str:
    """:data:`FULFILLMENT_ORDERS_QUERY` for ``api_version``."""
    return FULFILLMENT_ORDERS_QUERY if supports_hold_handles(api_version) else FULFILLMENT_ORDERS_QUERY_2024_10


# Order.fulfillments is a plain list: asked without a size, every fulfillment comes (each with a page of lines).
FULFILLMENTS_QUERY = """\
query OrderFulfillments($id: ID!) {
  order(id: $id) {
    id
    fulfillments {
      id
      status
      location { id }
      trackingInfo { number }
      fulfillmentLineItems(first: 50) {
        nodes { quantity lineItem { id } }
        pageInfo { hasNextPage }
      }
    }
  }
}"""

FULFILLMENT_ORDER_ORDER_QUERY = """\
query FulfillmentOrderOrder($id: ID!) {
  fulfillmentOrder(id: $id) { id orderId }
}"""

LOCATIONS_FOR_MOVE_QUERY = """\
query LocationsForMove($id: ID!, $lineItemIds: [ID!], $locationIds: [ID!]) {
  fulfillmentOrder(id: $id) {
    id
    locationsForMove(first: 5, lineItemIds: $lineItemIds, locationIds: $locationIds) {
      nodes { location { id } movable message }
    }
  }
}"""

HOLD_MUTATION = """\
mutation HoldFulfillmentOrder($id: ID!, $fulfillmentHold: FulfillmentOrderHoldInput!) {
  fulfillmentOrderHold(id: $id, fulfillmentHold: $fulfillmentHold) {
    fulfillmentHold { id handle }
    userErrors { code field message }
  }
}"""

RELEASE_HOLD_MUTATION = """\
mutation ReleaseFulfillmentOrderHold($id: ID!, $holdIds: [ID!]) {
  fulfillmentOrderReleaseHold(id: $id, holdIds: $holdIds) {
    fulfillmentOrder { id status }
    userErrors { code field message }
  }
}"""

MOVE_MUTATION = """\
mutation MoveFulfillmentOrder(
  $id: ID!, $newLocationId: ID!, $fulfillmentOrderLineItems: [FulfillmentOrderLineItemInput!]
) {
  fulfillmentOrderMove(
    id: $id, newLocationId: $newLocationId, fulfillmentOrderLineItems: $fulfillmentOrderLineItems
  ) {
    movedFulfillmentOrder { id status assignedLocation { location { id } } }
    originalFulfillmentOrder { id status }
    userErrors { field message }
  }
}"""

REROUTE_MUTATION = """\
mutation RerouteFulfillmentOrders($fulfillmentOrderIds: [ID!]!, $excludedLocationIds: [ID!]) {
  fulfillmentOrdersReroute(fulfillmentOrderIds: $fulfillmentOrderIds, excludedLocationIds: $excludedLocationIds) {
    movedFulfillmentOrders { id assignedLocation { location { id } } }
    userErrors { code field message }
  }
}"""

FULFILLMENT_CREATE_MUTATION = """\
mutation CreateFulfillment($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status location { id } trackingInfo { number company url } }
    userErrors { field message }
  }
}"""


def supports_reroute(api_version: str) -> bool:
    """True from 2025-10, where ``fulfillmentOrdersReroute`` exists."""
    return api_version >= REROUTE_SINCE
