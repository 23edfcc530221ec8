"""Products and variants."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlmodel import Session, col, select

from omnibridge.models import Money, Product, Variant
from omnibridge.store.sql import dump, upsert
from omnibridge.store.tables import PRODUCTS, VARIANTS, ProductRow, VariantRow


def upsert_product(session: Session, product: Product) -> None:
    """Store ``product`` and its variants as given: variants no longer listed are removed from it.

    A SKU listed under another product moves to this one (the SKU is the variant's identity).
    """
    upsert(
        session,
        PRODUCTS,
        {
            "id": product.id,
            "title": product.title,
            "product_type": product.product_type,
            "vendor": product.vendor,
            "attributes": dict(product.attributes),
        },
        key=["id"],
    )
    skus = [variant.sku for variant in product.variants]
    session.execute(sa.delete(VARIANTS).where(VARIANTS.c.product_id == product.id, VARIANTS.c.sku.not_in(skus)))
    for variant in product.variants:
        upsert(
            session,
            VARIANTS,
            {
                "sku": variant.sku,
                "product_id": product.id,
                "title": variant.title,
                "barcodes": list(variant.barcodes),
                "option_values": dict(variant.option_values),
                "price": dump(variant.price),
                "weight_grams": variant.weight_grams,
                "tracked": variant.tracked,
                "allow_backorder": variant.allow_backorder,
            },
            key=["sku"],
        )


def get_product(session: Session, product_id: str) -> Product | None:
    row = session.get(ProductRow, product_id)
    if row is None:
        return None
    variants = session.exec(
        select(VariantRow).where(VariantRow.product_id == product_id).order_by(col(VariantRow.sku))
    ).all()
    return Product(
        id=row.id,
        title=row.title,
        product_type=row.product_type,
        vendor=row.vendor,
        attributes=row.attributes,
        variants=[_variant(v) for v in variants],
    )


def get_variant(session: Session, sku: str) -> Variant | None:
    row = session.get(VariantRow, sku)
    return None if row is None else _variant(row)


def list_variants(session: Session) -> list[Variant]:
    return [_variant(row) for row in session.exec(select(VariantRow).order_by(col(VariantRow.sku))).all()]


def known_skus(session: Session, skus: Iterable[str]) -> set[str]:
    """Those of ``skus`` the catalog has a variant for (one indexed lookup per 500, not the whole catalog)."""
    wanted = sorted(set(skus))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(session.connection().execute(sa.select(VARIANTS.c.sku).where(VARIANTS.c.sku.in_(chunk))).scalars())
    return found


def allows_backorder(session: Session, sku: str) -> bool:
    """Whether the ledger may take available below zero for ``sku``; unknown SKUs do not."""
    return bool(session.connection().execute(_ALLOWS_BACKORDER, {"p_sku": sku}).scalar())


_ALLOWS_BACKORDER = sa.select(VARIANTS.c.allow_backorder).where(VARIANTS.c.sku == sa.bindparam("p_sku"))


def _variant(row: VariantRow) -> Variant:
    return Variant(
        sku=row.sku,
        product_id=row.product_id,
        title=row.title,
        barcodes=row.barcodes,
        option_values=row.option_values,
        price=None if row.price is None else Money.model_validate(row.price),
        weight_grams=row.weight_grams,
        tracked=row.tracked,
        allow_backorder=row.allow_backorder,
    )
