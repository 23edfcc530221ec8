"""Shopify titles and prices against the emulator: what the shop shows afterwards, re-sends, refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.shopify import listings
from connectors.shopify.emulator import validate_document
from omnibridge.sdk.channel import PushStatus
from omnibridge.sdk.listings import ListingUpdate

from .support import STOVE, TENT, shopify_world

pytestmark = pytest.mark.anyio

MUTATIONS = ("productUpdate", "productVariantsBulkUpdate")


@pytest.mark.parametrize("version", ["2025-01", "2026-04"])
async def test_title_and_price_land_on_the_product_and_variant(version: str) -> None:
    world = shopify_world(version)
    try:
        results = await world.client.push_listings(
            [
                ListingUpdate(TENT, title="Trail tent 2P", price=Decimal("189.5"), currency="USD", reference="r1"),
                ListingUpdate(STOVE, price=Decimal("45.00"), currency="USD", reference="r1"),
            ]
        )
        assert [(r.update.sku, r.status) for r in results] == [(TENT, PushStatus.APPLIED), (STOVE, PushStatus.APPLIED)]
        assert world.emu.listing(TENT) == ("Trail tent 2P", "189.50")
        assert world.emu.listing(STOVE) == ("Camp stove", "45.00")
        assert [world.emu.calls[name] for name in MUTATIONS] == [1, 2]
    finally:
        await world.aclose()


async def test_a_resend_changes_nothing_and_says_unchanged() -> None:
    world = shopify_world()
    update = ListingUpdate(TENT, title="Trail tent 2P", price=Decimal("189.50"), currency="USD", reference="r1")
    try:
        first = await world.client.push_listings([update])
        second = await world.client.push_listings([update])
        assert (first[0].status, second[0].status) == (PushStatus.APPLIED, PushStatus.UNCHANGED)
        assert [world.emu.calls[name] for name in MUTATIONS] == [1, 1]
        assert world.emu.listing(TENT) == ("Trail tent 2P", "189.50")
    finally:
        await world.aclose()


async def test_unknown_sku_and_foreign_currency_do_not_stop_the_others() -> None:
    world = shopify_world()
    try:
        results = await world.client.push_listings(
            [
                ListingUpdate("NOPE-1", title="Ghost"),
                ListingUpdate(TENT, price=Decimal("10.00"), currency="EUR"),
                ListingUpdate(STOVE, title="Camp stove XL"),
                # a prefix of TENT-2P: Shopify's search would match TENT-2P, the connector must not
                ListingUpdate("TENT", title="Prefix"),
            ]
        )
        assert [r.status for r in results] == [
            PushStatus.UNKNOWN_SKU,
            PushStatus.FAILED,
            PushStatus.APPLIED,
            PushStatus.UNKNOWN_SKU,
        ]
        assert "sells in USD, not EUR" in results[1].message
        assert world.emu.listing(TENT) == ("Trail tent", "199.00")
        assert world.emu.listing(STOVE) == ("Camp stove XL", "49.50")
    finally:
        await world.aclose()


@pytest.mark.parametrize("version", ["2024-10", "2025-01", "2026-04"])
def test_documents_are_valid_for_the_schema(version: str) -> None:
    product = {"product": {"id": "gid://shopify/Product/1", "title": "T"}}
    variants = {
        "productId": "gid://shopify/Product/1",
        "variants": [{"id": "gid://shopify/ProductVariant/2", "price": "1.50"}],
    }
    search = {"first": 2, "after": None, "query": "sku:'A'"}
    assert validate_document(version, listings.PRODUCT_TITLE_MUTATION, product) == []
    assert validate_document(version, listings.VARIANT_PRICES_MUTATION, variants) == []
    assert validate_document(version, listings.LISTING_VARIANTS_QUERY, search) == []
    assert validate_document(version, listings.SHOP_CURRENCY_QUERY, {}) == []


async def test_emulator_refuses_bad_variant_input_atomically() -> None:
    world = shopify_world()
    tent = world.emu.state.variant_by_sku(TENT)
    stove = world.emu.state.variant_by_sku(STOVE)
    product = f"gid://shopify/Product/{tent.product_id}"
    try:
        data = await world.client.graphql(
            "test",
            listings.VARIANT_PRICES_MUTATION,
            {
                "productId": product,
                "variants": [
                    {"id": f"gid://shopify/ProductVariant/{tent.id}", "price": "150.00"},
                    {"id": f"gid://shopify/ProductVariant/{stove.id}", "price": "1.00"},  # another product's
                    {"id": f"gid://shopify/ProductVariant/{tent.id}", "price": "-1"},
                ],
            },
        )
        errors = data["productVariantsBulkUpdate"]["userErrors"]
        assert [(e["code"], e["field"]) for e in errors] == [
            ("PRODUCT_VARIANT_DOES_NOT_EXIST", ["variants", "1", "id"]),
            ("GREATER_THAN_OR_EQUAL_TO", ["variants", "2", "price"]),
        ]
        assert world.emu.listing(TENT) == ("Trail tent", "199.00")  # nothing applied

        missing = await world.client.graphql(
            "test", listings.VARIANT_PRICES_MUTATION, {"productId": "gid://shopify/Product/9", "variants": []}
        )
        assert missing["productVariantsBulkUpdate"]["userErrors"][0]["code"] == "PRODUCT_DOES_NOT_EXIST"
        blank = await world.client.graphql(
            "test", listings.PRODUCT_TITLE_MUTATION, {"product": {"id": product, "title": "  "}}
        )
        assert blank["productUpdate"]["userErrors"] == [{"field": ["title"], "message": "Title can't be blank"}]
    finally:
        await world.aclose()
