"""Validation of Square request bodies against the vendored official OpenAPI 3.0 spec.

The spec (``connectors/square/specs/api.json.gz``, square/connect-api-specification) is decompressed once,
lazily, and cached. Each operation's ``requestBody`` schema is checked with :mod:`jsonschema` (draft 4, the
dialect OpenAPI 3.0 schemas are based on), with two OpenAPI twists handled here:

* ``nullable: true`` admits ``null`` (also next to a ``$ref``);
* optionally, a body field the schema does not declare is an error (``UNKNOWN_BODY_PARAMETER``).

Violations are turned into Square's error objects (``category`` ``INVALID_REQUEST_ERROR``, a spec ``ErrorCode``
and ``field`` in Square's dotted path notation, e.g. ``changes[3].physical_count.quantity``).
:func:`validate_request` is pure and may be used on recorded traffic by connector tests.
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
    "SquareError",
    "find_operation",
    "load_spec",
    "request_errors",
    "validate_request",
]

SPEC_PATH = Path(__file__).resolve().parent.parent / "specs" / "api.json.gz"

_TYPE_CODES = {
    "string": "EXPECTED_STRING",
    "integer": "EXPECTED_INTEGER",
    "number": "EXPECTED_FLOAT",
    "boolean": "EXPECTED_BOOLEAN",
    "object": "EXPECTED_OBJECT",
    "array": "EXPECTED_ARRAY",
}
_KEYWORD_CODES = {
    "required": "MISSING_REQUIRED_PARAMETER",
    "enum": "INVALID_ENUM_VALUE",
    "maxLength": "VALUE_TOO_LONG",
    "minLength": "VALUE_TOO_SHORT",
    "maximum": "VALUE_TOO_HIGH",
    "minimum": "VALUE_TOO_LOW",
    "maxItems": "ARRAY_LENGTH_TOO_LONG",
    "minItems": "ARRAY_LENGTH_TOO_SHORT",
    "pattern": "VALUE_REGEX_MISMATCH",
    "additionalProperties": "UNKNOWN_BODY_PARAMETER",
}


@dataclass(frozen=True)
class SquareError:
    """One entry of Square's ``{"errors": [...]}`` list."""

    category: str
    code: str
    detail: str
    field: str | None = None

    def to_json(self) -> dict[str, str]:
        out = {"category": self.category, "code": self.code, "detail": self.detail}
        if self.field is not None:
            out["field"] = self.field
        return out

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{where}{self.code}: {self.detail}"


@dataclass(frozen=True)
class Operation:
    """A spec operation: its id, path template and the component name of its request body (if any)."""

    operation_id: str
    method: str
    template: str
    request_schema: str | None
    body_required: bool


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
        pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
        for method, op in item.items():
            if not isinstance(op, dict) or "operationId" not in op:
                continue
            body = op.get("requestBody") or {}
            ref = body.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
            found.append(
                (
                    pattern,
                    Operation(
                        operation_id=op["operationId"],
                        method=method.upper(),
                        template=template,
                        request_schema=ref.rsplit("/", 1)[-1] if ref else None,
                        body_required=bool(body.get("required")),
                    ),
                )
            )
    # Literal paths before templated ones: /v2/orders/search must not match /v2/orders/{order_id}.
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


def _strict_properties(
    validator: Any, properties: Mapping[str, Any], instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    yield from Draft4Validator.VALIDATORS["properties"](validator, properties, instance, schema)
    if isinstance(instance, dict) and "additionalProperties" not in schema:
        for name in instance:
            if name not in properties:
                yield ValidationError(
                    f"unknown field {name!r}", validator="additionalProperties", path=[name], instance=instance
                )


_Lenient = validators.extend(Draft4Validator, {"$ref": _nullable_ref, "type": _nullable_type})
_Strict = validators.extend(_Lenient, {"properties": _strict_properties})


@cache
def _validator(schema_name: str, strict: bool) -> Any:
    spec = load_spec()
    root = {"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]}
    cls = _Strict if strict else _Lenient
    return cls(root)


def _field(path: Iterator[Any] | Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _to_square(error: ValidationError) -> SquareError:
    keyword = str(error.validator)
    path = list(error.absolute_path)
    detail = error.message
    if keyword == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else ""
        path.append(missing)
        detail = f"Missing required parameter {missing!r}."
    code = _TYPE_CODES.get(str(error.validator_value), "INVALID_VALUE") if keyword == "type" else None
    if code is None:
        code = _KEYWORD_CODES.get(keyword, "INVALID_VALUE")
    return SquareError("INVALID_REQUEST_ERROR", code, detail, _field(path) or None)


def _parse_body(body: bytes | str | Mapping[str, Any] | list[Any] | None) -> tuple[Any, SquareError | None]:
    if body is None or isinstance(body, Mapping | list):
        return body, None
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    if not text.strip():
        return None, None
    try:
        return json.loads(text), None
    except ValueError:
        return None, SquareError("INVALID_REQUEST_ERROR", "EXPECTED_JSON_BODY", "The request body is not valid JSON.")


def request_errors(
    method: str,
    path: str,
    body: bytes | str | Mapping[str, Any] | list[Any] | None,
    *,
    strict: bool = True,
) -> list[SquareError]:
    """Square errors for a request body that does not match its operation's schema ([] when it does).

    ``body`` may be raw bytes/text or already parsed JSON. An unknown ``method path`` is ``NOT_FOUND``.
    ``strict`` also rejects body fields the schema does not declare.
    """
    op = find_operation(method, path.split("?", 1)[0])
    if op is None:
        return [SquareError("INVALID_REQUEST_ERROR", "NOT_FOUND", f"No operation {method.upper()} {path}.")]
    parsed, parse_error = _parse_body(body)
    if parse_error is not None:
        return [parse_error]
    if op.request_schema is None:
        return []
    if parsed is None:
        if op.body_required:
            return [SquareError("INVALID_REQUEST_ERROR", "EXPECTED_JSON_BODY", "A JSON body is required.")]
        return []
    found = sorted(_validator(op.request_schema, strict).iter_errors(parsed), key=lambda e: list(e.absolute_path))
    return [_to_square(error) for error in found]


def validate_request(
    method: str,
    path: str,
    body: bytes | str | Mapping[str, Any] | list[Any] | None,
    *,
    strict: bool = True,
) -> list[str]:
    """Human-readable problems of a request against the Square OpenAPI spec; [] when it conforms.

    Each problem reads ``"<field>: <ERROR_CODE>: <detail>"``. Pure: no emulator state is involved, so connector
    tests can run it over recorded traffic (``OMNIBRIDGE_RECORD_REQUESTS``).
    """
    return [str(error) for error in request_errors(method, path, body, strict=strict)]
