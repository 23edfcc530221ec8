"""The Admin GraphQL documents the Shopify connector sends, and their requested query cost.

Every document is a constant (or built from constants) so tests can compare the exact text sent and validate
it against the official schema of each API version. Shopify charges a *requested* cost before running a query
(objects 1, connections ``2 + first x node cost``, mutations 10) and refuses any query above 1,000 points
(``MAX_COST_EXCEEDED``); :func:`estimate_cost` computes the same figure so the client can keep every query below
that cap and wait for the leaky bucket before sending.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

from graphql import DocumentNode, FieldNode, OperationDefinitionNode, SelectionSetNode, parse
from graphql.language import IntValueNode, VariableNode

__all__ = [
    "INVENTORY_ITEMS_QUERY",
    "INVENTORY_ITEM_QUERY",
    "LEVELS_PER_ITEM",
    "LOCATIONS_QUERY",
    "MAX_QUERY_COST",
    "MUTATION_COST",
    "ORDERS_PAGE_SIZE",
    "ORDERS_QUERY",
    "ORDER_CANCELLED_QUERY",
    "ORDER_LEAN_QUERY",
    "ORDER_QUERY",
    "SET_QUANTITIES_BATCH",
    "STAFF_NOTE_MAX",
    "estimate_cost",
    "inventory_items_page_size",
    "order_cancel_mutation",
    "order_cancel_variables",
    "set_quantities_mutation",
    "sku_search_query",
    "supports_change_from",
    "supports_refund_method",
]

MAX_QUERY_COST = 1000
"""Shopify refuses any single query whose requested cost is above this."""
MUTATION_COST = 10
"""What Shopify charges for a mutation field."""
SET_QUANTITIES_BATCH = 250
"""Every input array of the Admin API is capped at 250 items."""
LEVELS_PER_ITEM = 10
"""Inventory levels fetched per item in one query; more are paged with :data:`INVENTORY_ITEM_QUERY`."""

LOCATIONS_QUERY = """\
query Locations($first: Int!, $after: String) {
  locations(first: $first, after: $after) {
    nodes { id name isActive }
    pageInfo { hasNextPage endCursor }
  }
}"""

_LEVELS_SELECTION = """\
      inventoryLevels(first: $levels, after: $levelsAfter) {
        nodes {
          location { id }
          quantities(names: ["available"]) { name quantity updatedAt }
        }
        pageInfo { hasNextPage endCursor }
      }"""

INVENTORY_ITEMS_QUERY = f"""\
query InventoryItemsBySku($first: Int!, $after: String, $query: String!, $levels: Int!, $levelsAfter: String) {{
  inventoryItems(first: $first, after: $after, query: $query) {{
    nodes {{
      id
      sku
{_LEVELS_SELECTION}
    }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""

INVENTORY_ITEM_QUERY = f"""\
query InventoryItem($id: ID!, $levels: Int!, $levelsAfter: String) {{
  inventoryItem(id: $id) {{
    id
    sku
{_LEVELS_SELECTION}
  }}
}}"""


def _order_fields(
    lines: int,
    fulfillment_orders: int,
    fo_lines: int,
    refund_lines: int | None,
    fulfillment_lines: int,
    *,
    prices: bool = True,
) -> str:
    price = " originalUnitPriceSet { shopMoney { amount } }" if prices else ""
    if refund_lines is None:
        refunds = "    refunds { id }"
    else:
        refunds = f"""\
    refunds(first: 5) {{
      id
      createdAt
      return {{ id }}
      refundLineItems(first: {refund_lines}) {{
        nodes {{ lineItem {{ id sku }} quantity restockType location {{ id }} }}
        pageInfo {{ hasNextPage }}
      }}
    }}"""
    return f"""\
    id
    name
    createdAt
    updatedAt
    cancelledAt
    returnStatus
    currencyCode
    totalPriceSet {{ shopMoney {{ amount currencyCode }} }}
    shippingAddress {{ name address1 address2 city provinceCode zip countryCodeV2 phone latitude longitude }}
    lineItems(first: {lines}) {{
      nodes {{ id sku quantity{price} }}
      pageInfo {{ hasNextPage }}
    }}
    fulfillmentOrders(first: {fulfillment_orders}) {{
      nodes {{
        status
        deliveryMethod {{ methodType }}
        assignedLocation {{ location {{ id }} }}
        lineItems(first: {fo_lines}) {{
          nodes {{ lineItem {{ id }} totalQuantity }}
          pageInfo {{ hasNextPage }}
        }}
      }}
      pageInfo {{ hasNextPage }}
    }}
    fulfillments {{
      id
      status
      createdAt
      location {{ id }}
      trackingInfo {{ number company }}
      fulfillmentLineItems(first: {fulfillment_lines}) {{
        nodes {{ quantity lineItem {{ id sku }} }}
        pageInfo {{ hasNextPage }}
      }}
    }}
{refunds}"""


# The poll reads a lean page (refund ids only, small nested pages) so many orders fit under the cost cap; an
# order with refunds or more lines than the lean page holds is then read whole with ORDER_QUERY. Order.fulfillments
# is a plain list asked without a size, so every fulfillment comes (estimate_cost, like the emulator, counts an
# unsized list as one object); each fulfillment's lines page like the order's own (10 lean, so a lean order that
# is not truncated has no truncated fulfillment; 30 whole, which keeps ORDER_QUERY at 982 of the 1,000 points).
# Unit prices (for routing's value rules) cost two objects a line: the lean reads ask them, ORDER_QUERY cannot.
ORDERS_QUERY = f"""\
query OrdersSince($first: Int!, $after: String, $query: String!) {{
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {{
    nodes {{
{_order_fields(10, 2, 10, None, 10)}
    }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""

# A webhook names one order: read it lean first (cost 70, not 917), whole only when needs_full_order says so.
ORDER_LEAN_QUERY = f"""\
query OrderLean($id: ID!) {{
  order(id: $id) {{
{_order_fields(10, 2, 10, None, 10)}
  }}
}}"""

ORDER_QUERY = f"""\
query Order($id: ID!) {{
  order(id: $id) {{
{_order_fields(100, 4, 50, 25, 30, prices=False)}
  }}
}}"""

# Whether an order is cancelled: orderCancel answers an already-cancelled order with a user error whose exact
# wording is undocumented, so the client checks the order itself.
ORDER_CANCELLED_QUERY = """\
query OrderCancelled($id: ID!) {
  order(id: $id) { id cancelledAt }
}"""

STAFF_NOTE_MAX = 255
"""``orderCancel``'s ``staffNote`` holds at most 255 characters."""


def supports_refund_method(api_version: str) -> bool:
    """True from 2025-07, where ``orderCancel`` takes ``refundMethod`` and ``refund`` is deprecated."""
    return api_version >= "2025-07"


def order_cancel_mutation(api_version: str) -> str:
    """The ``orderCancel`` document for ``api_version`` (``refund: Boolean!`` before 2025-07, ``refundMethod`` from)."""
    if supports_refund_method(api_version):
        declaration, argument = "$refundMethod: OrderCancelRefundMethodInput!", "refundMethod: $refundMethod"
    else:
        declaration, argument = "$refund: Boolean!", "refund: $refund"
    return (
        f"mutation CancelOrder($orderId: ID!, $reason: OrderCancelReason!, {declaration}, $restock: Boolean!,"
        " $notifyCustomer: Boolean, $staffNote: String) {\n"
        f"  orderCancel(orderId: $orderId, reason: $reason, {argument}, restock: $restock,"
        " notifyCustomer: $notifyCustomer, staffNote: $staffNote) {\n"
        "    job { id done }\n"
        "    orderCancelUserErrors { code field message }\n"
        "  }\n}"
    )


def order_cancel_variables(api_version: str, order_id: str, staff_note: str) -> dict[str, Any]:
    """Variables of :func:`order_cancel_mutation`: reason ``INVENTORY``, restock, no refund, no customer email.

    Shopify makes the refund an explicit choice (``refund: Boolean!``; from 2025-07 ``refundMethod``): omnibridge
    chooses *no* refund, the option that moves no money. Authorized-only payments are voided by Shopify whatever
    this says; captured payments stay for the merchant to refund (or offer store credit) from the admin.
    """
    variables: dict[str, Any] = {
        "orderId": order_id,
        "reason": "INVENTORY",
        "restock": True,
        "notifyCustomer": False,
        "staffNote": staff_note[:STAFF_NOTE_MAX] or None,
    }
    if supports_refund_method(api_version):
        variables["refundMethod"] = {"originalPaymentMethodsRefund": False}
    else:
        variables["refund"] = False
    return variables


_SET_QUANTITIES_PAYLOAD = """\
    inventoryAdjustmentGroup {
      id
      createdAt
      reason
      referenceDocumentUri
      changes { name delta quantityAfterChange item { id sku } location { id } }
    }
    userErrors { code field message }"""

_KEY = re.compile(r"^[A-Za-z0-9-]{1,64}$")


def supports_change_from(api_version: str) -> bool:
    """True from 2026-01, where ``changeFromQuantity`` and ``@idempotent`` exist."""
    return api_version >= "2026-01"


def set_quantities_mutation(api_version: str, idempotency_key: str | None) -> str:
    """The ``inventorySetQuantities`` document for ``api_version``.

    From 2026-01 the mutation field carries ``@idempotent(key: "<key>")`` (mandatory from 2026-04); before, no
    directive exists and ``idempotency_key`` must be ``None``. The key is a UUID, inlined as Shopify's examples do.
    """
    if supports_change_from(api_version):
        if idempotency_key is None or not _KEY.fullmatch(idempotency_key):
            raise ValueError(f"API {api_version} needs an idempotency key of letters, digits and '-'")
        directive = f' @idempotent(key: "{idempotency_key}")'
    elif idempotency_key is not None:
        raise ValueError(f"API {api_version} has no @idempotent directive")
    else:
        directive = ""
    return (
        "mutation SetAvailable($input: InventorySetQuantitiesInput!) {\n"
        f"  inventorySetQuantities(input: $input){directive} {{\n{_SET_QUANTITIES_PAYLOAD}\n  }}\n}}"
    )


def sku_search_query(skus: Sequence[str]) -> str:
    """The ``inventoryItems`` search string matching any of ``skus`` exactly: ``sku:'A' OR sku:'B'``."""
    return " OR ".join("sku:'" + sku.replace("\\", "\\\\").replace("'", "\\'") + "'" for sku in skus)


def _int_arg(field: FieldNode, name: str, variables: Mapping[str, Any]) -> int | None:
    for argument in field.arguments or ():
        if argument.name.value != name:
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode):
            bound = variables.get(value.name.value)
            return bound if isinstance(bound, int) else None
    return None


def _selection_cost(selection_set: SelectionSetNode | None, variables: Mapping[str, Any]) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += _field_cost(selection, variables)
    return total


def _field_cost(field: FieldNode, variables: Mapping[str, Any]) -> int:
    if field.selection_set is None or field.name.value == "pageInfo":
        return 0  # scalars, enums and page info are free
    size = _int_arg(field, "first", variables) or _int_arg(field, "last", variables)
    if size is None:
        return 1 + _selection_cost(field.selection_set, variables)
    inner = 0
    wrapped = False
    for selection in field.selection_set.selections:
        if isinstance(selection, FieldNode) and selection.name.value in ("nodes", "edges"):
            wrapped = True
            node_set = selection.selection_set
            if selection.name.value == "edges" and node_set is not None:
                nodes = [s for s in node_set.selections if isinstance(s, FieldNode) and s.name.value == "node"]
                node_set = nodes[0].selection_set if nodes else None
            inner = max(inner, 1 + _selection_cost(node_set, variables))
    if not wrapped:  # a plain list with a size argument (Order.refunds)
        return size * (1 + _selection_cost(field.selection_set, variables))
    return 2 + size * inner


@functools.lru_cache(maxsize=64)
def _parsed(document: str) -> DocumentNode:
    """``document`` parsed once: the connector sends a few constant documents, estimated before every call."""
    return parse(document)


def estimate_cost(document: str, variables: Mapping[str, Any] | None = None) -> int:
    """Shopify's requested cost of ``document`` with ``variables`` (sizes given as variables are resolved).

    Objects cost 1, scalars 0, a connection ``2 + first x (1 + node cost)``, a sized list
    ``first x (1 + element cost)``, a mutation :data:`MUTATION_COST`.
    """
    parsed = _parsed(document)
    bound = variables or {}
    total = 0
    for definition in parsed.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if definition.operation.value == "mutation":
            total += MUTATION_COST * len(definition.selection_set.selections)
        else:
            total += _selection_cost(definition.selection_set, bound)
    return total


def inventory_items_page_size(levels: int = LEVELS_PER_ITEM, max_cost: int = MAX_QUERY_COST) -> int:
    """How many inventory items one ``inventoryItems`` query asking ``levels`` levels an item may ask for and stay
    within ``max_cost`` (default the cost cap)."""
    per_item = estimate_cost(INVENTORY_ITEMS_QUERY, {"first": 1, "levels": levels}) - 2
    return max(1, min(250, (max_cost - 2) // per_item))


def _orders_page_size() -> int:
    per_order = estimate_cost(ORDERS_QUERY, {"first": 1}) - 2
    return max(1, min(250, (MAX_QUERY_COST - 2) // per_order))


ORDERS_PAGE_SIZE = _orders_page_size()
"""Orders per page: as many as the nested line items, fulfillment orders and refunds leave room for."""
