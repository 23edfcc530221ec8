"""What the warehouse export writes of each table: the columns, their Parquet types, and the order rows are
taken in. Personal data stays out: no names, emails, phones or addresses (orders carry the customer id only)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from omnibridge.store.tables import INCIDENTS, MOVEMENTS, ORDER_LINES, ORDERS, RETURNS, SHIPMENTS

TIME = pa.timestamp("us", tz="UTC")
AMOUNT = pa.decimal128(20, 6)


def _amount(value: Any) -> Decimal | None:
    if not isinstance(value, dict) or value.get("amount") is None:
        return None
    try:
        return Decimal(str(value["amount"])).quantize(Decimal("0.000001"))
    except InvalidOperation:
        return None


def _currency(value: Any) -> str | None:
    return str(value["currency"]) if isinstance(value, dict) and value.get("currency") else None


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


@dataclass(frozen=True, slots=True)
class Field:
    """One exported column: its name, type, the store column it is read from and how a value is converted."""

    name: str
    type: pa.DataType
    column: str | None = None
    convert: Callable[[Any], Any] | None = None

    @property
    def source(self) -> str:
        return self.column or self.name


@dataclass(frozen=True, slots=True)
class Source:
    """One exported table: rows are taken in ``(stamp, key)`` order, and a file's date is its rows' stamp date."""

    name: str
    table: sa.Table
    stamp: str
    key: str
    fields: tuple[Field, ...]

    @property
    def numeric_key(self) -> bool:
        return isinstance(self.table.c[self.key].type, sa.Integer)

    def schema(self) -> pa.Schema:
        return pa.schema([(f.name, f.type) for f in self.fields])


def _s(name: str, column: str | None = None) -> Field:
    return Field(name, pa.string(), column)


def _i(name: str) -> Field:
    return Field(name, pa.int64())


def _t(name: str) -> Field:
    return Field(name, TIME)


SOURCES: tuple[Source, ...] = (
    Source(
        "orders",
        ORDERS,
        "updated_at",
        "id",
        (
            _s("id"), _s("channel"), _s("external_id"), _s("number"), _s("status"), _s("fulfilment_method"),
            _s("pickup_location_id"), _s("customer_id"),
            Field("total_amount", AMOUNT, "total", _amount), Field("currency", pa.string(), "total", _currency),
            _i("priority"), _t("placed_at"), _t("updated_at"),
        ),
    ),
    Source(
        "order_lines",
        ORDER_LINES,
        "updated_at",
        "id",
        (
            _s("id"), _s("channel"), _s("order_ref"), _s("line_ref"), _s("sku"), _i("quantity"), _s("location_id"),
            _s("channel_location_id"), _s("status"), _i("committed"), _i("shipped"), _i("cancelled"), _i("returned"),
            _i("version"), _t("placed_at"), _t("updated_at"),
        ),
    ),
    Source(
        "movements",
        MOVEMENTS,
        "recorded_at",
        "id",
        (
            _i("id"), _s("idempotency_key"), _s("source"), _s("kind"), _s("sku"), _s("location_id"), _i("quantity"),
            _i("counted_quantity"), _i("delta_on_hand"), _i("delta_committed"), _i("delta_reserved"),
            _i("delta_incoming"), _t("occurred_at"), _t("recorded_at"), _s("reference"),
            Field("superseded_by_count", pa.bool_()),
        ),
    ),
    Source(
        "shipments",
        SHIPMENTS,
        "created_at",
        "id",
        (
            _s("id"), _s("order_id"), _s("from_location_id"), _s("carrier"), _s("service"), _s("tracking_number"),
            Field("cost_amount", AMOUNT, "cost", _amount), Field("currency", pa.string(), "cost", _currency),
            Field("lines", pa.string(), "lines", _json), _s("status"), _t("created_at"),
        ),
    ),
    Source(
        "returns",
        RETURNS,
        "created_at",
        "id",
        (
            _s("id"), _s("order_id"), _s("channel"), _s("external_id"), _s("location_id"), _s("status"),
            Field("lines", pa.string(), "lines", _json),
            Field("refund_amount", AMOUNT, "refund", _amount), Field("currency", pa.string(), "refund", _currency),
            _t("created_at"),
        ),
    ),
    Source(
        "incidents",
        INCIDENTS,
        "created_at",
        "id",
        (
            _i("id"), _s("kind"), _s("decision"), _s("channel"), _s("sku"), _s("location_id"), _s("order_id"),
            _s("summary"), Field("data", pa.string(), "data", _json), _t("created_at"), _t("resolved_at"),
        ),
    ),
)  # fmt: skip
"""Every exported table, in export order."""
