"""The ``POST /admin/api/{version}/graphql.json`` endpoint: auth, version, validation, cost, throttling, execution.

Answers the way Shopify does (api-contracts §1.1, §1.7, §1.9):

* a retired or unknown ``YYYY-MM`` version is served as the oldest supported one, and ``X-Shopify-API-Version``
  says which version answered (Shopify's "fall forward"); a path segment that is no version at all → HTTP 404;
  missing or wrong ``X-Shopify-Access-Token`` → HTTP 401
  ``{"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}``;
* invalid JSON body or no ``query`` → HTTP 400 ``{"errors": {"query": "Required parameter missing or invalid"}}``;
* invalid documents and variables → HTTP 200 with top-level ``errors`` and no ``data``;
* requested cost above 1,000 → ``MAX_COST_EXCEEDED``; bucket short → ``THROTTLED`` (HTTP 200, no ``data``);
* every GraphQL response carries ``extensions.cost`` with ``throttleStatus``, and ``X-Shopify-API-Version``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from graphql import (
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLResolveInfo,
    OperationDefinitionNode,
    default_field_resolver,
    execute,
    get_operation_ast,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from connectors.shopify.emulator.config import ShopifyEmulatorConfig
from connectors.shopify.emulator.cost import CostBucket, actual_cost, requested_cost, throttle_status
from connectors.shopify.emulator.mutations import RequestLevelError
from connectors.shopify.emulator.schema import schema_for, served_version, shopify_errors
from omnibridge.sdk.emulator import EmulatorKnobs, RequestRecorder

__all__ = ["GraphQLEndpoint"]

UNAUTHORIZED = "[API] Invalid API key or access token (unrecognized login or wrong password)"
RATE_LIMIT_DOCS = "https://shopify.dev/api/usage/rate-limits"


# Types whose every schema field a client may ask for must be modelled: a field the emulator leaves out is an
# error naming it, never a null a client would take for Shopify's answer.
_STRICT_TYPES = frozenset({"Order"})


def _field_resolver(source: Any, info: GraphQLResolveInfo[Any], **args: Any) -> Any:
    """graphql-core's default resolver, except that an unmodelled field of a strict type is a field error."""
    if isinstance(source, dict) and info.field_name not in source:
        typename = info.parent_type.name
        if typename in _STRICT_TYPES:
            raise GraphQLError(f"Field '{info.field_name}' on type '{typename}' is not modelled by the emulator.")
    return default_field_resolver(source, info, **args)


class GraphQLEndpoint:
    """Starlette handler for the Admin GraphQL endpoint of one emulated shop.

    ``root_value`` builds the merged query/mutation root for one request; ``set_version`` is told the version
    being served before execution (mutations key their semantics on it).
    """

    def __init__(
        self,
        config: ShopifyEmulatorConfig,
        bucket: CostBucket,
        knobs: EmulatorKnobs,
        recorder: RequestRecorder,
        calls: Counter[str],
        root_value: Callable[[], dict[str, Any]],
        set_version: Callable[[str], None],
    ) -> None:
        self.config = config
        self.bucket = bucket
        self.knobs = knobs
        self.recorder = recorder
        self.calls = calls
        self.charged: Counter[str] = Counter()
        """Cost points charged (requested less refunded) per operation, named by its root fields joined with ``+``
        (benchmarks read it)."""
        self._root_value = root_value
        self._set_version = set_version

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        self.recorder.record(request.method, request.url.path, request.url.query, dict(request.headers), body)
        version = served_version(str(request.path_params["version"]))
        if version is None:
            return JSONResponse({"errors": "Not Found"}, status_code=404)
        if request.headers.get("x-shopify-access-token") != self.config.access_token:
            return JSONResponse({"errors": UNAUTHORIZED}, status_code=401)
        await self.knobs.delay()
        if self.knobs.should_fail():
            self.calls["injected_error"] += 1
            if self.knobs.random().random() < 0.5:
                return JSONResponse({"errors": "Service Unavailable"}, status_code=503)
            return JSONResponse({"errors": "Internal Server Error"}, status_code=500)
        headers = {"X-Shopify-API-Version": version}
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return JSONResponse({"errors": {"query": "Required parameter missing or invalid"}}, 400, headers)
        variables = payload.get("variables") or {}
        if not isinstance(variables, dict):
            return JSONResponse({"errors": {"variables": "Required parameter missing or invalid"}}, 400, headers)
        operation_name = payload.get("operationName") or None
        return JSONResponse(self.run(version, payload["query"], variables, operation_name), 200, headers)

    def run(self, version: str, query: str, variables: dict[str, Any], operation_name: str | None) -> dict[str, Any]:
        """Validate, price and execute one GraphQL request; returns the response body."""
        document, errors = shopify_errors(version, query, variables, operation_name)
        if errors or document is None:
            self.calls["invalid"] += 1
            return {"errors": errors, "extensions": self._cost(0, 0)}
        schema = schema_for(version)
        operation = get_operation_ast(document, operation_name)
        assert isinstance(operation, OperationDefinitionNode)
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        cost = requested_cost(schema, operation, fragments, variables)
        if cost > self.config.max_query_cost:
            self.calls["max_cost_exceeded"] += 1
            return {
                "errors": [
                    {
                        "message": (
                            f"Query cost is {cost}, which exceeds the single query max cost limit "
                            f"({self.config.max_query_cost}).\n\nSee {RATE_LIMIT_DOCS} for more information on how "
                            "the\ncost of a query is calculated.\n\nTo query larger amounts of data with fewer "
                            "limits, bulk operations should be used instead.\nSee "
                            "https://shopify.dev/api/usage/bulk-operations/queries for usage details.\n"
                        ),
                        "extensions": {
                            "code": "MAX_COST_EXCEEDED",
                            "cost": cost,
                            "maxCost": self.config.max_query_cost,
                        },
                    }
                ],
                "extensions": self._cost(cost, None),
            }
        if not self.bucket.try_take(cost):
            self.calls["throttled"] += 1
            return {
                "errors": [
                    {"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": RATE_LIMIT_DOCS}}
                ],
                "extensions": self._cost(cost, None),
            }
        names: list[str] = []
        for selection in operation.selection_set.selections:
            name = getattr(getattr(selection, "name", None), "value", None)
            if name:
                self.calls[name] += 1
                names.append(name)
        self._set_version(version)
        result = execute(
            schema,
            document,
            root_value=self._root_value(),
            variable_values=variables,
            operation_name=operation_name,
            field_resolver=_field_resolver,
        )
        assert isinstance(result, ExecutionResult)
        actual = actual_cost(schema, operation, fragments, variables, result.data)
        body = self._format(result, cost, min(actual, cost))
        self.charged["+".join(names)] += body["extensions"]["cost"]["actualQueryCost"]
        return body

    def _format(self, result: ExecutionResult, cost: int, actual: int) -> dict[str, Any]:
        errors = result.errors or []
        request_level = [e for e in errors if isinstance(e.original_error, RequestLevelError)]
        if request_level:
            self.bucket.give_back(cost)
            formatted = []
            for error in request_level:
                original = error.original_error
                assert isinstance(original, RequestLevelError)
                item: dict[str, Any] = {"message": original.message}
                if error.locations:
                    item["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
                item["path"] = [*(error.path or []), *original.input_path]
                item["extensions"] = {"code": original.code}
                formatted.append(item)
            return {"errors": formatted, "extensions": self._cost(cost, 0)}
        body: dict[str, Any] = {}
        if errors:
            body["errors"] = [error.formatted for error in errors]
        body["data"] = result.data
        self.bucket.give_back(cost - actual)  # Shopify refunds requested - actual after execution
        body["extensions"] = self._cost(cost, actual)
        return body

    def _cost(self, requested: int, actual: int | None) -> dict[str, Any]:
        self.bucket.refill()
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": throttle_status(self.bucket),
            }
        }
