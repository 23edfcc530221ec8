"""The Admin GraphQL documents of local pickup and returns (fulfilment-contracts A2, A3).

Constants, so tests compare the exact text sent and validate it against the official schema of each API version.
Every document here is valid from 2024-10 to 2026-10, except :data:`RETURN_PROCESS_MUTATION` (2025-07+) and the
ones the older versions need instead (:data:`DISPOSE_MUTATION` plus :data:`RETURN_REFUND_MUTATION`).
"""

from __future__ import annotations

__all__ = [
    "DISPOSE_MUTATION",
    "ORDER_RETURNS_QUERY",
    "PICKUP_FULFILLMENT_ORDER_QUERY",
    "PICKUP_ORDER_QUERY",
    "PREPARED_FOR_PICKUP_MUTATION",
    "PROCESS_SINCE",
    "RETURNS_PAGE",
    "RETURN_APPROVE_MUTATION",
    "RETURN_CLOSE_MUTATION",
    "RETURN_CREATE_MUTATION",
    "RETURN_LINES_PAGE",
    "RETURN_ORDER_QUERY",
    "RETURN_PROCESS_MUTATION",
    "RETURN_QUERY",
    "RETURN_REFUND_MUTATION",
    "RETURN_REQUEST_MUTATION",
    "REVERSE_DELIVERY_MUTATION",
    "REVERSE_ORDER_QUERY",
    "supports_return_process",
]

PROCESS_SINCE = "2025-07"
"""The first API version with ``returnProcess`` (``returnRefund`` is deprecated from then)."""
RETURNS_PAGE = 3
"""Returns read per order on read-back (an order with more is read up to this many, newest kept by Shopify's order)."""
RETURN_LINES_PAGE = 10
"""Return line items (and reverse fulfillment order lines) read per return."""


def supports_return_process(api_version: str) -> bool:
    """True from 2025-07, where ``returnProcess`` records dispositions and the refund in one call."""
    return api_version >= PROCESS_SINCE


_RETURN_FIELDS = f"""\
      id
      name
      status
      order {{ id updatedAt }}
      returnLineItems(first: {RETURN_LINES_PAGE}) {{
        nodes {{
          id
          quantity
          returnReason
          returnReasonNote
          customerNote
          ... on ReturnLineItem {{ fulfillmentLineItem {{ id lineItem {{ id sku }} }} }}
        }}
        pageInfo {{ hasNextPage }}
      }}
      reverseFulfillmentOrders(first: 1) {{
        nodes {{
          id
          lineItems(first: {RETURN_LINES_PAGE}) {{
            nodes {{ id totalQuantity fulfillmentLineItem {{ id }} dispositions {{ type quantity location {{ id }} }} }}
          }}
          reverseDeliveries(first: 2) {{
            nodes {{
              id
              deliverable {{
                ... on ReverseDeliveryShippingDeliverable {{
                  tracking {{ number carrierName }}
                  label {{ publicFileUrl }}
                }}
              }}
            }}
          }}
        }}
      }}"""

RETURN_QUERY = f"""\
query Return($id: ID!) {{
  return(id: $id) {{
{_RETURN_FIELDS}
  }}
}}"""

ORDER_RETURNS_QUERY = f"""\
query OrderReturns($id: ID!) {{
  order(id: $id) {{
    id
    returns(first: {RETURNS_PAGE}) {{
      nodes {{
{_RETURN_FIELDS}
      }}
    }}
  }}
}}"""

REVERSE_ORDER_QUERY = """\
query ReverseFulfillmentOrderOrder($id: ID!) {
  reverseFulfillmentOrder(id: $id) { id order { id } }
}"""

# What a return is made of: the fulfilled units (fulfillment line items), the payment to refund from, and the
# returns already on the order (to recognise omnibridge's own by the RMA reference in their notes).
RETURN_ORDER_QUERY = """\
query ReturnOrder($id: ID!) {
  order(id: $id) {
    id
    currencyCode
    transactions(first: 5) { id kind status }
    fulfillments {
      id
      status
      fulfillmentLineItems(first: 50) { nodes { id quantity lineItem { id } } }
    }
    returns(first: 10) {
      nodes {
        id
        status
        refunds(first: 1) { nodes { id } }
        returnLineItems(first: 10) {
          nodes { id quantity returnReasonNote customerNote ... on ReturnLineItem { fulfillmentLineItem { id } } }
        }
        reverseFulfillmentOrders(first: 1) {
          nodes {
            id
            lineItems(first: 10) { nodes { id totalQuantity fulfillmentLineItem { id } dispositions { quantity } } }
            reverseDeliveries(first: 2) {
              nodes { deliverable { ... on ReverseDeliveryShippingDeliverable { tracking { number } } } }
            }
          }
        }
      }
    }
  }
}"""

_RETURN_PAYLOAD = "return { id status }\n    userErrors { code field message }"

RETURN_REQUEST_MUTATION = f"""\
mutation RequestReturn($input: ReturnRequestInput!) {{
  returnRequest(input: $input) {{
    {_RETURN_PAYLOAD}
  }}
}}"""

RETURN_CREATE_MUTATION = f"""\
mutation CreateReturn($returnInput: ReturnInput!) {{
  returnCreate(returnInput: $returnInput) {{
    {_RETURN_PAYLOAD}
  }}
}}"""

RETURN_APPROVE_MUTATION = f"""\
mutation ApproveReturn($input: ReturnApproveRequestInput!) {{
  returnApproveRequest(input: $input) {{
    {_RETURN_PAYLOAD}
  }}
}}"""

RETURN_CLOSE_MUTATION = f"""\
mutation CloseReturn($id: ID!) {{
  returnClose(id: $id) {{
    {_RETURN_PAYLOAD}
  }}
}}"""

RETURN_PROCESS_MUTATION = f"""\
mutation ProcessReturn($input: ReturnProcessInput!) {{
  returnProcess(input: $input) {{
    {_RETURN_PAYLOAD}
  }}
}}"""

DISPOSE_MUTATION = """\
mutation DisposeReturn($dispositionInputs: [ReverseFulfillmentOrderDisposeInput!]!) {
  reverseFulfillmentOrderDispose(dispositionInputs: $dispositionInputs) {
    reverseFulfillmentOrderLineItems { id }
    userErrors { code field message }
  }
}"""

RETURN_REFUND_MUTATION = """\
mutation RefundReturn($returnRefundInput: ReturnRefundInput!) {
  returnRefund(returnRefundInput: $returnRefundInput) {
    refund { id }
    userErrors { code field message }
  }
}"""

REVERSE_DELIVERY_MUTATION = """\
mutation AttachReturnLabel(
  $reverseFulfillmentOrderId: ID!,
  $reverseDeliveryLineItems: [ReverseDeliveryLineItemInput!]!,
  $trackingInput: ReverseDeliveryTrackingInput,
  $labelInput: ReverseDeliveryLabelInput,
  $notifyCustomer: Boolean
) {
  reverseDeliveryCreateWithShipping(
    reverseFulfillmentOrderId: $reverseFulfillmentOrderId,
    reverseDeliveryLineItems: $reverseDeliveryLineItems,
    trackingInput: $trackingInput,
    labelInput: $labelInput,
    notifyCustomer: $notifyCustomer
  ) {
    reverseDelivery { id }
    userErrors { code field message }
  }
}"""

PICKUP_ORDER_QUERY = """\
query PickupOrder($id: ID!) {
  order(id: $id) {
    id
    cancelledAt
    fulfillmentOrders(first: 5) {
      nodes {
        id
        status
        deliveryMethod { methodType }
        assignedLocation { location { id } }
        lineItems(first: 40) { nodes { id remainingQuantity lineItem { id } } }
      }
    }
  }
}"""

PREPARED_FOR_PICKUP_MUTATION = """\
mutation PreparedForPickup($input: FulfillmentOrderLineItemsPreparedForPickupInput!) {
  fulfillmentOrderLineItemsPreparedForPickup(input: $input) {
    userErrors { code field message }
  }
}"""

PICKUP_FULFILLMENT_ORDER_QUERY = """\
query PickupFulfillmentOrder($id: ID!) {
  fulfillmentOrder(id: $id) {
    id
    orderId
    status
    deliveryMethod { methodType }
    assignedLocation { location { id } }
    lineItems(first: 40) { nodes { lineItem { id } } }
  }
}"""
