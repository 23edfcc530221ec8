"""Titles and prices on Shopify: :func:`push_listings` behind :meth:`ShopifyClient.push_listings`.

What changes where (Admin GraphQL, the same documents from 2024-10 on):

* the **price** of the variant carrying the SKU, with ``productVariantsBulkUpdate(productId, variants: [{id,
  price}])`` — one call per product, up to 250 variants each;
* the **title** of the variant's *product* (Shopify has one title per product; a variant's own ``title`` is its
  option values), with ``productUpdate(product: {id, title})`` — one call per product.

Variants are found with ``productVariants(query: "sku:'A' OR sku:'B'")`` (exact matches only: Shopify's search
also matches prefixes). A SKU no variant carries is ``UNKNOWN_SKU``; one several variants carry is ``FAILED``.
The current title and price are compared first, so a re-send changes nothing and reports ``UNCHANGED``. Prices
must be in the shop's currency (``shop.currencyCode``): Shopify variant prices have no currency of their own.
Both mutations set absolute values, so the HTTP client may resend them after a transport error; every document
goes through the client's cost estimate and leaky bucket like the rest of the connector.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from connectors.shopify import queries
from omnibridge.sdk.channel import PushStatus
from omnibridge.sdk.listings import ListingResult, ListingUpdate

if TYPE_CHECKING:
    from connectors.shopify.client import ShopifyClient

__all__ = [
    "LISTING_VARIANTS_QUERY",
    "PRODUCT_TITLE_MUTATION",
    "SHOP_CURRENCY_QUERY",
    "VARIANT_PRICES_MUTATION",
    "push_listings",
]

VARIANTS_PER_QUERY = 100
"""SKUs searched per ``productVariants`` query (requested cost 2 + 100 x 2 = 202 points)."""

LISTING_VARIANTS_QUERY = """\
query ListingVariantsBySku($first: Int!, $after: String, $query: String!) {
  productVariants(first: $first, after: $after, query: $query) {
    nodes { id sku price product { id title } }
    pageInfo { hasNextPage endCursor }
  }
}"""

SHOP_CURRENCY_QUERY = """\
query ShopCurrency {
  shop { currencyCode }
}"""

PRODUCT_TITLE_MUTATION = """\
mutation SetProductTitle($product: ProductUpdateInput!) {
  productUpdate(product: $product) {
    product { id title }
    userErrors { field message }
  }
}"""

VARIANT_PRICES_MUTATION = """\
mutation SetVariantPrices($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants) {
    productVariants { id price }
    userErrors { code field message }
  }
}"""


@dataclass(frozen=True, slots=True)
class _Variant:
    id: str
    sku: str
    price: Decimal | None
    product_id: str
    product_title: str


@dataclass
class _Plan:
    """One update on its way: its variant and which parts still need writing (``errors`` collects refusals)."""

    index: int
    update: ListingUpdate
    variant: _Variant
    title: bool
    price: bool
    errors: list[str] = field(default_factory=list)


def _decimal(raw: Any) -> Decimal | None:
    try:
        return Decimal(str(raw)) if raw is not None else None
    except InvalidOperation:
        return None


def _describe(errors: Sequence[Mapping[str, Any]]) -> str:
    return "; ".join(f"{e.get('code') or 'ERROR'}: {e.get('message')}" for e in errors)


async def _variants_by_sku(client: ShopifyClient, skus: Sequence[str]) -> dict[str, list[_Variant]]:
    found: dict[str, list[_Variant]] = {}
    wanted = list(dict.fromkeys(skus))
    for start in range(0, len(wanted), VARIANTS_PER_QUERY):
        chunk = wanted[start : start + VARIANTS_PER_QUERY]
        chunk_set = set(chunk)
        after: str | None = None
        while True:
            variables = {"first": len(chunk), "after": after, "query": queries.sku_search_query(chunk)}
            data = await client.graphql("push_listings", LISTING_VARIANTS_QUERY, variables)
            connection = data.get("productVariants") or {}
            for node in connection.get("nodes") or []:
                product = node.get("product") or {}
                sku = node.get("sku")
                if sku in chunk_set and isinstance(node.get("id"), str) and isinstance(product.get("id"), str):
                    variant = _Variant(
                        node["id"], sku, _decimal(node.get("price")), product["id"], str(product.get("title") or "")
                    )
                    found.setdefault(sku, []).append(variant)
            info = connection.get("pageInfo") or {}
            after = info.get("endCursor") if info.get("hasNextPage") is True else None
            if not isinstance(after, str):
                break
    return found


async def push_listings(client: ShopifyClient, updates: Sequence[ListingUpdate]) -> list[ListingResult]:
    """Apply each update's title and/or price; one :class:`ListingResult` per update, in order (see module doc)."""
    results: list[ListingResult | None] = [None] * len(updates)
    variants = await _variants_by_sku(client, [u.sku for u in updates]) if updates else {}
    currency: str | None = None
    if any(u.price is not None for u in updates):
        data = await client.graphql("push_listings", SHOP_CURRENCY_QUERY, {})
        currency = str((data.get("shop") or {}).get("currencyCode") or "")
    plans: list[_Plan] = []
    for index, update in enumerate(updates):
        carriers = variants.get(update.sku, [])
        if not carriers:
            results[index] = ListingResult(update, PushStatus.UNKNOWN_SKU, "no Shopify variant has this SKU")
            continue
        if len(carriers) > 1:
            message = f"{len(carriers)} Shopify variants carry this SKU; make it unique in Shopify"
            results[index] = ListingResult(update, PushStatus.FAILED, message)
            continue
        if update.price is not None and update.currency != currency:
            message = f"the shop sells in {currency}, not {update.currency}: Shopify prices have no other currency"
            results[index] = ListingResult(update, PushStatus.FAILED, message)
            continue
        variant = carriers[0]
        title = update.title is not None and update.title != variant.product_title
        price = update.price is not None and update.price != variant.price
        if not title and not price:
            results[index] = ListingResult(update, PushStatus.UNCHANGED)
            continue
        plans.append(_Plan(index, update, variant, title, price))
    await _write_titles(client, [p for p in plans if p.title])
    await _write_prices(client, [p for p in plans if p.price])
    for plan in plans:
        if plan.errors:
            results[plan.index] = ListingResult(plan.update, PushStatus.FAILED, "; ".join(plan.errors))
        else:
            results[plan.index] = ListingResult(plan.update, PushStatus.APPLIED)
    return [
        r if r is not None else ListingResult(u, PushStatus.FAILED, "no outcome")
        for r, u in zip(results, updates, strict=True)
    ]


async def _write_titles(client: ShopifyClient, plans: Sequence[_Plan]) -> None:
    by_product: dict[str, list[_Plan]] = {}
    for plan in plans:
        by_product.setdefault(plan.variant.product_id, []).append(plan)
    for product_id, group in by_product.items():
        titles = {plan.update.title for plan in group}
        if len(titles) > 1:
            # One title per product: SKUs of one product asking for different titles cannot all be right.
            for plan in group:
                plan.errors.append(f"other SKUs of the same Shopify product ask for another title ({product_id})")
            continue
        variables = {"product": {"id": product_id, "title": group[0].update.title}}
        data = await client.graphql("push_listings", PRODUCT_TITLE_MUTATION, variables, idempotent=True)
        payload = data.get("productUpdate") or {}
        errors = [e for e in payload.get("userErrors") or [] if isinstance(e, Mapping)]
        if errors:
            for plan in group:
                plan.errors.append(f"title refused: {_describe(errors)}")


async def _write_prices(client: ShopifyClient, plans: Sequence[_Plan]) -> None:
    by_product: dict[str, list[_Plan]] = {}
    for plan in plans:
        by_product.setdefault(plan.variant.product_id, []).append(plan)
    for product_id, group in by_product.items():
        for start in range(0, len(group), queries.SET_QUANTITIES_BATCH):
            await _write_price_chunk(client, product_id, list(group[start : start + queries.SET_QUANTITIES_BATCH]))


async def _write_price_chunk(client: ShopifyClient, product_id: str, pending: list[_Plan]) -> None:
    # Without allowPartialUpdates one bad variant rejects the call: those named in userErrors fail, the others
    # are sent again (at most once per variant, so the loop ends).
    while pending:
        variables = {
            "productId": product_id,
            "variants": [{"id": plan.variant.id, "price": format(plan.update.price, "f")} for plan in pending],
        }
        data = await client.graphql("push_listings", VARIANT_PRICES_MUTATION, variables, idempotent=True)
        payload = data.get("productVariantsBulkUpdate") or {}
        errors = [e for e in payload.get("userErrors") or [] if isinstance(e, Mapping)]
        if not errors:
            return
        by_position: dict[int, list[Mapping[str, Any]]] = {}
        general: list[Mapping[str, Any]] = []
        for error in errors:
            path = error.get("field")
            position = path[1] if isinstance(path, list) and len(path) > 1 and path[0] == "variants" else None
            if isinstance(position, str) and position.isdigit() and int(position) < len(pending):
                by_position.setdefault(int(position), []).append(error)
            else:
                general.append(error)
        if general or not by_position:
            for plan in pending:
                plan.errors.append(f"price refused: {_describe(errors)}")
            return
        for position, item_errors in by_position.items():
            pending[position].errors.append(f"price refused: {_describe(item_errors)}")
        pending = [plan for position, plan in enumerate(pending) if position not in by_position]
