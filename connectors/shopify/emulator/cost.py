"""Calculated query cost and the per-app leaky bucket (Shopify's GraphQL rate limiting, api-contracts §1.7).

Requested cost is computed statically from the document: scalar and enum fields 0, object fields 1, connections
``2 + first x (1 + cost of one node's fields)``, sized plain lists (``refunds(first:)``) ``first x (1 + element
cost)``, each mutation root field 10. The bucket holds ``maximumAvailable`` points
and refills at ``restoreRate`` per second; a request is executed only when the bucket can pay its requested cost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    is_leaf_type,
    value_from_ast_untyped,
)

__all__ = ["MUTATION_COST", "CostBucket", "requested_cost", "throttle_status"]

MUTATION_COST = 10
DEFAULT_CONNECTION_SIZE = 1  # a connection without first/last is refused by Shopify at execution anyway


def requested_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> int:
    """The requested cost of one operation of a validated document."""
    if operation.operation == OperationType.MUTATION:
        return MUTATION_COST * sum(1 for _ in _fields(operation.selection_set, fragments))
    root = schema.query_type
    assert root is not None
    return _selection_cost(root, operation.selection_set, fragments, variables)


def _fields(selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode]) -> list[FieldNode]:
    out: list[FieldNode] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            out.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            out.extend(_fields(selection.selection_set, fragments))
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
            out.extend(_fields(fragments[selection.name.value].selection_set, fragments))
    return out


def _named(type_: GraphQLOutputType) -> tuple[Any, bool]:
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


def _selection_cost(
    parent: Any,
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for node in _fields(selection_set, fragments):
        name = node.name.value
        if name.startswith("__"):
            continue
        fields = getattr(parent, "fields", {})
        definition = fields.get(name)
        if definition is None:  # a field of a fragment on another member of a union/interface
            definition = _find_in_possible_types(parent, name)
            if definition is None:
                continue
        named, is_list = _named(definition.type)
        if is_leaf_type(named):
            continue
        if named.name.endswith("Connection"):
            size = _page_size(node, variables)
            total += 2 + (size or DEFAULT_CONNECTION_SIZE) * _node_cost(named, node.selection_set, fragments, variables)
        elif is_list and _page_size(node, variables) is not None:  # a sized plain list (Order.refunds(first:))
            size = _page_size(node, variables) or 0
            total += size * (1 + _selection_cost(named, node.selection_set, fragments, variables))
        else:
            total += 1 + _selection_cost(named, node.selection_set, fragments, variables)
    return total


def _find_in_possible_types(parent: Any, name: str) -> Any:
    for member in getattr(parent, "types", ()) or ():
        if name in member.fields:
            return member.fields[name]
    return None


def _node_cost(
    connection: GraphQLObjectType,
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> int:
    """Cost of one element of a connection: the larger of ``nodes{…}`` and ``edges{node{…}}``."""
    if selection_set is None:
        return 0
    best = 0
    for node in _fields(selection_set, fragments):
        if node.name.value == "nodes":
            element, _ = _named(connection.fields["nodes"].type)
            best = max(best, 1 + _selection_cost(element, node.selection_set, fragments, variables))
        elif node.name.value == "edges" and node.selection_set is not None:
            edge, _ = _named(connection.fields["edges"].type)
            best = max(best, _selection_cost(edge, node.selection_set, fragments, variables))
    return best


def _page_size(node: FieldNode, variables: Mapping[str, Any]) -> int | None:
    for argument in node.arguments or ():
        if argument.name.value in ("first", "last"):
            value = value_from_ast_untyped(argument.value, dict(variables))
            if isinstance(value, int):
                return max(value, 0)
    return None


def actual_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    data: Mapping[str, Any] | None,
) -> int:
    """The cost of what was actually returned: connections count the nodes present, not ``first``.

    Shopify refunds ``requested - actual`` to the bucket after execution.
    """
    if operation.operation == OperationType.MUTATION:
        return MUTATION_COST * sum(1 for _ in _fields(operation.selection_set, fragments))
    root = schema.query_type
    assert root is not None
    return _actual_selection(root, operation.selection_set, fragments, variables, data)


def _actual_selection(
    parent: Any,
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    value: Any,
) -> int:
    if selection_set is None or not isinstance(value, Mapping):
        return 0
    total = 0
    for node in _fields(selection_set, fragments):
        name = node.name.value
        if name.startswith("__"):
            continue
        definition = getattr(parent, "fields", {}).get(name) or _find_in_possible_types(parent, name)
        if definition is None:
            continue
        named, is_list = _named(definition.type)
        if is_leaf_type(named):
            continue
        child = value.get(node.alias.value if node.alias else name)
        if named.name.endswith("Connection"):
            total += 2 + _actual_connection(named, node.selection_set, fragments, variables, child)
        elif is_list and _page_size(node, variables) is not None:
            items = child if isinstance(child, list) else []
            total += sum(1 + _actual_selection(named, node.selection_set, fragments, variables, i) for i in items)
        else:
            element = child[0] if isinstance(child, list) and child else child
            total += 1 + _actual_selection(named, node.selection_set, fragments, variables, element)
    return total


def _actual_connection(
    connection: GraphQLObjectType,
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    value: Any,
) -> int:
    if selection_set is None or not isinstance(value, Mapping):
        return 0
    best = 0
    for node in _fields(selection_set, fragments):
        items = value.get(node.alias.value if node.alias else node.name.value)
        if not isinstance(items, list):
            continue
        if node.name.value == "nodes":
            element, _ = _named(connection.fields["nodes"].type)
            best = max(
                best, sum(1 + _actual_selection(element, node.selection_set, fragments, variables, i) for i in items)
            )
        elif node.name.value == "edges":
            edge, _ = _named(connection.fields["edges"].type)
            best = max(best, sum(_actual_selection(edge, node.selection_set, fragments, variables, i) for i in items))
    return best


Clock = Callable[[], datetime]


@dataclass
class CostBucket:
    """Leaky bucket of query-cost points, refilled continuously from an injectable clock."""

    maximum: float
    restore_rate: float
    clock: Clock
    available: float = -1.0
    _last: datetime | None = None

    def __post_init__(self) -> None:
        if self.available < 0:
            self.available = self.maximum

    def refill(self) -> float:
        """Refill up to now; returns the points currently available."""
        now = self.clock()
        if self._last is not None:
            elapsed = max((now - self._last).total_seconds(), 0.0)
            self.available = min(self.maximum, self.available + elapsed * self.restore_rate)
        self._last = now
        return self.available

    def try_take(self, cost: float) -> bool:
        """Take ``cost`` points if the bucket holds them; False (nothing taken) when it does not."""
        self.refill()
        if cost > self.available:
            return False
        self.available -= cost
        return True

    def give_back(self, points: float) -> None:
        """Refund the difference between requested and actual cost."""
        self.available = min(self.maximum, self.available + max(points, 0.0))

    def reset(self) -> None:
        self.available = self.maximum
        self._last = None


def throttle_status(bucket: CostBucket) -> dict[str, float]:
    """The ``extensions.cost.throttleStatus`` object."""
    return {
        "maximumAvailable": float(bucket.maximum),
        "currentlyAvailable": float(round(bucket.available, 3)),
        "restoreRate": float(bucket.restore_rate),
    }
