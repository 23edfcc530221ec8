"""``omnibridge catalog ...``: the merchant's master catalog (products and variants with their master SKUs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from omnibridge.catalog import read_catalog_csv
from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.config import DEFAULT_PROFILE

catalog_app = typer.Typer(help="The master catalog: products, variants, SKUs.", no_args_is_help=True)


@catalog_app.command("import")
def import_catalog(
    file: Annotated[Path, typer.Argument(help="A CSV file, one row per variant (see docs/configuration.md).")],
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """Import products and variants from a CSV file; all or nothing, every problem reported with its line."""
    products = read_catalog_csv(file)
    with profile_store(profile) as (_, store):
        for product in products:
            store.upsert_product(product)
    variants = sum(len(product.variants) for product in products)
    typer.echo(f"imported {len(products)} products, {variants} variants from {file}")


@catalog_app.command("list")
def list_catalog(profile: ProfileOption = Path(DEFAULT_PROFILE)) -> None:
    """List every variant: SKU, product, title and whether it allows backorders."""
    with profile_store(profile, read_only=True) as (_, store):
        variants = store.list_variants()
    if not variants:
        typer.echo("the catalog is empty: import one with 'omnibridge catalog import FILE'")
        return
    width = max(len(variant.sku) for variant in variants)
    for variant in variants:
        backorder = "  backorders allowed" if variant.allow_backorder else ""
        typer.echo(f"{variant.sku.ljust(width)}  {variant.product_id}  {variant.title or ''}{backorder}")
