"""``omnibridge catalog ...``: the merchant's master catalog (products and variants with their master SKUs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.catalog import read_catalog_csv
from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.cli.table import render_table
from omnibridge.config import DEFAULT_PROFILE

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]

catalog_app = typer.Typer(help="The master catalog: products, variants, SKUs.", no_args_is_help=True)


@catalog_app.command("import")
def import_catalog(
    file: Annotated[Path, typer.Argument(help="A CSV file, one row per variant (see docs/configuration.md).")],
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    as_json: JsonOption = False,
) -> None:
    """Import products and variants from a CSV file; all or nothing, every problem reported with its line."""
    products = read_catalog_csv(file)
    with profile_store(profile) as (_, store):
        for product in products:
            store.upsert_product(product)
    variants = sum(len(product.variants) for product in products)
    if as_json:
        typer.echo(json.dumps({"file": str(file), "products": len(products), "variants": variants}, indent=2))
        return
    typer.echo(f"imported {len(products)} products, {variants} variants from {file}")


@catalog_app.command("list")
def list_catalog(profile: ProfileOption = Path(DEFAULT_PROFILE), as_json: JsonOption = False) -> None:
    """List every variant: SKU, product, title and whether it allows backorders."""
    with profile_store(profile, read_only=True) as (_, store):
        variants = store.list_variants()
    if as_json:
        rows = [
            {"sku": v.sku, "product_id": v.product_id, "title": v.title, "allow_backorder": v.allow_backorder}
            for v in variants
        ]
        typer.echo(json.dumps({"variants": rows}, indent=2))
        return
    if not variants:
        typer.echo("the catalog is empty: import one with 'omnibridge catalog import FILE'")
        return
    rows_text = [(v.sku, v.product_id, v.title or "", "yes" if v.allow_backorder else "no") for v in variants]
    typer.echo(render_table(("SKU", "PRODUCT", "TITLE", "BACKORDERS"), rows_text))
