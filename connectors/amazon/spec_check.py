"""Check Amazon SP-API traffic against Amazon's own models (``connectors/amazon/specs``, see SOURCES.txt).

* :func:`validate_request` finds the operation by method + path template in the Swagger 2.0 models (Orders v0,
  Orders 2026-01-01, Listings Items 2021-08-01, Feeds 2021-06-30, Notifications v1, Tokens 2021-03-01, Reports
  2021-06-30) and checks path and query parameters (required, type, enum, array size; unknown query parameters
  too), the ``x-amz-access-token`` header and the JSON body against the operation's body schema (``$ref`` into
  ``definitions`` resolved). It also knows Login with Amazon's ``POST /auth/o2/token`` (form fields per grant
  type) and the pre-signed document upload (``PUT /_s3/{documentId}`` in the emulator: the body must be a valid
  listings feed).
* :func:`validate_feed_document` checks a JSON_LISTINGS_FEED document against ``listings-feed-schema-v2.json``
  (1..25,000 messages; each message one of the UPDATE / PARTIAL_UPDATE / PATCH / DELETE shapes; unique
  ``messageId``).
* :func:`validate_recorded` runs :func:`validate_request` over rows of
  :func:`omnibridge.sdk.emulator.read_recorded` (service ``"amazon"``).

Every problem is one string naming the field, e.g. ``"getOrders: query parameter 'MarketplaceIds' is
required"`` or ``"patchListingsItem: body.patches[0].op: 'set' is not one of ['add', 'replace', 'merge',
'delete']"``. No problems = an empty list.
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jsonschema  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]

__all__ = [
    "MODEL_FILES",
    "Operation",
    "find_operation",
    "load_spec",
    "validate_body",
    "validate_feed_document",
    "validate_recorded",
    "validate_request",
]

SPEC_DIR = Path(__file__).resolve().parent / "specs"
MODEL_FILES = (
    "ordersV0.json",
    "orders_2026-01-01.json",
    "listingsItems_2021-08-01.json",
    "feeds_2021-06-30.json",
    "notifications.json",
    "tokens_2021-03-01.json",
    "reports_2021-06-30.json",
)
LWA_PATH = "/auth/o2/token"
_LWA_GRANTS = {
    "refresh_token": ("refresh_token",),
    "client_credentials": ("scope",),
    "authorization_code": ("code",),
}
_LWA_SCOPES = ("sellingpartnerapi::notifications", "sellingpartnerapi::client_credential:rotation")
_MAX_SHOWN_ERRORS = 20
_MAX_MESSAGES = 25_000  # listings-feed-schema-v2 messages.maxItems
_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})

Query = Mapping[str, Sequence[str]] | Mapping[str, str] | str


@functools.cache
def load_spec(name: str) -> dict[str, Any]:
    """A vendored spec file by its original name (``ordersV0.json``...); reads the ``.gz`` copy when that is
    what is stored."""
    plain = SPEC_DIR / name
    if plain.exists():
        data = json.loads(plain.read_text(encoding="utf-8"))
    else:
        data = json.loads(gzip.decompress((SPEC_DIR / f"{name}.gz").read_bytes()).decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"spec {name} is not a JSON object")
    return data


@dataclass(frozen=True)
class Operation:
    """One operation of a model: ``operation_id``, method, ``template`` (``/orders/v0/orders/{orderId}``)."""

    operation_id: str
    method: str
    template: str
    pattern: re.Pattern[str]
    parameters: tuple[dict[str, Any], ...]
    spec_name: str

    @property
    def body_schema(self) -> dict[str, Any] | None:
        for param in self.parameters:
            if param.get("in") == "body":
                schema = param.get("schema")
                return schema if isinstance(schema, dict) else None
        return None

    @property
    def body_required(self) -> bool:
        return any(p.get("in") == "body" and p.get("required") for p in self.parameters)


def _template_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{regex}$")


@functools.cache
def _operations() -> tuple[Operation, ...]:
    found: list[Operation] = []
    for name in MODEL_FILES:
        spec = load_spec(name)
        for template, item in spec["paths"].items():
            shared = [p for p in item.get("parameters", []) if isinstance(p, dict)]
            for method, op in item.items():
                if method not in _HTTP_METHODS or not isinstance(op, dict):
                    continue
                params = {(p["in"], p["name"]): p for p in shared}
                params.update({(p["in"], p["name"]): p for p in op.get("parameters", [])})
                found.append(
                    Operation(
                        str(op["operationId"]),
                        method.upper(),
                        template,
                        _template_pattern(template),
                        tuple(params.values()),
                        name,
                    )
                )
    # literal segments beat parameters: /orders/v0/orders/{orderId}/orderItems before /{orderId}
    found.sort(key=lambda o: (-o.template.count("/"), o.template.count("{")))
    return tuple(found)


def find_operation(method: str, path: str) -> Operation | None:
    """The model operation for ``method`` + concrete ``path`` (None when the models have none)."""
    for op in _operations():
        if op.method == method.upper() and op.pattern.match(path):
            return op
    return None


def _normalise_query(query: Query) -> dict[str, list[str]]:
    if isinstance(query, str):
        return parse_qs(query.lstrip("?"), keep_blank_values=True)
    normal: dict[str, list[str]] = {}
    for key, value in query.items():
        normal[key] = [value] if isinstance(value, str) else [str(v) for v in value]
    return normal


def _parse_body(body: Any) -> tuple[Any, str | None]:
    """``(parsed JSON or None when empty, error)``."""
    if body is None or body == b"" or body == "":
        return None, None
    if isinstance(body, bytes | bytearray):
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            return None, "body is not UTF-8"
    if isinstance(body, str):
        try:
            return json.loads(body), None
        except ValueError as exc:
            return None, f"body is not valid JSON ({exc})"
    return body, None


def _path_text(path: Iterable[Any], root: str) -> str:
    text = root
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _message(error: ValidationError) -> str:
    """jsonschema's message without a huge instance dump (a 25,001-message array...)."""
    instance, value = error.instance, error.validator_value
    if error.validator == "maxItems" and isinstance(instance, list):
        return f"{len(instance)} items, at most {value} allowed"
    if error.validator == "minItems" and isinstance(instance, list):
        return f"{len(instance)} items, at least {value} required"
    text = error.message
    return text if len(text) <= 300 else f"{text[:200]}... (fails {error.validator} {str(value)[:60]})"


def _describe(error: ValidationError, root: str) -> list[str]:
    """Readable messages for one jsonschema error; a failed ``oneOf``/``anyOf`` shows the closest branch."""
    where = _path_text(error.absolute_path, root)
    if error.validator in ("oneOf", "anyOf") and error.context:
        instance = error.instance if isinstance(error.instance, dict) else {}
        wanted = instance.get("operationType")
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.schema_path[0] if sub.schema_path else None, []).append(sub)
        # the branch that does not fail on operationType's const is the one the author meant
        meant = [
            errors
            for errors in branches.values()
            if not any(e.validator == "const" and list(e.relative_path) == ["operationType"] for e in errors)
        ]
        chosen = meant[0] if meant else min(branches.values(), key=len)
        messages = []
        for sub in chosen:
            sub_where = _path_text([*error.absolute_path, *sub.relative_path], root)
            if sub.schema is False:
                # jsonschema reports a `"field": false` property without its name: find it again
                branch = error.validator_value[sub.schema_path[0]] if sub.schema_path else {}
                banned = [k for k, v in branch.get("properties", {}).items() if v is False and k in instance]
                name = next((k for k in banned if instance[k] == sub.instance), banned[0] if banned else "")
                sub_where = _path_text([*error.absolute_path, name], root) if name else sub_where
                messages.append(f"{sub_where}: not allowed when operationType is {wanted!r}")
            else:
                messages.append(f"{sub_where}: {_message(sub)}")
        return messages or [f"{where}: {_message(error)}"]
    return [f"{where}: {_message(error)}"]


def _schema_errors(validator: Any, instance: Any, root: str) -> list[str]:
    problems: list[str] = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
        problems.extend(_describe(error, root))
        if len(problems) >= _MAX_SHOWN_ERRORS:
            problems.append(f"{root}: more errors not shown")
            break
    return problems


@functools.cache
def _feed_validator() -> Any:
    schema = load_spec("listings-feed-schema-v2.json")
    return jsonschema.Draft7Validator(schema)


@functools.cache
def _message_validator() -> Any:
    return jsonschema.Draft7Validator(load_spec("listings-feed-message-schema-v2.json"))


def validate_feed_document(document: Any) -> list[str]:
    """Problems of a JSON_LISTINGS_FEED document (parsed JSON) against ``listings-feed-schema-v2.json``.

    The envelope is checked against the feed schema (header, 1..25,000 messages) and each message against the
    message schema (``listings-feed-message-schema-v2.json``: the shape its ``operationType`` needs);
    ``messageId`` must be unique within the feed. A feed over 25,000 messages gets that one problem (its messages
    are not checked one by one).
    """
    if not isinstance(document, dict):
        return [f"feed: expected a JSON object with 'header' and 'messages', got {type(document).__name__}"]
    feed_schema = load_spec("listings-feed-schema-v2.json")
    envelope = dict(feed_schema)
    envelope["properties"] = dict(feed_schema["properties"])
    envelope["properties"]["messages"] = {
        k: v for k, v in feed_schema["properties"]["messages"].items() if k != "items"
    }
    problems = _schema_errors(jsonschema.Draft7Validator(envelope), document, "feed")
    messages = document.get("messages")
    if not isinstance(messages, list) or len(messages) > _MAX_MESSAGES:
        return problems  # an oversized feed is refused whole; checking 25,001+ messages one by one adds nothing
    item_schema = feed_schema["properties"]["messages"]["items"]
    items = jsonschema.Draft7Validator(item_schema)
    seen: dict[int, int] = {}
    shown = len(problems)
    for index, message in enumerate(messages):
        if shown >= _MAX_SHOWN_ERRORS:
            problems.append("feed.messages: more errors not shown")
            break
        found = _schema_errors(items, message, f"feed.messages[{index}]")
        if isinstance(message, dict) and isinstance(message.get("messageId"), int):
            first = seen.setdefault(message["messageId"], index)
            if first != index:
                found.append(
                    f"feed.messages[{index}].messageId: {message['messageId']} is already used by messages[{first}]"
                )
        problems.extend(found)
        shown += len(found)
    return problems


def _check_value(param: Mapping[str, Any], raw: str, where: str) -> list[str]:
    kind = param.get("type", "string")
    enum = param.get("enum")
    if kind == "integer":
        try:
            number = int(raw)
        except ValueError:
            return [f"{where}: {raw!r} is not an integer"]
        problems = []
        if "minimum" in param and number < param["minimum"]:
            problems.append(f"{where}: {number} is less than the minimum {param['minimum']}")
        if "maximum" in param and number > param["maximum"]:
            problems.append(f"{where}: {number} is more than the maximum {param['maximum']}")
        return problems
    if kind == "number":
        try:
            float(raw)
        except ValueError:
            return [f"{where}: {raw!r} is not a number"]
        return []
    if kind == "boolean" and raw not in ("true", "false"):
        return [f"{where}: {raw!r} is not a boolean (true|false)"]
    if enum and raw not in enum:
        return [f"{where}: {raw!r} is not one of {list(enum)}"]
    return []


def _check_param(param: Mapping[str, Any], values: list[str] | None, op: str) -> list[str]:
    name, place = str(param["name"]), str(param["in"])
    where = f"{op}: {place} parameter {name!r}"
    if not values or values == [""]:
        return [f"{where} is required"] if param.get("required") else []
    if param.get("type") != "array":
        if len(values) > 1:
            return [f"{where} is given {len(values)} times; it takes one value"]
        return _check_value(param, values[0], where)
    if param.get("collectionFormat", "csv") == "multi":
        items = values
    else:
        items = [part for value in values for part in value.split(",")]
    problems: list[str] = []
    if "maxItems" in param and len(items) > param["maxItems"]:
        problems.append(f"{where}: {len(items)} values, at most {param['maxItems']} allowed")
    if "minItems" in param and len(items) < param["minItems"]:
        problems.append(f"{where}: {len(items)} values, at least {param['minItems']} required")
    item_schema = param.get("items") or {}
    for item in items:
        problems.extend(_check_value(item_schema, item, where))
    return problems


@functools.cache
def _body_validator(spec_name: str, template: str, method: str) -> Any:
    op = next(o for o in _operations() if o.spec_name == spec_name and o.template == template and o.method == method)
    schema = dict(op.body_schema or {})
    schema["definitions"] = load_spec(spec_name).get("definitions", {})
    return jsonschema.Draft4Validator(schema)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _validate_lwa(query: dict[str, list[str]], headers: Mapping[str, str], body: Any) -> list[str]:
    where = "LWA token request"
    content_type = (_header(headers, "content-type") or "").split(";")[0].strip().lower()
    problems: list[str] = []
    if content_type != "application/x-www-form-urlencoded":
        problems.append(f"{where}: Content-Type must be application/x-www-form-urlencoded, got {content_type!r}")
    if isinstance(body, bytes | bytearray):
        body = bytes(body).decode("utf-8", errors="replace")
    if isinstance(body, dict):
        form = {k: [str(v)] for k, v in body.items()}
    else:
        form = parse_qs(str(body or ""), keep_blank_values=True)
    grant = (form.get("grant_type") or [""])[0]
    if not grant:
        return [*problems, f"{where}: form field 'grant_type' is required"]
    if grant not in _LWA_GRANTS:
        return [*problems, f"{where}: form field 'grant_type' {grant!r} is not one of {sorted(_LWA_GRANTS)}"]
    for name in ("client_id", "client_secret", *_LWA_GRANTS[grant]):
        if not (form.get(name) or [""])[0]:
            problems.append(f"{where}: form field {name!r} is required for grant_type={grant}")
    if grant == "client_credentials":
        scope = (form.get("scope") or [""])[0]
        if scope and scope not in _LWA_SCOPES:
            problems.append(f"{where}: form field 'scope' {scope!r} is not one of {list(_LWA_SCOPES)}")
    if grant == "authorization_code" and not (form.get("redirect_uri") or [""])[0]:
        problems.append(f"{where}: form field 'redirect_uri' is required for grant_type=authorization_code")
    if query:
        problems.append(f"{where}: credentials belong in the form body, not the query string ({sorted(query)})")
    return problems


def validate_request(method: str, path: str, query: Query, headers: Mapping[str, str], body: Any) -> list[str]:
    """Problems of one request against the models (see module doc); ``body`` may be bytes, text or parsed JSON."""
    params = _normalise_query(query)
    if method.upper() == "POST" and path == LWA_PATH:
        return _validate_lwa(params, headers, body)
    if path.startswith("/_s3/"):
        if method.upper() != "PUT":
            return []
        parsed, error = _parse_body(body)
        if error is not None:
            return [f"feed document upload: {error}"]
        return [f"feed document upload: {p}" for p in validate_feed_document(parsed)]
    op = find_operation(method, path)
    if op is None:
        return [f"{method.upper()} {path}: no such operation in the SP-API models ({', '.join(MODEL_FILES)})"]
    name = op.operation_id
    problems: list[str] = []
    if not _header(headers, "x-amz-access-token"):
        problems.append(f"{name}: header 'x-amz-access-token' is required")
    match = op.pattern.match(path)
    path_values = match.groupdict() if match else {}
    declared_query = set()
    for param in op.parameters:
        place = param.get("in")
        if place == "path":
            problems.extend(_check_param(param, [path_values.get(str(param["name"]), "")], name))
        elif place == "query":
            declared_query.add(str(param["name"]))
            problems.extend(_check_param(param, params.get(str(param["name"])), name))
        elif place == "header" and param.get("required") and not _header(headers, str(param["name"]).lower()):
            problems.append(f"{name}: header {param['name']!r} is required")
    for extra in sorted(set(params) - declared_query):
        problems.append(f"{name}: query parameter {extra!r} is not defined by the operation")
    parsed, error = _parse_body(body)
    if error is not None:
        return [*problems, f"{name}: {error}"]
    if op.body_schema is None:
        if parsed is not None:
            problems.append(f"{name}: the operation takes no body")
        return problems
    if parsed is None:
        if op.body_required:
            problems.append(f"{name}: body is required")
        return problems
    validator = _body_validator(op.spec_name, op.template, op.method)
    problems.extend(f"{name}: {p}" for p in _schema_errors(validator, parsed, "body"))
    return problems


def validate_body(method: str, path: str, body: Any) -> list[str]:
    """Problems of a parsed JSON ``body`` against the body schema of the operation at ``method`` + ``path`` (what
    the emulator checks before acting on a write); no problems for an operation without a body schema."""
    op = find_operation(method, path)
    if op is None or op.body_schema is None:
        return []
    validator = _body_validator(op.spec_name, op.template, op.method)
    return _schema_errors(validator, body, "body")


def validate_recorded(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """Problems of recorded requests (rows of ``read_recorded``; only service ``"amazon"``), each prefixed with
    the row number, method and path. Control-API rows (``/_emulator/...``) and downloads are skipped."""
    problems: list[str] = []
    for number, row in enumerate(records, start=1):
        if row.get("service", "amazon") != "amazon":
            continue
        method, path = str(row.get("method", "GET")), str(row.get("path", ""))
        if path.startswith("/_emulator"):
            continue
        found = validate_request(method, path, row.get("query") or {}, row.get("headers") or {}, row.get("body"))
        problems.extend(f"#{number} {method} {path}: {p}" for p in found)
    return problems
