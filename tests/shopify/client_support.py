"""Helpers for the Shopify connector tests: a scripted GraphQL endpoint on respx, a fake clock, fixtures and
validation of every document sent against the official schema of its API version."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import httpx
import respx
from graphql import GraphQLSchema, build_client_schema, get_operation_ast, parse, validate
from graphql.execution.values import get_variable_values

from connectors.shopify.client import ShopifyClient
from connectors.shopify.settings import ShopifySettings
from omnibridge.sdk import RetryPolicy

FIXTURES = Path(__file__).parent / "fixtures"
SPECS = Path(__file__).resolve().parents[2] / "connectors" / "shopify" / "specs"
SHOP = "https://demo.myshopify.com"
TOKEN = "shpat_0123456789abcdef0123456789abcdef"
SECRET = "whsec_shopify_test_secret"
NOW = datetime(2026, 11, 23, 19, 0, 0, tzinfo=UTC)
T = TypeVar("T")

# Deterministic backoff: 0.1 s, 0.2 s ... (no jitter).
POLICY = RetryPolicy(max_attempts=4, max_elapsed=600.0, initial_backoff=0.1, multiplier=2.0, jitter=0.0)


def fixture(name: str) -> dict[str, Any]:
    """A JSON fixture from ``tests/shopify/fixtures`` (a fresh copy each time)."""
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def cost_extensions(available: float = 1990.0, requested: int = 10) -> dict[str, Any]:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": requested,
            "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": available, "restoreRate": 100.0},
        }
    }


def data(payload: dict[str, Any]) -> dict[str, Any]:
    """A successful GraphQL body around ``payload``."""
    return {"data": payload, "extensions": cost_extensions()}


class FakeTime:
    """Monotonic clock plus a sleep that records each wait and advances the clock by it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


Reply = httpx.Response | dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]
"""A queued answer: a response, a JSON body, or a function of the request's variables giving the body."""


@dataclass
class Sent:
    """One GraphQL request as sent: operation name, document, variables and headers."""

    operation: str
    query: str
    variables: dict[str, Any]
    headers: httpx.Headers


@dataclass
class ScriptedShop:
    """A respx-routed Admin GraphQL endpoint answering queued bodies per operation name, in order."""

    version: str
    replies: dict[str, deque[Reply]] = field(default_factory=lambda: defaultdict(deque))
    sent: list[Sent] = field(default_factory=list)

    def reply(self, operation: str, *bodies: Reply) -> None:
        self.replies[operation].extend(bodies)

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        operation = parse(body["query"]).definitions[0].name.value  # type: ignore[attr-defined]
        self.sent.append(Sent(operation, body["query"], body.get("variables") or {}, request.headers))
        queue = self.replies.get(operation)
        if not queue:
            raise AssertionError(f"unexpected {operation} request: {body['variables']}")
        reply = queue.popleft()
        if callable(reply):
            reply = reply(body.get("variables") or {})
        return reply if isinstance(reply, httpx.Response) else httpx.Response(200, json=reply)

    def of(self, operation: str) -> list[Sent]:
        return [sent for sent in self.sent if sent.operation == operation]


def settings(version: str = "2026-04", **overrides: Any) -> ShopifySettings:
    values: dict[str, Any] = {"shop_url": SHOP, "access_token": TOKEN, "api_secret": SECRET, "api_version": version}
    values.update(overrides)
    return ShopifySettings(**values)


def run_client(
    version: str,
    call: Callable[[ShopifyClient], Awaitable[T]],
    shop: ScriptedShop | None = None,
    time: FakeTime | None = None,
    **options: Any,
) -> tuple[T, ScriptedShop]:
    """Run ``call`` on a client wired to a :class:`ScriptedShop`; check every document against the schema."""
    shop = shop or ScriptedShop(version)
    time = time or FakeTime()
    keys = iter(f"00000000-0000-4000-8000-{n:012d}" for n in range(1, 10_000))
    config = options.pop("settings", None) or settings(version)

    async def main() -> T:
        with respx.mock(base_url=SHOP, assert_all_called=False) as router:
            router.post(f"/admin/api/{version}/graphql.json").mock(side_effect=shop.handle)
            client = ShopifyClient(
                config,
                retry_policy=options.pop("retry_policy", POLICY),
                clock=time.clock,
                sleep=time.sleep,
                now=lambda: NOW,
                new_key=lambda: next(keys),
                **options,
            )
            try:
                return await call(client)
            finally:
                await client.aclose()

    result = asyncio.run(main())
    for sent in shop.sent:
        problems = schema_errors(version, sent.query, sent.variables)
        assert not problems, f"{sent.operation} is invalid for {version}: {problems}"
    return result, shop


@cache
def _schema(version: str) -> GraphQLSchema:
    with gzip.open(SPECS / f"admin_schema_{version}.json.gz") as handle:
        introspection = json.load(handle)
    # Shopify's introspection breaks a graphql-core deprecation consistency rule that does not matter here.
    return build_client_schema(introspection.get("data", introspection), assume_valid=True)


OFFICIAL_SCHEMAS = ("2024-10", "2025-01", "2026-01", "2026-04", "2026-10")
"""API versions whose official Admin schema is in ``connectors/shopify/specs``."""


def official_schema(version: str) -> GraphQLSchema:
    """Shopify's own schema of ``version`` (one of :data:`OFFICIAL_SCHEMAS`)."""
    assert version in OFFICIAL_SCHEMAS, version
    return _schema(version)


def schema_errors(version: str, query: str, variables: dict[str, Any]) -> list[str]:
    """Why Shopify ``version`` would reject this document: the official schemas of :data:`OFFICIAL_SCHEMAS` for
    those versions (2025-04 … 2025-07 use 2025-01's), the emulator's (2025-10: 2025-01 with
    ``fulfillmentOrdersReroute``; 2026-07: 2026-04's) for the others."""
    if version not in OFFICIAL_SCHEMAS and version >= "2025-10":
        from connectors.shopify.emulator.schema import validate_document

        return validate_document(version, query, variables)
    schema = _schema(version if version in OFFICIAL_SCHEMAS else "2025-01")
    document = parse(query)
    problems = [error.message for error in validate(schema, document)]
    if problems:
        return problems
    operation = get_operation_ast(document)
    assert operation is not None
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables)
    return [error.message for error in coerced] if isinstance(coerced, list) else []


WAREHOUSE = "gid://shopify/Location/64224165939"
STORE = "gid://shopify/Location/64224198707"


def item_gid(n: int) -> str:
    return f"gid://shopify/InventoryItem/{43729000 + n}"


def items_reply(*items: tuple[str, str, dict[str, int]]) -> dict[str, Any]:
    """An ``inventoryItems`` answer: ``(sku, item gid, {location gid: available})`` per item."""
    nodes = [
        {
            "id": item_id,
            "sku": sku,
            "inventoryLevels": {
                "nodes": [
                    {
                        "location": {"id": location},
                        "quantities": [{"name": "available", "quantity": qty, "updatedAt": "2026-11-23T18:00:00Z"}],
                    }
                    for location, qty in levels.items()
                ],
                "pageInfo": {"hasNextPage": False, "endCursor": None},
            },
        }
        for sku, item_id, levels in items
    ]
    return data({"inventoryItems": {"nodes": nodes, "pageInfo": {"hasNextPage": False, "endCursor": None}}})


def set_reply(
    changes: list[tuple[str, str, int]] | None = None, errors: list[tuple[str, int | None, str]] | None = None
) -> dict[str, Any]:
    """An ``inventorySetQuantities`` answer: applied ``(item, location, after)`` or ``(code, index, field)`` errors."""
    group = None
    if changes is not None and not errors:
        group = {
            "id": "gid://shopify/InventoryAdjustmentGroup/501942370611",
            "createdAt": "2026-11-23T19:00:01Z",
            "reason": "correction",
            "referenceDocumentUri": "gid://omnibridge/SyncPush/x",
            "changes": [
                {
                    "name": "available",
                    "delta": 1,
                    "quantityAfterChange": after,
                    "item": {"id": item, "sku": None},
                    "location": {"id": location},
                }
                for item, location, after in changes
            ],
        }
    user_errors = [
        {
            "code": code,
            "field": ["input", "quantities", str(index), field] if index is not None else ["input", field],
            "message": f"{code.lower().replace('_', ' ')}",
        }
        for code, index, field in errors or []
    ]
    return data({"inventorySetQuantities": {"inventoryAdjustmentGroup": group, "userErrors": user_errors}})
