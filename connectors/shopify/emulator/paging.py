"""Relay cursor pagination and Shopify's search syntax (``sku:A OR sku:B``, ``updated_at:>='…'``)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from graphql import GraphQLError

__all__ = ["MAX_PAGE_SIZE", "SearchTerm", "connection", "matches", "parse_search"]

MAX_PAGE_SIZE = 250
T = TypeVar("T")
SortKey = tuple[Any, ...]


def _encode(key: SortKey) -> str:
    # Shopify cursors are opaque base64 JSON ({"last_id":…,"last_value":…}); clients must not parse them.
    return base64.b64encode(json.dumps({"last_id": key[-1], "last_value": list(key[:-1])}).encode()).decode()


def _decode(cursor: str) -> SortKey:
    try:
        raw = json.loads(base64.b64decode(cursor.encode(), validate=True))
        return (*raw["last_value"], raw["last_id"])
    except (ValueError, KeyError, TypeError):
        raise GraphQLError(
            f"Invalid cursor for current pagination sort: {cursor!r}", extensions={"code": "BAD_REQUEST"}
        ) from None


def connection(
    items: Sequence[T],
    to_node: Callable[[T], Any],
    key: Callable[[T], SortKey],
    args: Mapping[str, Any],
) -> dict[str, Any]:
    """One page of ``items`` (any order) as a Relay connection dict, following first/after/last/before/reverse.

    ``key`` gives each item a JSON-able sort key ending with its numeric id. Shopify refuses a connection with
    neither ``first`` nor ``last`` and pages larger than 250.
    """
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last", extensions={"code": "BAD_REQUEST"})
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
            raise GraphQLError(
                f"The '{name}' argument must be between 0 and {MAX_PAGE_SIZE}, got {value}.",
                extensions={"code": "BAD_REQUEST", "argumentName": name, "maximum": MAX_PAGE_SIZE},
            )
    reverse = bool(args.get("reverse"))
    ordered = sorted(items, key=key, reverse=reverse)
    keyed = [(key(item), item) for item in ordered]
    after, before = args.get("after"), args.get("before")
    start, end = 0, len(keyed)
    if after:
        marker = _decode(after)
        start = next((i for i, (k, _) in enumerate(keyed) if (k < marker if reverse else k > marker)), len(keyed))
    if before:
        marker = _decode(before)
        end = next((i for i, (k, _) in enumerate(keyed) if (k <= marker if reverse else k >= marker)), len(keyed))
        end = max(end, start)
    window = keyed[start:end]
    has_next = end < len(keyed)
    has_previous = start > 0
    if first is not None:
        has_next = has_next or len(window) > first
        window = window[:first]
    if last is not None:
        has_previous = has_previous or len(window) > last
        window = window[len(window) - last :] if last else []
    edges = [{"cursor": _encode(k), "node": to_node(item)} for k, item in window]
    return {
        "edges": edges,
        "nodes": [edge["node"] for edge in edges],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


@dataclass(frozen=True)
class SearchTerm:
    field: str | None  # None: free text
    op: str  # ":" | ">" | ">=" | "<" | "<="
    value: str
    negate: bool = False


_TOKEN = re.compile(r"""(-)?(?:(\w+):(>=|<=|>|<)?)?('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\S+)""")
_ESCAPE = re.compile(r"\\(.)")


def parse_search(query: str | None) -> list[list[SearchTerm]]:
    """Shopify search syntax as OR-groups of AND-ed terms; unknown fields are kept and ignored by :func:`matches`."""
    if not query or not query.strip():
        return []
    groups: list[list[SearchTerm]] = [[]]
    for match in _TOKEN.finditer(query):
        negate, field, op, value = match.groups()
        if field is None and value in ("OR", "AND"):
            if value == "OR":
                groups.append([])
            continue
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = _ESCAPE.sub(r"\1", value[1:-1])
        groups[-1].append(SearchTerm(field, op or ":", value, bool(negate)))
    return [g for g in groups if g]


def _as_time(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _compare(actual: Any, op: str, wanted: str) -> bool:
    if isinstance(actual, datetime):
        other = _as_time(wanted)
        if other is None:
            return False
        pair: tuple[Any, Any] = (actual, other)
    elif isinstance(actual, int):
        try:
            pair = (actual, int(wanted.rsplit("/", 1)[-1]))
        except ValueError:
            return False
    else:
        if op == ":":
            text = str(actual or "").lower()
            pattern = wanted.lower()
            return text.startswith(pattern[:-1]) if pattern.endswith("*") else text == pattern
        pair = (str(actual), wanted)
    left, right = pair
    return bool(
        {
            ":": left == right,
            ">": left > right,
            ">=": left >= right,
            "<": left < right,
            "<=": left <= right,
        }[op]
    )


def matches(groups: list[list[SearchTerm]], fields: Mapping[str, Any]) -> bool:
    """True when a record with ``fields`` satisfies the parsed query (Shopify ignores unknown filter fields)."""
    if not groups:
        return True
    for group in groups:
        ok = True
        for term in group:
            if term.field is None or term.field not in fields:
                continue
            if term.field == "status" and term.value == "any":  # Shopify's "every status" filter
                continue
            hit = _compare(fields[term.field], term.op, term.value)
            if hit == term.negate:
                ok = False
                break
        if ok:
            return True
    return False
