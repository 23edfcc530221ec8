"""Initial schema: catalog, locations, ledger, bindings, orders, shipments, returns, customers, listings.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, *, nullable: bool) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("product_type", sa.String(), nullable=True),
        sa.Column("vendor", sa.String(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_products"),
    )
    op.create_table(
        "variants",
        sa.Column("sku", sa.String(255), nullable=False),
        sa.Column("product_id", sa.String(255), nullable=False),
        sa.Column("title", sa.String(), nullable=True),
        sa.Column("barcodes", sa.JSON(), nullable=False),
        sa.Column("option_values", sa.JSON(), nullable=False),
        sa.Column("price", sa.JSON(), nullable=True),
        sa.Column("weight_grams", sa.Integer(), nullable=True),
        sa.Column("tracked", sa.Boolean(), nullable=False),
        sa.Column("allow_backorder", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("sku", name="pk_variants"),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name="fk_variants_product_id_products", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_variants_product_id", "variants", ["product_id"])

    op.create_table(
        "locations",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("address", sa.JSON(), nullable=True),
        sa.Column("coordinates", sa.JSON(), nullable=True),
        sa.Column("capabilities", sa.JSON(), nullable=False),
        sa.Column("pickup_hours", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_locations"),
    )

    op.create_table(
        "inventory_positions",
        sa.Column("sku", sa.String(255), nullable=False),
        sa.Column("location_id", sa.String(255), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("committed", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("safety_stock", sa.Integer(), nullable=False),
        sa.Column("incoming", sa.Integer(), nullable=False),
        _ts("updated_at", nullable=True),
        sa.PrimaryKeyConstraint("sku", "location_id", name="pk_inventory_positions"),
    )
    op.create_table(
        "stock_movements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("sku", sa.String(255), nullable=False),
        sa.Column("location_id", sa.String(255), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("counted_quantity", sa.Integer(), nullable=True),
        sa.Column("delta_on_hand", sa.Integer(), nullable=False),
        sa.Column("delta_committed", sa.Integer(), nullable=False),
        sa.Column("delta_reserved", sa.Integer(), nullable=False),
        sa.Column("delta_incoming", sa.Integer(), nullable=False),
        _ts("occurred_at", nullable=False),
        _ts("recorded_at", nullable=False),
        sa.Column("reference", sa.String(), nullable=True),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("superseded_by_count", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stock_movements"),
        sa.UniqueConstraint("idempotency_key", name="uq_stock_movements_idempotency_key"),
    )
    op.create_index("ix_stock_movements_position_time", "stock_movements", ["sku", "location_id", "occurred_at"])

    op.create_table(
        "channel_bindings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("record", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("internal_id", sa.String(255), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_channel_bindings"),
        sa.UniqueConstraint(
            "channel", "record", "external_id", name="uq_channel_bindings_channel_record_external_id"
        ),
        sa.UniqueConstraint(
            "channel", "record", "internal_id", name="uq_channel_bindings_channel_record_internal_id"
        ),
    )

    op.create_table(
        "orders",
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("number", sa.String(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("fulfilment_method", sa.String(32), nullable=False),
        sa.Column("pickup_location_id", sa.String(), nullable=True),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("ship_to", sa.JSON(), nullable=True),
        sa.Column("customer_id", sa.String(), nullable=True),
        sa.Column("total", sa.JSON(), nullable=True),
        _ts("placed_at", nullable=False),
        _ts("updated_at", nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sa.UniqueConstraint("channel", "external_id", name="uq_orders_channel_external_id"),
    )
    op.create_index("ix_orders_customer_id", "orders", ["customer_id"])

    op.create_table(
        "shipments",
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("order_id", sa.String(255), nullable=False),
        sa.Column("from_location_id", sa.String(255), nullable=False),
        sa.Column("carrier", sa.String(64), nullable=False),
        sa.Column("service", sa.String(), nullable=True),
        sa.Column("tracking_number", sa.String(), nullable=True),
        sa.Column("label_url", sa.String(), nullable=True),
        sa.Column("cost", sa.JSON(), nullable=True),
        sa.Column("ship_to", sa.JSON(), nullable=True),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        _ts("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_shipments"),
    )
    op.create_index("ix_shipments_order_id", "shipments", ["order_id"])
    op.create_index("ix_shipments_tracking_number", "shipments", ["tracking_number"])
    op.create_table(
        "shipment_tracking_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("shipment_id", sa.String(255), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("carrier_status", sa.String(), nullable=False),
        _ts("occurred_at", nullable=False),
        sa.Column("message", sa.String(), nullable=True),
        sa.Column("location", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_shipment_tracking_events"),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name="fk_shipment_tracking_events_shipment_id_shipments",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("shipment_id", "occurred_at", "carrier_status", name="uq_tracking_events_event"),
    )

    op.create_table(
        "returns",
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("order_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("external_id", sa.String(), nullable=True),
        sa.Column("location_id", sa.String(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("refund", sa.JSON(), nullable=True),
        _ts("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_returns"),
    )
    op.create_index("ix_returns_order_id", "returns", ["order_id"])

    op.create_table(
        "customers",
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("email", sa.String(), nullable=True),
        sa.Column("phone", sa.String(), nullable=True),
        sa.Column("first_name", sa.String(), nullable=True),
        sa.Column("last_name", sa.String(), nullable=True),
        sa.Column("default_address", sa.JSON(), nullable=True),
        sa.Column("consent", sa.JSON(), nullable=False),
        _ts("redacted_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
    )
    op.create_index("ix_customers_email", "customers", ["email"])
    op.create_table(
        "customer_identities",
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("customer_id", sa.String(255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "external_id", name="pk_customer_identities"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name="fk_customer_identities_customer_id_customers",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_customer_identities_customer_id", "customer_identities", ["customer_id"])

    op.create_table(
        "listings",
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("sku", sa.String(255), nullable=False),
        sa.Column("external_id", sa.String(), nullable=True),
        sa.Column("title", sa.String(), nullable=True),
        sa.Column("price", sa.JSON(), nullable=True),
        sa.Column("compare_at_price", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("shown_quantity", sa.Integer(), nullable=True),
        _ts("updated_at", nullable=True),
        sa.PrimaryKeyConstraint("channel", "sku", name="pk_listings"),
    )


def downgrade() -> None:
    for table in (
        "listings",
        "customer_identities",
        "customers",
        "returns",
        "shipment_tracking_events",
        "shipments",
        "orders",
        "channel_bindings",
        "stock_movements",
        "inventory_positions",
        "locations",
        "variants",
        "products",
    ):
        op.drop_table(table)
