"""``inventorySetQuantities`` and ``inventoryAdjustQuantities`` with the semantics of the API version served.

* ≤2025-10: compare-and-set with ``compareQuantity`` (required unless ``ignoreCompareQuantity``).
* 2026-01: optional ``changeFromQuantity`` (a quantity that carries the key, even as null, is checked by it
  instead of ``compareQuantity`` — emulator assumption) and optional ``@idempotent(key:)``.
* 2026-04+: ``changeFromQuantity`` must be present on every set quantity (null skips the check) and
  ``@idempotent`` is mandatory on both mutations.

Every call is atomic: one user error and nothing changes. ``field`` paths carry the item index
(``["input", "quantities", "3", "compareQuantity"]``) so a client can tell which items failed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from graphql import GraphQLResolveInfo, get_directive_values

from connectors.shopify.emulator.resolvers import QueryResolvers, parse_gid
from connectors.shopify.emulator.state import Change, Level, ShopState

__all__ = ["MAX_INPUT_ARRAY", "InventoryMutations", "RequestLevelError"]

MAX_INPUT_ARRAY = 250
REASONS = frozenset(
    {
        "correction",
        "cycle_count_available",
        "damaged",
        "other",
        "promotion",
        "received",
        "restock",
        "shrinkage",
        "movement_created",
        "movement_updated",
        "movement_received",
        "movement_canceled",
        "quality_control",
        "reservation_created",
        "reservation_deleted",
        "reservation_updated",
        "safety_stock",
    }
)
SETTABLE_NAMES = ("available", "on_hand")
ADJUSTABLE_NAMES = ("available", "on_hand", "damaged", "incoming", "quality_control", "reserved", "safety_stock")
_URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://\S+$")
_MAX_QUANTITY = 1_000_000_000

Payload = dict[str, Any]
UserError = dict[str, Any]


class RequestLevelError(Exception):
    """An error Shopify reports at the top level with no ``data`` (input too large, missing @idempotent...).

    ``input_path`` locates the offending argument below the mutation field (appended to the error's ``path``).
    """

    def __init__(self, message: str, code: str, input_path: list[str | int] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.input_path = input_path or []


def _error(code: str, message: str, *field: str | int) -> UserError:
    return {"code": code, "field": [str(f) for f in field] if field else None, "message": message}


class InventoryMutations:
    """Mutation root values; ``on_change`` is told about levels whose ``available`` changed (for webhooks)."""

    def __init__(
        self,
        state: ShopState,
        resolvers: QueryResolvers,
        flavor: Callable[[], str],
        on_change: Callable[[list[Level]], None],
    ) -> None:
        self.state = state
        self.resolvers = resolvers
        self._flavor = flavor
        self._on_change = on_change
        self._idempotent: dict[str, tuple[str, Payload]] = {}

    def root(self) -> dict[str, Any]:
        return {
            "inventorySetQuantities": lambda info, input: self._idempotently(
                info, "inventorySetQuantities", input, self.set_quantities
            ),
            "inventoryAdjustQuantities": lambda info, input: self._idempotently(
                info, "inventoryAdjustQuantities", input, self.adjust_quantities
            ),
        }

    # --- idempotency ---------------------------------------------------------------------------------------
    def _idempotently(
        self, info: GraphQLResolveInfo[Any], name: str, data: dict[str, Any], run: Callable[[dict[str, Any]], Payload]
    ) -> Payload:
        flavor = self._flavor()
        key = self._idempotency_key(info) if flavor >= "2026-01" else None
        if key is None and flavor >= "2026-04":
            raise RequestLevelError(
                f"The @idempotent directive with a key is required for {name} as of API version 2026-04.",
                "BAD_REQUEST",
            )
        if key is None:
            return run(data)
        fingerprint = json.dumps([name, data], sort_keys=True, default=str)
        if key in self._idempotent:
            seen, payload = self._idempotent[key]
            if seen == fingerprint:
                return payload
            return {
                "inventoryAdjustmentGroup": None,
                "userErrors": [
                    _error(
                        "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                        "The same idempotency key cannot be used with different operation parameters.",
                    )
                ],
            }
        payload = run(data)
        self._idempotent[key] = (fingerprint, payload)
        return payload

    @staticmethod
    def _idempotency_key(info: GraphQLResolveInfo[Any]) -> str | None:
        directive = info.schema.get_directive("idempotent")
        if directive is None:
            return None
        values = get_directive_values(directive, info.field_nodes[0], info.variable_values)
        return str(values["key"]) if values and values.get("key") else None

    # --- shared checks -------------------------------------------------------------------------------------
    def _common(self, data: dict[str, Any], array: str, names: tuple[str, ...], name_code: str) -> list[UserError]:
        rows = data.get(array) or []
        if len(rows) > MAX_INPUT_ARRAY:
            # Shopify caps every input array at 250 items; reported at the top level, nothing executes.
            raise RequestLevelError(
                f"The input array size of {len(rows)} is greater than the maximum allowed of {MAX_INPUT_ARRAY}.",
                "MAX_INPUT_SIZE_EXCEEDED",
                ["input", array],
            )
        errors: list[UserError] = []
        if data.get("name") not in names:
            message = (
                "The quantity name must be either 'available' or 'on_hand'."
                if name_code == "INVALID_NAME"
                else f"The quantity name '{data.get('name')}' is not valid."
            )
            errors.append(_error(name_code, message, "input", "name"))
        if data.get("reason") not in REASONS:
            errors.append(_error("INVALID_REASON", "The specified reason is invalid.", "input", "reason"))
        uri = data.get("referenceDocumentUri")
        if uri is not None and not _URI.match(uri):
            errors.append(
                _error(
                    "INVALID_REFERENCE_DOCUMENT",
                    "The specified reference document is invalid.",
                    "input",
                    "referenceDocumentUri",
                )
            )
        return errors

    def _level(self, row: dict[str, Any], array: str, index: int, errors: list[UserError]) -> Level | None:
        item_id = parse_gid(row.get("inventoryItemId"), "InventoryItem")
        location_id = parse_gid(row.get("locationId"), "Location")
        if item_id is None or item_id not in self.state.items:
            errors.append(
                _error(
                    "INVALID_INVENTORY_ITEM",
                    "The specified inventory item could not be found.",
                    "input",
                    array,
                    index,
                    "inventoryItemId",
                )
            )
            return None
        if location_id is None or location_id not in self.state.locations:
            errors.append(
                _error(
                    "INVALID_LOCATION",
                    "The specified location could not be found.",
                    "input",
                    array,
                    index,
                    "locationId",
                )
            )
            return None
        level = self.state.levels.get((item_id, location_id))
        if level is None:
            errors.append(
                _error(
                    "ITEM_NOT_STOCKED_AT_LOCATION",
                    "The specified inventory item is not stocked at the location.",
                    "input",
                    array,
                    index,
                    "locationId",
                )
            )
        return level

    def _apply(self, data: dict[str, Any], planned: list[tuple[Level, str, int, str | None]]) -> Payload:
        changes: list[Change] = []
        touched: list[Level] = []
        for level, name, delta, ledger in planned:
            if delta == 0:
                continue
            before_available = level.get("available")
            after = self.state.change(level, name, delta)
            changes.append(Change(name, delta, after, level.item_id, level.location_id, ledger))
            if name == "available":
                changes.append(Change("on_hand", delta, level.get("on_hand"), level.item_id, level.location_id))
            elif name == "on_hand":
                changes.append(Change("available", delta, level.get("available"), level.item_id, level.location_id))
            if level.get("available") != before_available and level not in touched:
                touched.append(level)
        group = None
        if changes:
            recorded = self.state.record_group(data["reason"], data.get("referenceDocumentUri"), changes)
            group = self.resolvers.adjustment_group(recorded)
        if touched:
            self._on_change(touched)
        return {"inventoryAdjustmentGroup": group, "userErrors": []}

    # --- inventorySetQuantities ----------------------------------------------------------------------------
    def set_quantities(self, data: dict[str, Any]) -> Payload:
        flavor = self._flavor()
        errors = self._common(data, "quantities", SETTABLE_NAMES, "INVALID_NAME")
        name = data.get("name", "available")
        ignore_compare = bool(data.get("ignoreCompareQuantity"))
        planned: list[tuple[Level, str, int, str | None]] = []
        seen: set[tuple[int, int]] = set()
        for i, row in enumerate(data.get("quantities") or []):
            if flavor >= "2026-04" and "changeFromQuantity" not in row:
                raise RequestLevelError(
                    "changeFromQuantity is required on every quantity as of API version 2026-04 "
                    "(pass null explicitly to skip the check).",
                    "BAD_REQUEST",
                    ["input", "quantities", i, "changeFromQuantity"],
                )
            level = self._level(row, "quantities", i, errors)
            quantity = int(row["quantity"])
            if quantity < 0:
                errors.append(
                    _error(
                        "INVALID_QUANTITY_NEGATIVE",
                        "The quantity can't be negative.",
                        "input",
                        "quantities",
                        i,
                        "quantity",
                    )
                )
            elif quantity > _MAX_QUANTITY:
                errors.append(
                    _error(
                        "INVALID_QUANTITY_TOO_HIGH",
                        "The total quantity can't be higher than 1,000,000,000.",
                        "input",
                        "quantities",
                        i,
                        "quantity",
                    )
                )
            if level is None or name not in SETTABLE_NAMES:
                continue
            key = (level.item_id, level.location_id)
            if key in seen:
                errors.append(
                    _error(
                        "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                        "The combination of inventoryItemId and locationId must be unique.",
                        "input",
                        "quantities",
                        i,
                        "locationId",
                    )
                )
                continue
            seen.add(key)
            current = level.get(name)
            if flavor >= "2026-01" and "changeFromQuantity" in row:
                expected = row["changeFromQuantity"]
                if expected is not None and expected != current:
                    errors.append(
                        _error(
                            "CHANGE_FROM_QUANTITY_STALE",
                            "The changeFromQuantity value does not match persisted value.",
                            "input",
                            "quantities",
                            i,
                            "changeFromQuantity",
                        )
                    )
            elif not ignore_compare:
                expected = row.get("compareQuantity")
                if expected is None:
                    errors.append(
                        _error(
                            "COMPARE_QUANTITY_REQUIRED",
                            "The compareQuantity argument must be given to each quantity or ignored using "
                            "ignoreCompareQuantity.",
                            "input",
                            "quantities",
                            i,
                            "compareQuantity",
                        )
                    )
                elif expected != current:
                    errors.append(
                        _error(
                            "COMPARE_QUANTITY_STALE",
                            "The compareQuantity value does not match persisted value.",
                            "input",
                            "quantities",
                            i,
                            "compareQuantity",
                        )
                    )
            planned.append((level, name, quantity - current, None))
        if errors:
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        return self._apply(data, planned)

    # --- inventoryAdjustQuantities -------------------------------------------------------------------------
    def adjust_quantities(self, data: dict[str, Any]) -> Payload:
        flavor = self._flavor()
        errors = self._common(data, "changes", ADJUSTABLE_NAMES, "INVALID_QUANTITY_NAME")
        name = data.get("name", "available")
        planned: list[tuple[Level, str, int, str | None]] = []
        ledgers: set[str] = set()
        for i, row in enumerate(data.get("changes") or []):
            level = self._level(row, "changes", i, errors)
            delta = int(row["delta"])
            ledger = row.get("ledgerDocumentUri")
            if name == "available" and ledger is not None:
                errors.append(
                    _error(
                        "INVALID_AVAILABLE_DOCUMENT",
                        "A ledger document can't be given for 'available'.",
                        "input",
                        "changes",
                        i,
                        "ledgerDocumentUri",
                    )
                )
            elif name != "available" and ledger is None:
                errors.append(
                    _error(
                        "INVALID_QUANTITY_DOCUMENT",
                        "A ledger document is required for this quantity name.",
                        "input",
                        "changes",
                        i,
                        "ledgerDocumentUri",
                    )
                )
            elif ledger is not None:
                if ledger.startswith("gid://shopify/"):
                    errors.append(
                        _error(
                            "INTERNAL_LEDGER_DOCUMENT",
                            "The ledger document can't be a Shopify resource.",
                            "input",
                            "changes",
                            i,
                            "ledgerDocumentUri",
                        )
                    )
                elif not _URI.match(ledger):
                    errors.append(
                        _error(
                            "INVALID_LEDGER_DOCUMENT",
                            "The ledger document is invalid.",
                            "input",
                            "changes",
                            i,
                            "ledgerDocumentUri",
                        )
                    )
                ledgers.add(ledger)
            if level is None or name not in ADJUSTABLE_NAMES:
                continue
            current = level.get(name)
            if (
                flavor >= "2026-01"
                and row.get("changeFromQuantity") is not None
                and row["changeFromQuantity"] != current
            ):
                errors.append(
                    _error(
                        "CHANGE_FROM_QUANTITY_STALE",
                        "The changeFromQuantity value does not match persisted value.",
                        "input",
                        "changes",
                        i,
                        "changeFromQuantity",
                    )
                )
            if not -2_000_000_000 <= current + delta <= 2_000_000_000:
                errors.append(
                    _error(
                        "INVALID_QUANTITY_TOO_HIGH" if delta > 0 else "INVALID_QUANTITY_TOO_LOW",
                        "The quantity is out of range.",
                        "input",
                        "changes",
                        i,
                        "delta",
                    )
                )
            planned.append((level, name, delta, ledger))
        if len(ledgers) > 1:
            errors.append(
                _error("MAX_ONE_LEDGER_DOCUMENT", "All changes must share one ledger document.", "input", "changes")
            )
        if errors:
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        return self._apply(data, planned)
