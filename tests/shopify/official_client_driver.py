"""Driver for tests/shopify/test_official_client.py: Shopify's ``ShopifyAPI`` library, run in a child process.

A ``shopify.Session`` always builds ``https://<shop>.myshopify.com``, so the site is set directly on
``ShopifyResource`` (the library's private-app way). Usage: ``python -P official_client_driver.py SCENARIO JSON``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import shopify

LOCATIONS = "{ locations(first: 10) { nodes { id name } } }"
LEVELS = """query($sku: String!) {
  productVariants(first: 5, query: $sku) { nodes { sku inventoryItem { id
    inventoryLevels(first: 5) { nodes { location { id } quantities(names: ["available"]) { name quantity } } } } } }
}"""
ORDER = "query($id: ID!) { order(id: $id) { id name lineItems(first: 5) { nodes { sku quantity } } } }"


def read(args: dict[str, Any]) -> Any:
    graphql = shopify.GraphQL()
    return {
        "locations": json.loads(graphql.execute(LOCATIONS)),
        "levels": json.loads(graphql.execute(LEVELS, {"sku": f"sku:{args['sku']}"})),
        "order": json.loads(graphql.execute(ORDER, {"id": args["order_id"]})),
    }


SCENARIOS = {"read": read}

if __name__ == "__main__":
    scenario, raw = sys.argv[1], json.loads(sys.argv[2])
    shopify.ShopifyResource.set_site(f"{raw.pop('base_url')}/admin/api/{raw.pop('version')}")
    shopify.ShopifyResource.set_headers({"X-Shopify-Access-Token": raw.pop("token")})
    print(json.dumps(SCENARIOS[scenario](raw)))
