"""The official Admin GraphQL schema per API version, and document validation the way Shopify answers it.

The vendored introspection files (``connectors/shopify/specs``) are Shopify's own for 2024-10, 2025-01, 2026-01,
2026-04 and 2026-10: those versions (2026-07 by 2026-04) are served from them as they are. The versions in between
are derived from 2025-01 by editing the introspection JSON before :func:`graphql.build_client_schema`:

* 2025-07+: ``orderCancel`` takes ``refundMethod: OrderCancelRefundMethodInput`` (``originalPaymentMethodsRefund``,
  ``storeCreditRefund { expiresAt }``) and its ``refund`` becomes an optional, deprecated ``Boolean``
  (shopify.dev changelog "Order cancellation now supports refunds to store credit", 2025-07), with the store-credit
  codes of ``OrderCancelUserErrorCode``;
* 2025-10: ``fulfillmentOrdersReroute`` and its payload, user error and code types, copied from the official
  2026-01 file (shopify.dev changelog "Rerouting fulfillment orders via API", 2025-10);
* 2025-07+: ``returnProcess`` with the input and payload types it names that 2025-01 lacks, copied from the
  official 2026-01 file (shopify.dev changelog "Returns processing API", 2025-07).

Each schema is built once, lazily (about 0.35 s and ~100 MB of Python objects per schema).
"""

from __future__ import annotations

import gzip
import json
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    build_client_schema,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)
from graphql.execution.values import get_variable_values

from connectors.shopify.emulator.config import SUPPORTED_VERSIONS

__all__ = [
    "SchemaFlavor",
    "flavor_for",
    "is_supported_version",
    "schema_for",
    "served_version",
    "shopify_errors",
    "validate_document",
]

SPECS_DIR = Path(__file__).resolve().parent.parent / "specs"
SchemaFlavor = str  # "2024-10" | "2025-01" | "2025-07" | "2025-10" | "2026-01" | "2026-04" | "2026-10"
_OFFICIAL = frozenset({"2024-10", "2025-01", "2026-01", "2026-04", "2026-10"})
_REROUTE_TYPES = (
    "FulfillmentOrdersReroutePayload",
    "FulfillmentOrdersRerouteUserError",
    "FulfillmentOrdersRerouteUserErrorCode",
)

# OrderCancelUserErrorCode on shopify.dev from 2025-07 (store-credit refunds).
_CANCEL_CODES_2025_07 = (
    "INTERNAL_ERROR",
    "NO_REFUND_TO_STORE_CREDIT_PERMISSION",
    "STORE_CREDIT_REFUND_B2B_NOT_SUPPORTED",
    "STORE_CREDIT_REFUND_EXPIRATION_IN_PAST",
    "STORE_CREDIT_REFUND_MISSING_CUSTOMER",
)
_cache: dict[SchemaFlavor, GraphQLSchema] = {}
_lock = threading.Lock()


def is_supported_version(version: str) -> bool:
    return version in SUPPORTED_VERSIONS


_VERSION_FORMAT = re.compile(r"\d{4}-\d{2}")


def served_version(requested: str) -> str | None:
    """The version that answers a request for ``requested``: itself when supported; the oldest supported one for
    a retired or unknown ``YYYY-MM`` version (Shopify falls forward and says so in ``X-Shopify-API-Version``);
    None (HTTP 404) for a path segment that is no version."""
    if is_supported_version(requested):
        return requested
    return SUPPORTED_VERSIONS[0] if _VERSION_FORMAT.fullmatch(requested) else None


def flavor_for(version: str) -> SchemaFlavor:
    """Which schema serves ``version`` (raises ``ValueError`` for an unsupported version)."""
    if not is_supported_version(version):
        raise ValueError(f"unsupported Shopify Admin API version {version!r}")
    if version <= "2024-10":
        return "2024-10"
    if version <= "2025-04":
        return "2025-01"
    if version <= "2025-07":
        return "2025-07"
    if version <= "2025-10":
        return "2025-10"
    if version < "2026-04":
        return "2026-01"
    if version < "2026-10":
        return "2026-04"
    return "2026-10"


def schema_for(version: str) -> GraphQLSchema:
    """The (cached) client schema for an API version."""
    flavor = flavor_for(version)
    with _lock:
        schema = _cache.get(flavor)
        if schema is None:
            # Shopify's schema breaks a few GraphQL type-system rules (deprecated interface implementations), which
            # graphql-core would refuse at validation time; the vendor serves it regardless.
            schema = build_client_schema(_introspection(flavor), assume_valid=True)
            _cache[flavor] = schema
        return schema


def _load(source: str) -> Any:
    with gzip.open(SPECS_DIR / f"admin_schema_{source}.json.gz", "rb") as handle:
        return json.loads(handle.read())["data"]


def _introspection(flavor: SchemaFlavor) -> Any:
    if flavor in _OFFICIAL:
        return _load(flavor)
    data = _load("2025-01")
    _add_refund_method(data["__schema"])
    official = _load("2026-01")["__schema"]
    _add_mutation(data["__schema"], official, "returnProcess")
    if flavor == "2025-10":
        _add_reroute(data["__schema"], official)
    return data


def _named(type_ref: dict[str, Any]) -> str:
    while type_ref.get("ofType") is not None:
        type_ref = type_ref["ofType"]
    return str(type_ref["name"])


def _add_mutation(schema: dict[str, Any], official: dict[str, Any], name: str) -> None:
    """Mutation ``name`` as ``official`` has it, with every type it reaches that ``schema`` lacks."""
    source = {t["name"]: t for t in official["types"]}
    have = {t["name"] for t in schema["types"]}
    field = next(f for f in source[official["mutationType"]["name"]]["fields"] if f["name"] == name)
    next(t for t in schema["types"] if t["name"] == schema["mutationType"]["name"])["fields"].append(field)
    pending = [_named(field["type"]), *(_named(a["type"]) for a in field["args"])]
    while pending:
        type_name = pending.pop()
        if type_name in have:
            continue
        have.add(type_name)
        type_ = source[type_name]
        schema["types"].append(type_)
        for member in [*(type_.get("fields") or ()), *(type_.get("inputFields") or ())]:
            pending.append(_named(member["type"]))
            pending.extend(_named(a["type"]) for a in member.get("args") or ())
        pending.extend(_named(t) for t in [*(type_.get("interfaces") or ()), *(type_.get("possibleTypes") or ())])


def _add_reroute(schema: dict[str, Any], official: dict[str, Any]) -> None:
    """``fulfillmentOrdersReroute`` (new in 2025-10) with the types it names, as the official 2026-01 file has them."""
    mutation_root = schema["mutationType"]["name"]
    source_root = next(t for t in official["types"] if t["name"] == official["mutationType"]["name"])
    field = next(f for f in source_root["fields"] if f["name"] == "fulfillmentOrdersReroute")
    next(t for t in schema["types"] if t["name"] == mutation_root)["fields"].append(field)
    schema["types"].extend(t for t in official["types"] if t["name"] in _REROUTE_TYPES)


def _scalar(name: str) -> dict[str, Any]:
    return {"kind": "SCALAR", "name": name, "ofType": None}


def _input_field(name: str, type_: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "type": type_,
        "defaultValue": None,
        "isDeprecated": False,
        "deprecationReason": None,
    }


def _input_object(name: str, description: str, fields: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "kind": "INPUT_OBJECT",
        "name": name,
        "description": description,
        "fields": None,
        "inputFields": fields,
        "interfaces": None,
        "enumValues": None,
        "possibleTypes": None,
    }


def _add_refund_method(schema: dict[str, Any]) -> None:
    mutation_root = schema["mutationType"]["name"]
    for type_ in schema["types"]:
        if type_["name"] == mutation_root:
            cancel = next(f for f in type_["fields"] if f["name"] == "orderCancel")
            for arg in cancel["args"]:
                if arg["name"] == "refund":
                    arg["type"] = _scalar("Boolean")
                    arg["description"] = "Deprecated: use `refundMethod`. Whether to refund the amount paid."
            cancel["args"].append(
                {
                    "name": "refundMethod",
                    "description": "How to refund the customer: to the original payment methods or to store credit.",
                    "type": {"kind": "INPUT_OBJECT", "name": "OrderCancelRefundMethodInput", "ofType": None},
                    "defaultValue": None,
                }
            )
        elif type_["name"] == "OrderCancelUserErrorCode":
            known = {value["name"] for value in type_["enumValues"]}
            type_["enumValues"].extend(
                {"name": code, "description": None, "isDeprecated": False, "deprecationReason": None}
                for code in _CANCEL_CODES_2025_07
                if code not in known
            )
    schema["types"].append(
        _input_object(
            "OrderCancelStoreCreditRefundInput",
            "The input fields used to refund to store credit.",
            [_input_field("expiresAt", _scalar("DateTime"), "The expiration date of the store credit.")],
        )
    )
    schema["types"].append(
        _input_object(
            "OrderCancelRefundMethodInput",
            "The input fields used to specify the refund method for an order cancellation.",
            [
                _input_field(
                    "originalPaymentMethodsRefund",
                    _scalar("Boolean"),
                    "Whether to refund to the original payment method.",
                ),
                _input_field(
                    "storeCreditRefund",
                    {"kind": "INPUT_OBJECT", "name": "OrderCancelStoreCreditRefundInput", "ofType": None},
                    "Whether to refund to store credit.",
                ),
            ],
        )
    )


# graphql-core validation rule -> graphql-ruby error code, which is what Shopify's GraphQL server reports.
_RULE_CODES = {
    "FieldsOnCorrectTypeRule": "undefinedField",
    "KnownArgumentNamesRule": "argumentNotAccepted",
    "ProvidedRequiredArgumentsRule": "missingRequiredArguments",
    "KnownTypeNamesRule": "undefinedType",
    "KnownDirectivesRule": "undefinedDirective",
    "ValuesOfCorrectTypeRule": "argumentLiteralsIncompatible",
    "VariablesInAllowedPositionRule": "variableMismatch",
    "NoUnusedVariablesRule": "variableNotUsed",
    "NoUndefinedVariablesRule": "variableNotDefined",
    "ScalarLeafsRule": "selectionMismatch",
    "OverlappingFieldsCanBeMergedRule": "fieldConflict",
    "UniqueArgumentNamesRule": "argumentNotUnique",
    "KnownFragmentNamesRule": "undefinedFragment",
    "NoUnusedFragmentsRule": "useAndDefineFragment",
    "UniqueOperationNamesRule": "operationNotUnique",
    "VariablesAreInputTypesRule": "variableRequiresValidType",
    "LoneAnonymousOperationRule": "anonymousOperationNotAlone",
}


def _error_dict(error: GraphQLError, code: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"message": error.message}
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        out["path"] = list(error.path)
    out["extensions"] = {"code": code, **(extra or {})}
    return out


def shopify_errors(
    version: str,
    query: str,
    variables: dict[str, Any] | None = None,
    operation_name: str | None = None,
) -> tuple[DocumentNode | None, list[dict[str, Any]]]:
    """Parse and validate a request; returns the document and Shopify-shaped top-level ``errors`` (empty if valid).

    Syntax errors, schema validation errors and variables that do not fit their declared types are all reported
    the way Shopify does: HTTP 200 with ``{"errors": [{"message", "locations", "path"?, "extensions": {"code"}}]}``
    and no ``data``. Codes follow graphql-ruby (``undefinedField``, ``argumentNotAccepted``,
    ``missingRequiredArguments``...; ``INVALID_VARIABLE`` for variable values). ``variables=None`` checks the
    document only (the HTTP endpoint always passes a dict, ``{}`` when the request has none).
    """
    schema = schema_for(version)
    try:
        document = parse(query)
    except GraphQLError as exc:
        return None, [_error_dict(exc, "PARSE_ERROR")]
    if validate(schema, document):
        return document, _tagged_errors(schema, document)
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        message = (
            f"No operation named '{operation_name}'"
            if operation_name
            else "An operation name is required when the document holds several operations"
        )
        return document, [{"message": message, "extensions": {"code": "OPERATION_NOT_FOUND"}}]
    if variables is None:
        return document, []
    return document, _variable_errors(schema, operation, variables)


def _tagged_errors(schema: GraphQLSchema, document: DocumentNode) -> list[dict[str, Any]]:
    # graphql-core does not tag errors with their rule, so on the (rare) failure path each rule runs alone.
    out: list[dict[str, Any]] = []
    for rule in specified_rules:
        code = _RULE_CODES.get(rule.__name__, "GRAPHQL_VALIDATION_FAILED")
        out.extend(_ruby_style(_error_dict(e, code)) for e in validate(schema, document, [rule]))
    return out


_RUBY_MESSAGES: dict[str, tuple[re.Pattern[str], str, Callable[[dict[str, str]], dict[str, str]]]] = {
    # graphql-core wording -> graphql-ruby wording (what Shopify's server says), with its extension fields.
    "undefinedField": (
        re.compile(r"Cannot query field '(?P<field>\w+)' on type '(?P<type>\w+)'"),
        "Field '{field}' doesn't exist on type '{type}'",
        lambda m: {"typeName": m["type"], "fieldName": m["field"]},
    ),
    "argumentNotAccepted": (
        re.compile(r"Unknown argument '(?P<arg>\w+)' on field '\w+\.(?P<field>\w+)'"),
        "Field '{field}' doesn't accept argument '{arg}'",
        lambda m: {"name": m["field"], "typeName": "Field", "argumentName": m["arg"]},
    ),
    "missingRequiredArguments": (
        re.compile(r"Argument '\w+\.(?P<field>\w+)\((?P<arg>\w+):\)' of type"),
        "Field '{field}' is missing required arguments: {arg}",
        lambda m: {"className": "Field", "name": m["field"], "arguments": m["arg"]},
    ),
}


def _ruby_style(error: dict[str, Any]) -> dict[str, Any]:
    code = error["extensions"]["code"]
    rule = _RUBY_MESSAGES.get(code)
    match = rule[0].search(error["message"]) if rule else None
    if rule is None or match is None:
        return error
    groups = match.groupdict()
    error["message"] = rule[1].format(**groups)
    error["extensions"].update(rule[2](groups))
    return error


def _variable_errors(
    schema: GraphQLSchema, operation: OperationDefinitionNode, variables: dict[str, Any]
) -> list[dict[str, Any]]:
    result = get_variable_values(schema, operation.variable_definitions or (), variables)
    if isinstance(result, list):
        return [_error_dict(e, "INVALID_VARIABLE") for e in result]
    return []


def validate_document(version: str, query: str, variables: dict[str, Any] | None = None) -> list[str]:
    """Messages of everything Shopify would reject in this request (empty list: valid for ``version``).

    Pure function for tests: e.g. validate a connector's recorded traffic against the version it targets.
    With ``variables=None`` only the document is checked; with a dict, the values are coerced against the
    declared variable types too (unknown input fields, missing required values...).
    """
    _, errors = shopify_errors(version, query, variables)
    return [str(e["message"]) for e in errors]
