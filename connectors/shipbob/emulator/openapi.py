"""Requests and answers checked against ShipBob's official 1.0 OpenAPI document.

The spec (``connectors/shipbob/specs/openapi-1.0.json.gz``, see SOURCES.txt there) is loaded once, lazily. For a
request, :func:`request_problems` checks the operation exists, its required headers (``shipbob_channel_id`` on
writes), that every query parameter is declared with the declared type, and the JSON body against the
operation's ``requestBody`` schema with :mod:`jsonschema` (draft 4, what OpenAPI 3.0 schemas are based on;
``nullable: true`` admits ``null``). :func:`response_problems` checks an answer body against the operation's
response schema for that status. Both are pure, so tests run them over recorded traffic too.

Problems come back as ShipBob's 400 body shape (``{"field": ["message", ...]}``, the spec's ``Bad Request``
schema), keyed by the dotted field path (``products[0].quantity``) or ``""`` for the request as a whole.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, ValidationError, validators  # type: ignore[import-untyped]

__all__ = [
    "SPEC_PATH",
    "Operation",
    "find_operation",
    "load_spec",
    "request_problems",
    "response_problems",
    "validate_request",
]

SPEC_PATH = Path(__file__).resolve().parent.parent / "specs" / "openapi-1.0.json.gz"
Problems = dict[str, list[str]]


@dataclass(frozen=True)
class Operation:
    """One spec operation: id, method, path template and the raw operation object."""

    operation_id: str
    method: str
    template: str
    raw: Mapping[str, Any]

    def parameters(self, where: str) -> dict[str, Mapping[str, Any]]:
        """Declared parameters ``in`` ``where`` (query, header, path), by lower-cased name."""
        return {
            str(p["name"]).lower(): p for p in self.raw.get("parameters", []) if p.get("in") == where and "name" in p
        }

    def request_schema(self) -> Mapping[str, Any] | None:
        body = self.raw.get("requestBody") or {}
        schema = body.get("content", {}).get("application/json", {}).get("schema")
        return schema if isinstance(schema, Mapping) else None

    def response_schema(self, status: int) -> Mapping[str, Any] | None:
        answer = (self.raw.get("responses") or {}).get(str(status)) or {}
        schema = answer.get("content", {}).get("application/json", {}).get("schema")
        return schema if isinstance(schema, Mapping) else None


@cache
def load_spec() -> dict[str, Any]:
    """The parsed OpenAPI document (decompressed on first use, then cached)."""
    with gzip.open(SPEC_PATH, "rt", encoding="utf-8") as handle:
        spec: dict[str, Any] = json.load(handle)
    return spec


@cache
def _operations() -> tuple[tuple[re.Pattern[str], Operation], ...]:
    found: list[tuple[re.Pattern[str], Operation]] = []
    for template, item in load_spec()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "/?$", re.IGNORECASE)
        for method, raw in item.items():
            if isinstance(raw, dict) and "operationId" in raw:
                found.append((pattern, Operation(raw["operationId"], method.upper(), template, raw)))
    # Literal paths before templated ones: /1.0/order/estimate must not match /1.0/order/{orderId}.
    found.sort(key=lambda pair: pair[1].template.count("{"))
    return tuple(found)


def find_operation(method: str, path: str) -> Operation | None:
    """The spec operation serving ``method path`` (path without query), or None."""
    wanted = method.upper()
    for pattern, op in _operations():
        if op.method == wanted and pattern.match(path):
            return op
    return None


def _nullable_ref(validator: Any, ref: str, instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if instance is None and schema.get("nullable"):
        return
    yield from Draft4Validator.VALIDATORS["$ref"](validator, ref, instance, schema)


def _nullable_type(validator: Any, types: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if instance is None and schema.get("nullable"):
        return
    yield from Draft4Validator.VALIDATORS["type"](validator, types, instance, schema)


_Validator = validators.extend(Draft4Validator, {"$ref": _nullable_ref, "type": _nullable_type})


def _field(path: list[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _best(error: ValidationError) -> list[ValidationError]:
    """For a ``oneOf`` that nothing matched, the errors of the closest branch (the one with fewest errors)."""
    if error.validator != "oneOf" or not error.context:
        return [error]
    branches: dict[Any, list[ValidationError]] = {}
    for inner in error.context:
        branches.setdefault(inner.relative_schema_path[0], []).append(inner)
    closest = min(branches.values(), key=len)
    return [found for inner in closest for found in _best(inner)]


def schema_problems(schema: Mapping[str, Any], instance: Any) -> Problems:
    """``instance`` against ``schema`` (which may ``$ref`` the spec's components), as ShipBob's 400 body."""
    root = {**schema, "components": load_spec()["components"]}
    problems: Problems = {}
    found = [best for error in _Validator(root).iter_errors(instance) for best in _best(error)]
    for error in sorted(found, key=lambda e: [str(part) for part in e.absolute_path]):
        path = list(error.absolute_path)
        message = error.message
        if error.validator == "required" and "'" in error.message:
            missing = error.message.split("'")[1]
            path.append(missing)
            message = f"The {missing} field is required."
        elif error.validator == "additionalProperties":
            message = f"Unknown field: {error.message}"
        problems.setdefault(_field(path), []).append(message)
    return problems


def _typed(value: str, schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    if kind == "array":
        return all(_typed(part, schema.get("items") or {}) for part in value.split(",") if part)
    if kind == "integer":
        return re.fullmatch(r"-?\d+", value) is not None
    if kind == "boolean":
        return value.lower() in ("true", "false")
    if "enum" in schema:
        return value in schema["enum"]
    return True


def request_problems(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: Any,
) -> Problems:
    """What is wrong with a request against the spec (``{}`` when it conforms). ``body`` is parsed JSON or None.

    An operation the spec does not have is ``{"": ["No operation ..."]}``.
    """
    op = find_operation(method, path)
    if op is None:
        return {"": [f"No operation {method.upper()} {path} in the ShipBob 1.0 API."]}
    problems: Problems = {}
    lowered = {name.lower(): value for name, value in headers.items()}
    for name, param in op.parameters("header").items():
        value = lowered.get(name)
        if value is None:
            if param.get("required"):
                problems.setdefault(param["name"], []).append(f"The {param['name']} header is required.")
        elif not _typed(value, param.get("schema") or {}):
            problems.setdefault(param["name"], []).append(f"The value '{value}' is not valid.")
    declared = op.parameters("query")
    for name, value in query.items():
        query_param = declared.get(name.lower())
        if query_param is None:
            problems.setdefault(name, []).append(f"Unknown query parameter for {op.operation_id}.")
        elif not _typed(value, query_param.get("schema") or {}):
            problems.setdefault(query_param["name"], []).append(f"The value '{value}' is not valid.")
    schema = op.request_schema()
    if schema is not None:
        if body is None:
            problems.setdefault("", []).append("A non-empty request body is required.")
        else:
            for key, messages in schema_problems(schema, body).items():
                problems.setdefault(key, []).extend(messages)
    elif body is not None:
        problems.setdefault("", []).append(f"{op.operation_id} takes no request body.")
    return problems


def response_problems(method: str, path: str, status: int, body: Any) -> Problems:
    """What is wrong with an answer body for ``status`` against the spec (``{}`` when it conforms or the spec
    declares no JSON body for that status)."""
    op = find_operation(method, path)
    if op is None:
        return {"": [f"No operation {method.upper()} {path} in the ShipBob 1.0 API."]}
    schema = op.response_schema(status)
    return {} if schema is None else schema_problems(schema, body)


def validate_request(
    method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], body: Any
) -> list[str]:
    """:func:`request_problems` as lines ``"<field>: <message>"``; [] when the request conforms."""
    return [
        f"{key or '(request)'}: {message}"
        for key, messages in request_problems(method, path, query, headers, body).items()
        for message in messages
    ]
