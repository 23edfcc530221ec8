"""The conformance suite on the Shopify connector and its emulator."""

from __future__ import annotations

from connectors.shopify.conformance import ShopifyHarness
from omnibridge.testing import conformance_suite

TestShopifyConformance = conformance_suite(ShopifyHarness)
