"""``productUpdate`` (title) and ``productVariantsBulkUpdate`` (price) with the 2025-01 input types.

The documents and variables have already been validated against the version's schema by the GraphQL endpoint
(``ProductUpdateInput``, ``[ProductVariantsBulkInput!]!``); what is checked here is what the schema cannot say:

* ``productUpdate``: the product must exist (``["id"]`` "Product does not exist"), a given ``title`` must not be
  blank (``["title"]`` "Title can't be blank"). Only ``title`` is applied; the emulator stores no other product
  field, so the others are accepted and ignored.
* ``productVariantsBulkUpdate``: an unknown ``productId`` is ``PRODUCT_DOES_NOT_EXIST``; more than 250 variants is
  a top-level ``MAX_INPUT_SIZE_EXCEEDED`` (nothing runs); per variant: no ``id`` → ``PRODUCT_VARIANT_ID_MISSING``,
  an id of no variant of this product → ``PRODUCT_VARIANT_DOES_NOT_EXIST``, ``inventoryQuantities`` →
  ``NO_INVENTORY_QUANTITIES_ON_VARIANTS_UPDATE``, a price that is not a decimal → ``INVALID_INPUT``, a negative
  one → ``GREATER_THAN_OR_EQUAL_TO``. ``field`` paths carry the index (``["variants", "0", "price"]``). Without
  ``allowPartialUpdates`` one error and nothing changes (Shopify's default); with it, valid variants are saved.
  ``price`` is applied (stored with two decimals, as Shopify renders ``Money``); ``compareAtPrice`` is checked,
  not stored. Neither mutation sends ``products/update`` (the emulator fires inventory and order topics only).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import GraphQLResolveInfo

from connectors.shopify.emulator.mutations import MAX_INPUT_ARRAY, RequestLevelError
from connectors.shopify.emulator.resolvers import QueryResolvers, parse_gid
from connectors.shopify.emulator.state import ShopState, Variant

__all__ = ["ProductMutations"]

Payload = dict[str, Any]


def _error(code: str | None, message: str, *field: str | int) -> dict[str, Any]:
    out: dict[str, Any] = {"field": [str(f) for f in field] if field else None, "message": message}
    if code is not None:
        out["code"] = code
    return out


def _money(raw: Any) -> Decimal | None:
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


class ProductMutations:
    """Mutation root values for products (titles and variant prices)."""

    def __init__(self, state: ShopState, resolvers: QueryResolvers) -> None:
        self.state = state
        self.resolvers = resolvers

    def root(self) -> dict[str, Any]:
        return {"productUpdate": self.product_update, "productVariantsBulkUpdate": self.variants_bulk_update}

    def _variants_of(self, product_id: int) -> list[Variant]:
        return [v for v in self.state.variants.values() if v.product_id == product_id]

    def _product(self, product_id: int) -> dict[str, Any]:
        variants = self._variants_of(product_id)
        return {
            "__typename": "Product",
            "id": f"gid://shopify/Product/{product_id}",
            "title": variants[0].product_title if variants else None,
        }

    # --- productUpdate -------------------------------------------------------------------------------------
    def product_update(
        self,
        info: GraphQLResolveInfo[Any],
        product: dict[str, Any] | None = None,
        media: list[dict[str, Any]] | None = None,
    ) -> Payload:
        del info, media
        data = product or {}
        numeric = parse_gid(data.get("id"), "Product")
        variants = self._variants_of(numeric) if numeric is not None else []
        if not variants:
            return {"product": None, "userErrors": [_error(None, "Product does not exist", "id")]}
        title = data.get("title")
        if title is not None and not str(title).strip():
            return {"product": None, "userErrors": [_error(None, "Title can't be blank", "title")]}
        if title is not None and any(v.product_title != title for v in variants):
            now = self.state.clock()
            for variant in variants:
                variant.product_title = str(title)
                variant.updated_at = now
        assert numeric is not None
        return {"product": self._product(numeric), "userErrors": []}

    # --- productVariantsBulkUpdate -------------------------------------------------------------------------
    def variants_bulk_update(
        self,
        info: GraphQLResolveInfo[Any],
        productId: str,
        variants: list[dict[str, Any]],
        media: list[dict[str, Any]] | None = None,
        allowPartialUpdates: bool | None = None,
    ) -> Payload:
        del info, media
        if len(variants) > MAX_INPUT_ARRAY:
            raise RequestLevelError(
                f"The input array size of {len(variants)} is greater than the maximum allowed of {MAX_INPUT_ARRAY}.",
                "MAX_INPUT_SIZE_EXCEEDED",
                ["variants"],
            )
        numeric = parse_gid(productId, "Product")
        if numeric is None or not self._variants_of(numeric):
            error = _error("PRODUCT_DOES_NOT_EXIST", "Product does not exist", "productId")
            return {"product": None, "productVariants": None, "userErrors": [error]}
        errors: list[dict[str, Any]] = []
        planned: list[tuple[Variant, dict[str, str]]] = []
        for index, row in enumerate(variants):
            found = self._check_row(numeric, index, row, errors)
            if found is not None:
                planned.append(found)
        if errors and not allowPartialUpdates:
            return {"product": self._product(numeric), "productVariants": None, "userErrors": errors}
        now = self.state.clock()
        for variant, values in planned:
            if "price" in values and variant.price != values["price"]:
                variant.price = values["price"]
                variant.updated_at = now
        return {
            "product": self._product(numeric),
            "productVariants": [self.resolvers.variant(variant) for variant, _ in planned],
            "userErrors": errors,
        }

    def _check_row(
        self, product_id: int, index: int, row: dict[str, Any], errors: list[dict[str, Any]]
    ) -> tuple[Variant, dict[str, str]] | None:
        if row.get("id") is None:
            errors.append(
                _error("PRODUCT_VARIANT_ID_MISSING", "Product variant is missing ID attribute", "variants", index, "id")
            )
            return None
        numeric = parse_gid(row["id"], "ProductVariant")
        variant = self.state.variants.get(numeric) if numeric is not None else None
        if variant is None or variant.product_id != product_id:
            errors.append(
                _error("PRODUCT_VARIANT_DOES_NOT_EXIST", "Product variant does not exist", "variants", index, "id")
            )
            return None
        if row.get("inventoryQuantities") is not None:
            errors.append(
                _error(
                    "NO_INVENTORY_QUANTITIES_ON_VARIANTS_UPDATE",
                    "Inventory quantities can only be provided during create. To update inventory for existing "
                    "variants, use inventoryAdjustQuantities.",
                    "variants",
                    index,
                    "inventoryQuantities",
                )
            )
            return None
        values: dict[str, str] = {}
        for name in ("price", "compareAtPrice"):
            if row.get(name) is None:
                continue
            amount = _money(row[name])
            if amount is None:
                errors.append(_error("INVALID_INPUT", f"{name} is not a valid amount", "variants", index, name))
                return None
            if amount < 0:
                message = "Price must be greater than or equal to 0"
                errors.append(_error("GREATER_THAN_OR_EQUAL_TO", message, "variants", index, name))
                return None
            values[name] = f"{amount:.2f}"
        return variant, values
