"""The merchant's master catalog from a CSV file: one row per variant, grouped into products.

Columns (header names, any order; only ``sku`` is required):

=================  ======================================================================================
``sku``            the master SKU (unique in the file)
``product_id``     groups variants into a product; defaults to the SKU
``product_title``  the product's title; defaults to ``title`` or the product id
``title``          the variant's title
``product_type``   e.g. ``Tent``
``vendor``         brand or manufacturer
``barcodes``       GTIN/EAN/UPC codes separated by ``;``
``price``          decimal, e.g. ``199.00`` (needs ``currency``)
``currency``       ISO 4217, e.g. ``USD``
``weight_grams``   whole grams
``tracked``        ``true``/``false`` (default true)
``allow_backorder````true``/``false`` (default false)
``option.NAME``    an option value, e.g. ``option.size`` = ``M``
=================  ======================================================================================

The file is all or nothing: every problem is reported (file, line, column, what was expected) and nothing is
imported unless the whole file is valid. A product in the file replaces that product in the store, variants
included; products not in the file are left alone.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from pydantic import ValidationError

from omnibridge.errors import ConfigError, ConfigErrors
from omnibridge.models import Money, Product, Variant
from omnibridge.sdk.text import TextEncodingError, decode_spreadsheet

KNOWN_COLUMNS = (
    "sku",
    "product_id",
    "product_title",
    "title",
    "product_type",
    "vendor",
    "barcodes",
    "price",
    "currency",
    "weight_grams",
    "tracked",
    "allow_backorder",
)
OPTION_PREFIX = "option."
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n", ""}


@dataclass
class _Reader:
    path: Path
    errors: list[ConfigError] = field(default_factory=list)

    def error(self, line: int, column: str, message: str, expected: str | None = None) -> None:
        self.errors.append(ConfigError(message, file=str(self.path), line=line, field=column, expected=expected))

    def flag(self, line: int, column: str, raw: str, default: bool) -> bool:
        value = raw.strip().lower()
        if value == "":
            return default
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        self.error(line, column, f"invalid value {raw!r}", "true or false")
        return default

    def price(self, line: int, row: dict[str, str]) -> Money | None:
        raw, currency = row.get("price", "").strip(), row.get("currency", "").strip().upper()
        if not raw:
            return None
        try:
            amount = Decimal(raw)
        except InvalidOperation:
            self.error(line, "price", f"invalid value {raw!r}", "a decimal amount such as 19.99")
            return None
        try:
            return Money(amount=amount, currency=currency)
        except ValidationError:
            self.error(line, "currency", f"invalid value {currency!r}", "an ISO 4217 code such as USD")
            return None

    def weight(self, line: int, raw: str) -> int | None:
        if not raw.strip():
            return None
        try:
            grams = int(raw)
        except ValueError:
            grams = -1
        if grams < 0:
            self.error(line, "weight_grams", f"invalid value {raw!r}", "a whole number of grams, 0 or more")
            return None
        return grams


def read_catalog_csv(path: str | Path) -> list[Product]:
    """Read a catalog CSV into products (variants grouped by ``product_id``, in file order).

    Raises :class:`~omnibridge.errors.ConfigErrors` listing every problem when any row is invalid, and
    :class:`ConfigError` when the file cannot be read or has no ``sku`` column.
    """
    source = Path(path)
    try:
        text = decode_spreadsheet(source.read_bytes())
    except OSError as exc:
        raise ConfigError(f"cannot read the catalog: {exc.strerror}", file=str(source)) from None
    except TextEncodingError as exc:
        raise ConfigError(str(exc), file=str(source)) from None
    reader = csv.DictReader(text.splitlines())
    columns = [name.strip() for name in reader.fieldnames or []]
    if "sku" not in columns:
        raise ConfigError("the header has no 'sku' column", file=str(source), line=1, expected="a CSV header row")
    check = _Reader(source)
    for name in columns:
        if name not in KNOWN_COLUMNS and not (name.startswith(OPTION_PREFIX) and len(name) > len(OPTION_PREFIX)):
            check.error(1, name, f"unknown column {name!r}", f"one of {', '.join(KNOWN_COLUMNS)} or option.NAME")
    products: dict[str, Product] = {}
    seen: dict[str, int] = {}
    for index, raw_row in enumerate(reader, start=2):
        row = {(key or "").strip(): (value or "") for key, value in raw_row.items()}
        line = reader.line_num if reader.line_num else index
        sku = row.get("sku", "").strip()
        if not sku:
            check.error(line, "sku", "the SKU is empty", "the master SKU")
            continue
        if sku in seen:
            check.error(line, "sku", f"SKU {sku!r} appears again (first on line {seen[sku]})", "each SKU once")
            continue
        seen[sku] = line
        product_id = row.get("product_id", "").strip() or sku
        try:
            variant = Variant(
                sku=sku,
                product_id=product_id,
                title=row.get("title", "").strip() or None,
                barcodes=[code.strip() for code in row.get("barcodes", "").split(";") if code.strip()],
                option_values={
                    name[len(OPTION_PREFIX) :]: value.strip()
                    for name, value in row.items()
                    if name.startswith(OPTION_PREFIX) and value.strip()
                },
                price=check.price(line, row),
                weight_grams=check.weight(line, row.get("weight_grams", "")),
                tracked=check.flag(line, "tracked", row.get("tracked", ""), True),
                allow_backorder=check.flag(line, "allow_backorder", row.get("allow_backorder", ""), False),
            )
        except ValidationError as exc:
            for problem in exc.errors():
                column = ".".join(str(part) for part in problem["loc"]) or "row"
                check.error(line, column, problem["msg"])
            continue
        product = products.get(product_id)
        if product is None:
            product = products[product_id] = Product(
                id=product_id,
                title=row.get("product_title", "").strip() or variant.title or product_id,
                product_type=row.get("product_type", "").strip() or None,
                vendor=row.get("vendor", "").strip() or None,
            )
        product.variants = [*product.variants, variant]
    if check.errors:
        raise ConfigErrors(check.errors)
    return list(products.values())
