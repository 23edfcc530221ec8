"""The demo merchant: Alpine Outfitters, a warehouse and three stores, and a 60-SKU outdoor catalog."""

from __future__ import annotations

import random
from decimal import Decimal

from omnibridge.models import Address, Location, LocationCapability, LocationType, Money, Product, Variant

DEN_WH_ADDRESS = Address(
    name="Alpine Outfitters warehouse",
    company="Alpine Outfitters",
    line1="4800 Dahlia St",
    city="Denver",
    region="CO",
    postal_code="80216",
    country="US",
    phone="303-555-0100",
)
"""Where parcels ship from (carriers need a full postal address for the label)."""

DEMO_LOCATIONS: tuple[Location, ...] = (
    Location(
        id="den-wh",
        name="Denver warehouse",
        type=LocationType.WAREHOUSE,
        address=DEN_WH_ADDRESS,
        capabilities={LocationCapability.SHIPS},
    ),
    Location(
        id="boulder",
        name="Boulder store",
        type=LocationType.STORE,
        capabilities={LocationCapability.SHIPS, LocationCapability.PICKUP},
    ),
    Location(
        id="fort-collins", name="Fort Collins store", type=LocationType.STORE, capabilities={LocationCapability.PICKUP}
    ),
)
"""The web store (Shopify) sells from all three; the POS (Square) runs in the two stores."""

GOLDEN = Location(id="golden", name="Golden store", type=LocationType.STORE, capabilities={LocationCapability.PICKUP})
"""The store that runs Clover (the full demo only; the two-channel world of other tests has three locations)."""

WEB_LOCATIONS = ("den-wh", "boulder", "fort-collins")
POS_LOCATIONS = ("boulder", "fort-collins")
ALL_LOCATIONS: tuple[Location, ...] = (*DEMO_LOCATIONS, GOLDEN)
ALL_WEB_LOCATIONS = (*WEB_LOCATIONS, GOLDEN.id)
"""In the full demo the web store also sells from Golden."""
AMAZON_LOCATIONS = ("den-wh",)
"""Amazon (merchant fulfilled) ships from the warehouse."""
CLOVER_LOCATIONS = (GOLDEN.id,)
"""Clover is the POS of Golden: every store runs exactly one POS."""
ERP_LOCATION_CODES = {"DEN": "den-wh"}
"""The ERP's own code for each location it counts."""

# (product id, title, type, price, option name, option values): 12 products x 5 variants = 60 SKUs.
_LINES: tuple[tuple[str, str, str, str, str, tuple[str, ...]], ...] = (
    ("TENT-2P", "Ridgeline 2-person tent", "Tent", "249.00", "colour", ("GRN", "ORG", "BLU", "GRY", "SND")),
    ("TENT-4P", "Basecamp 4-person tent", "Tent", "429.00", "colour", ("GRN", "ORG", "BLU", "GRY", "SND")),
    ("BAG-0C", "Summit 0C sleeping bag", "Sleeping bag", "189.00", "length", ("S", "R", "L", "XL", "W")),
    ("BAG-M10", "Glacier -10C sleeping bag", "Sleeping bag", "329.00", "length", ("S", "R", "L", "XL", "W")),
    ("JKT-RAIN", "Cloudburst rain jacket", "Jacket", "159.00", "size", ("XS", "S", "M", "L", "XL")),
    ("JKT-DOWN", "Ember down jacket", "Jacket", "279.00", "size", ("XS", "S", "M", "L", "XL")),
    ("BOOT-HIKE", "Switchback hiking boot", "Footwear", "199.00", "size", ("40", "41", "42", "43", "44")),
    ("SOCK-WOOL", "Merino hiking socks", "Socks", "24.00", "size", ("XS", "S", "M", "L", "XL")),
    ("PACK-30", "Daytrip 30L pack", "Backpack", "129.00", "colour", ("BLK", "RED", "GRN", "BLU", "GRY")),
    ("PACK-65", "Traverse 65L pack", "Backpack", "299.00", "colour", ("BLK", "RED", "GRN", "BLU", "GRY")),
    ("STOVE", "Alpine canister stove", "Cooking", "79.00", "kit", ("SOLO", "DUO", "PRO", "MINI", "MAX")),
    ("LAMP", "Beacon headlamp", "Lighting", "49.00", "colour", ("BLK", "RED", "GRN", "BLU", "ORG")),
)


def demo_products() -> list[Product]:
    """The demo catalog: 12 products with 5 variants each."""
    products: list[Product] = []
    for product_id, title, product_type, price, option, values in _LINES:
        variants = [
            Variant(
                sku=f"{product_id}-{value}",
                product_id=product_id,
                title=value,
                option_values={option: value},
                price=Money(amount=Decimal(price), currency="USD"),
            )
            for value in values
        ]
        products.append(
            Product(id=product_id, title=title, product_type=product_type, vendor="Alpine", variants=variants)
        )
    return products


def opening_stock(seed: int = 7) -> dict[tuple[str, str], int]:
    """Opening balances per (SKU, location): more in the warehouse, a few in each store."""
    rng = random.Random(seed)
    stock: dict[tuple[str, str], int] = {}
    for product in demo_products():
        for variant in product.variants:
            stock[(variant.sku, "den-wh")] = rng.randint(20, 60)
            stock[(variant.sku, "boulder")] = rng.randint(4, 14)
            stock[(variant.sku, "fort-collins")] = rng.randint(2, 10)
    return stock


def golden_opening_stock(seed: int = 11) -> dict[tuple[str, str], int]:
    """Opening balances at Golden (its own random stream, so the other locations' balances stay as they were)."""
    rng = random.Random(seed)
    return {(variant.sku, GOLDEN.id): rng.randint(3, 12) for product in demo_products() for variant in product.variants}
