"""Every request the act's emulators received, checked again against the vendors' official specs.

Shopify: each GraphQL document against the Admin schema of the version in its URL; Amazon: each call against the
SP-API models (:mod:`connectors.amazon.spec_check`); ShipBob: each call against its OpenAPI 1.0 document; Square:
each call against Square's OpenAPI document (:func:`connectors.square.emulator.validate_request`). The
Shopify and ShipBob emulators also refuse a request their spec forbids as it arrives (Shopify answers an invalid
document with ``errors``, ShipBob with a 4xx) and count it: the act passes those counts in. EasyPost publishes no
machine-readable spec: its requests are counted, and the emulator answers only the documented shapes.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from connectors.amazon.spec_check import validate_recorded
from connectors.shipbob.emulator.openapi import validate_request as shipbob_request
from connectors.shopify.emulator import validate_document
from connectors.square.emulator import validate_request as square_request
from omnibridge.sdk.emulator import read_recorded

__all__ = ["validate_traffic"]


def _shopify(rows: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    for row in rows:
        if not str(row.get("path", "")).endswith("/graphql.json"):
            continue
        version = str(row["path"]).split("/")[3]
        body = row.get("body") or {}
        for problem in validate_document(version, body.get("query", ""), body.get("variables") or {}):
            problems.append(f"shopify {version}: {problem}")
    return problems


def _shipbob(rows: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    for row in rows:
        path = str(row.get("path", ""))
        if path.startswith("/_emulator"):
            continue
        query = {key: values[0] for key, values in (row.get("query") or {}).items() if values}
        found = shipbob_request(str(row["method"]), path, query, row.get("headers") or {}, row.get("body"))
        problems.extend(f"shipbob {row['method']} {path}: {problem}" for problem in found)
    return problems


def _square(rows: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    for row in rows:
        path = str(row.get("path", ""))
        if not path.startswith("/v2/"):
            continue
        found = square_request(str(row["method"]), path, row.get("body"))
        problems.extend(f"square {row['method']} {path}: {problem}" for problem in found)
    return problems


def validate_traffic(recorded: Path, refused_by_validation: int = 0) -> dict[str, Any]:
    """The requests recorded in ``recorded``: ``requests`` (in all and ``by_vendor``), ``problems`` (one line
    each) and ``refused_by_validation`` (requests an emulator answered 4xx because they broke the spec, as the
    emulators counted them)."""
    rows = read_recorded(recorded) if recorded.exists() else []
    by_service: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_service.setdefault(str(row.get("service")), []).append(row)
    problems = [
        *_shopify(by_service.get("shopify", [])),
        *(f"amazon: {p}" for p in validate_recorded(by_service.get("amazon", []))),
        *_shipbob(by_service.get("shipbob", [])),
        *_square(by_service.get("square", [])),
    ]
    return {
        "requests": len(rows),
        "by_vendor": dict(Counter(str(row.get("service")) for row in rows)),
        "problems": problems,
        "refused_by_validation": refused_by_validation,
    }
