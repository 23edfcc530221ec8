"""In-memory merchant state of the Square emulator: locations, catalog, inventory changes, orders.

Inventory follows Square's model: the history of changes is the truth and counts are calculated from it.
For one (variation, location, state) the quantity is the latest ``PHYSICAL_COUNT`` (by ``occurred_at``, ties by
arrival) plus every ``ADJUSTMENT`` into or out of that state that occurred after it. So changes may arrive out of
order and a count at ``t`` never erases a sale at ``t' > t``.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

__all__ = [
    "UNTRACKED_STATES",
    "ChangeRecord",
    "MerchantState",
    "format_quantity",
    "format_time",
    "parse_time",
]

# Square ignores these states when it reports counts.
UNTRACKED_STATES = frozenset({"NONE", "SOLD", "UNLINKED_RETURN"})
_UPPER_ALNUM = string.ascii_uppercase + string.digits
_BASE62 = string.ascii_letters + string.digits


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds, the way Square writes timestamps (``2025-05-01T12:00:00.000Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(value: str) -> datetime:
    """Parse an RFC 3339 timestamp (``Z`` or offset); a naive value is taken as UTC. Raises ValueError."""
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_quantity(value: Decimal) -> str:
    """A decimal quantity as Square writes it: ``"10"``, ``"1.5"`` (no exponent, no trailing zeros)."""
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")


@dataclass
class ChangeRecord:
    """One applied inventory change (``type`` PHYSICAL_COUNT or ADJUSTMENT) with its Square JSON body."""

    seq: int
    type: str
    body: dict[str, Any]
    occurred_at: datetime
    created_at: datetime

    @property
    def catalog_object_id(self) -> str:
        return str(self.body["catalog_object_id"])

    @property
    def location_id(self) -> str:
        return str(self.body["location_id"])

    @property
    def quantity(self) -> Decimal:
        return Decimal(str(self.body["quantity"]))

    def states(self) -> tuple[str, ...]:
        if self.type == "PHYSICAL_COUNT":
            return (str(self.body["state"]),)
        return (str(self.body["from_state"]), str(self.body["to_state"]))

    def to_json(self) -> dict[str, Any]:
        key = "physical_count" if self.type == "PHYSICAL_COUNT" else "adjustment"
        return {"type": self.type, key: dict(self.body)}


@dataclass
class MerchantState:
    """Everything one emulated Square merchant holds. Not thread-safe; the ASGI app runs on one event loop."""

    merchant_id: str
    clock: Callable[[], datetime]
    rng: random.Random
    locations: dict[str, dict[str, Any]] = field(default_factory=dict)
    catalog: dict[str, dict[str, Any]] = field(default_factory=dict)
    sku_index: dict[str, str] = field(default_factory=dict)
    changes: list[ChangeRecord] = field(default_factory=list)
    by_pair: dict[tuple[str, str], list[ChangeRecord]] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    catalog_version: int = 1

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    def new_id(self, length: int, alphabet: str = _UPPER_ALNUM) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(length))

    def new_uuid(self) -> str:
        return "%08x-%04x-4%03x-%04x-%012x" % (  # noqa: UP031 - fixed-width hex groups
            self.rng.getrandbits(32),
            self.rng.getrandbits(16),
            self.rng.getrandbits(12),
            0x8000 | self.rng.getrandbits(14),
            self.rng.getrandbits(48),
        )

    # -- locations and catalog -------------------------------------------------------------------------------

    def add_location(self, name: str) -> str:
        location_id = self.new_id(13)
        self.locations[location_id] = {
            "id": location_id,
            "name": name,
            "merchant_id": self.merchant_id,
            "status": "ACTIVE",
            "type": "PHYSICAL",
            "country": "US",
            "currency": "USD",
            "timezone": "America/Los_Angeles",
            "language_code": "en-US",
            "business_name": "omnibridge emulator",
            "capabilities": ["CREDIT_CARD_PROCESSING"],
            "created_at": self.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        return location_id

    def add_variation(self, sku: str, name: str, price_cents: int, currency: str) -> str:
        if sku.lower() in self.sku_index:
            raise ValueError(f"SKU {sku!r} already exists")
        self.catalog_version += 1
        version = self.catalog_version
        updated = format_time(self.now())
        item_id, variation_id = self.new_id(24), self.new_id(24)
        variation = {
            "type": "ITEM_VARIATION",
            "id": variation_id,
            "updated_at": updated,
            "version": version,
            "is_deleted": False,
            "present_at_all_locations": True,
            "item_variation_data": {
                "item_id": item_id,
                "name": "Regular",
                "sku": sku,
                "ordinal": 1,
                "pricing_type": "FIXED_PRICING",
                "price_money": {"amount": price_cents, "currency": currency},
                "track_inventory": True,
                "sellable": True,
                "stockable": True,
            },
        }
        item = {
            "type": "ITEM",
            "id": item_id,
            "updated_at": updated,
            "version": version,
            "is_deleted": False,
            "present_at_all_locations": True,
            "item_data": {"name": name, "product_type": "REGULAR", "variations": [variation]},
        }
        self.catalog[item_id] = item
        self.catalog[variation_id] = variation
        self.sku_index[sku.lower()] = variation_id
        return variation_id

    def variation_for_sku(self, sku: str) -> str:
        try:
            return self.sku_index[sku.lower()]
        except KeyError:
            raise KeyError(f"unknown SKU {sku!r}") from None

    def item_name(self, variation_id: str) -> str:
        item = self.catalog[self.catalog[variation_id]["item_variation_data"]["item_id"]]
        return str(item["item_data"]["name"])

    # -- inventory ---------------------------------------------------------------------------------------------

    def record_change(
        self, change_type: str, body: dict[str, Any], occurred_at: datetime, created_at: datetime | None = None
    ) -> ChangeRecord:
        """Append one validated change; fills Square's server-side fields (id, created_at, catalog type).

        ``created_at`` (when Square recorded it) is now unless given, for history seeded into the past.
        """
        created = created_at or self.now()
        body = dict(body)
        body.setdefault("id", self.new_id(24))
        body.setdefault("catalog_object_type", "ITEM_VARIATION")
        body["occurred_at"] = format_time(occurred_at)
        body["created_at"] = format_time(created)
        body["quantity"] = format_quantity(Decimal(str(body["quantity"])))
        body.setdefault("source", {"product": "EXTERNAL_API", "name": "omnibridge emulator"})
        record = ChangeRecord(len(self.changes) + 1, change_type, body, occurred_at, created)
        self.changes.append(record)
        self.by_pair.setdefault((record.catalog_object_id, record.location_id), []).append(record)
        return record

    def count(self, variation_id: str, location_id: str, state: str = "IN_STOCK") -> tuple[Decimal, datetime] | None:
        """(quantity, calculated_at) of one state, or None when no change ever touched it."""
        relevant = [c for c in self.by_pair.get((variation_id, location_id), ()) if state in c.states()]
        if not relevant:
            return None
        ordered = sorted(relevant, key=lambda c: (c.occurred_at, c.seq))
        base_index = max((i for i, c in enumerate(ordered) if c.type == "PHYSICAL_COUNT"), default=-1)
        quantity = ordered[base_index].quantity if base_index >= 0 else Decimal(0)
        for change in ordered[base_index + 1 :]:
            if change.type != "ADJUSTMENT":
                continue
            if change.body["to_state"] == state:
                quantity += change.quantity
            if change.body["from_state"] == state:
                quantity -= change.quantity
        return quantity, max(c.created_at for c in relevant)

    def count_json(self, variation_id: str, location_id: str, state: str = "IN_STOCK") -> dict[str, Any] | None:
        found = self.count(variation_id, location_id, state)
        if found is None:
            return None
        quantity, calculated_at = found
        return {
            "catalog_object_id": variation_id,
            "catalog_object_type": "ITEM_VARIATION",
            "state": state,
            "location_id": location_id,
            "quantity": format_quantity(quantity),
            "calculated_at": format_time(calculated_at),
        }

    def all_counts(self) -> list[dict[str, Any]]:
        """Every tracked (variation, location, state) count, newest ``calculated_at`` first."""
        counts = self.counts_for(self.changes)
        counts.sort(key=lambda c: (c["calculated_at"], c["catalog_object_id"], c["location_id"]), reverse=True)
        return counts

    def counts_for(self, records: Iterable[ChangeRecord]) -> list[dict[str, Any]]:
        """Current tracked counts of every (variation, location, state) the given changes touched."""
        keys: dict[tuple[str, str, str], None] = {}
        for change in records:
            for state in change.states():
                if state not in UNTRACKED_STATES:
                    keys[(change.catalog_object_id, change.location_id, state)] = None
        return [c for key in keys if (c := self.count_json(*key)) is not None]

    def in_stock(self, variation_id: str, location_id: str) -> Decimal:
        found = self.count(variation_id, location_id, "IN_STOCK")
        return found[0] if found else Decimal(0)

    # -- orders ------------------------------------------------------------------------------------------------

    def new_order(
        self,
        location_id: str,
        lines: list[tuple[str, Decimal]],
        source: str,
        created_at: datetime | None = None,
        *,
        fulfillments: list[dict[str, Any]] | None = None,
        custom_lines: list[dict[str, Any]] | None = None,
        names: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """An OPEN order (version 1) of ``(variation_id, quantity)`` lines, priced from the catalog.

        ``created_at`` in the past models a POS order taken offline and uploaded late (``updated_at`` is now).
        ``fulfillments`` are stored as given, each with a ``uid`` added; ``custom_lines`` are priced line items
        without a catalog object (``name``, ``quantity``, ``base_price_money``); ``names`` may carry
        ``reference_id`` and ``ticket_name``.
        """
        now = format_time(self.now())
        line_items: list[dict[str, Any]] = []
        total = 0
        currency = "USD"
        for custom in custom_lines or []:
            price = custom["base_price_money"]
            currency = str(price["currency"])
            line_total = int(Decimal(price["amount"]) * Decimal(custom["quantity"]))
            total += line_total
            money = {"amount": line_total, "currency": currency}
            line_items.append(
                {"uid": self.new_id(22, _BASE62), **custom, "item_type": "CUSTOM_AMOUNT", "total_money": money}
            )
        for variation_id, quantity in lines:
            data = self.catalog[variation_id]["item_variation_data"]
            price = data["price_money"]
            currency = str(price["currency"])
            line_total = int(Decimal(price["amount"]) * quantity)
            total += line_total
            line_items.append(
                {
                    "uid": self.new_id(22, _BASE62),
                    "name": self.item_name(variation_id),
                    "quantity": format_quantity(quantity),
                    "catalog_object_id": variation_id,
                    "catalog_version": self.catalog[variation_id]["version"],
                    "variation_name": data["name"],
                    "item_type": "ITEM",
                    "base_price_money": dict(price),
                    "gross_sales_money": {"amount": line_total, "currency": currency},
                    "total_money": {"amount": line_total, "currency": currency},
                }
            )
        order_id = self.new_id(29, _BASE62)
        order = {
            "id": order_id,
            "location_id": location_id,
            "source": {"name": source},
            "line_items": line_items,
            "state": "OPEN",
            "version": 1,
            "created_at": format_time(created_at) if created_at else now,
            "updated_at": now,
            "total_money": {"amount": total, "currency": currency},
            "net_amount_due_money": {"amount": total, "currency": currency},
        }
        order.update(names or {})
        if fulfillments:
            order["fulfillments"] = [{"uid": self.new_id(22, _BASE62), **f} for f in fulfillments]
        self.orders[order_id] = order
        return order

    def set_fulfillment_state(self, order_id: str, state: str) -> dict[str, Any]:
        """Move every fulfillment of the order that is not CANCELED or FAILED to ``state``; bumps the version."""
        order = self.orders[order_id]
        if not order.get("fulfillments"):
            raise ValueError(f"order {order_id} has no fulfillment")
        now = format_time(self.now())
        for fulfillment in order["fulfillments"]:
            if fulfillment.get("state") not in ("CANCELED", "FAILED"):
                fulfillment["state"] = state
                details = fulfillment.get("shipment_details")
                if state == "COMPLETED" and isinstance(details, dict):
                    details.setdefault("shipped_at", now)
        order["version"] = int(order["version"]) + 1
        order["updated_at"] = now
        return order

    def set_order_state(self, order_id: str, state: str) -> dict[str, Any]:
        """Move an order to ``state`` (bumps version and updated_at; closed_at for COMPLETED/CANCELED)."""
        order = self.orders[order_id]
        now = format_time(self.now())
        order["state"] = state
        order["version"] = int(order["version"]) + 1
        order["updated_at"] = now
        if state in ("COMPLETED", "CANCELED"):
            order["closed_at"] = now
            order["net_amount_due_money"] = {"amount": 0, "currency": order["total_money"]["currency"]}
        return order
