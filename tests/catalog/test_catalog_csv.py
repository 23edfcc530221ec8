"""Reading the master catalog from CSV: grouping, typed columns, and every problem reported with its line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from omnibridge.catalog import read_catalog_csv
from omnibridge.errors import ConfigError, ConfigErrors
from omnibridge.models import Money

EXAMPLE = Path(__file__).parents[2] / "config" / "catalog.example.csv"


def write_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_catalog_reads() -> None:
    products = read_catalog_csv(EXAMPLE)
    by_id = {product.id: product for product in products}
    assert [variant.sku for variant in by_id["TENT-2P"].variants] == ["TENT-2P-GRN", "TENT-2P-ORG"]
    tent4 = by_id["TENT-4P"].variants[0]
    assert tent4.allow_backorder is True
    assert tent4.price == Money(amount=Decimal("389.00"), currency="USD")
    assert by_id["JKT-RAIN"].variants[1].option_values == {"size": "M", "colour": "blue"}
    assert sum(len(product.variants) for product in products) == 12


def test_product_defaults_to_the_sku(tmp_path: Path) -> None:
    (product,) = read_catalog_csv(write_csv(tmp_path, "sku,barcodes\nMUG-1,123; 456\n"))
    assert product.id == "MUG-1"
    assert product.title == "MUG-1"
    assert product.variants[0].barcodes == ["123", "456"]
    assert product.variants[0].tracked is True
    assert product.variants[0].allow_backorder is False


def test_every_problem_is_reported_with_line_and_column(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "sku,price,currency,weight_grams,allow_backorder,colour\n"
        "A,12.x,USD,10,false,red\n"
        "B,5.00,dollars,-4,maybe,\n"
        ",1,USD,,,\n"
        "A,1,USD,,,\n",
    )
    with pytest.raises(ConfigErrors) as caught:
        read_catalog_csv(path)
    lines = [error.render() for error in caught.value.errors]
    name = str(path)
    assert lines == [
        f"{name}:1: colour: unknown column 'colour' (expected one of sku, product_id, product_title, title, "
        "product_type, vendor, barcodes, price, currency, weight_grams, tracked, allow_backorder or option.NAME)",
        f"{name}:2: price: invalid value '12.x' (expected a decimal amount such as 19.99)",
        f"{name}:3: currency: invalid value 'DOLLARS' (expected an ISO 4217 code such as USD)",
        f"{name}:3: weight_grams: invalid value '-4' (expected a whole number of grams, 0 or more)",
        f"{name}:3: allow_backorder: invalid value 'maybe' (expected true or false)",
        f"{name}:4: sku: the SKU is empty (expected the master SKU)",
        f"{name}:5: sku: SKU 'A' appears again (first on line 2) (expected each SKU once)",
    ]


def test_missing_sku_column_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no 'sku' column"):
        read_catalog_csv(write_csv(tmp_path, "name,price\nx,1\n"))
    with pytest.raises(ConfigError, match="cannot read the catalog"):
        read_catalog_csv(tmp_path / "absent.csv")
