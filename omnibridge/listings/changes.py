"""What a merchant wants changed: :class:`ListingChange` per master SKU, built in code or read from a CSV file.

CSV columns (header row, any order): ``sku`` (required), ``title``, ``price``. An empty cell leaves that field
alone on every channel; a row must change something. The file is all or nothing: every problem is reported with
its line and nothing is sent unless the whole file is valid.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from omnibridge.errors import ConfigError, ConfigErrors
from omnibridge.sdk.text import TextEncodingError, decode_spreadsheet

__all__ = ["CSV_COLUMNS", "ListingChange", "parse_price", "read_changes_csv"]

CSV_COLUMNS = ("sku", "title", "price")
TITLE_MAX = 255
"""The longest title accepted (Shopify product titles hold 255 characters; Square item names 512)."""


@dataclass(frozen=True, slots=True)
class ListingChange:
    """The title and/or price a master SKU should have on every channel selling it.

    ``None`` leaves a field untouched. ``price`` is a decimal amount in the merchant's currency (the profile's
    ``merchant.currency``). Raises :class:`ValueError` naming the SKU when the change is empty or invalid.
    """

    master_sku: str
    title: str | None = None
    price: Decimal | None = None

    def __post_init__(self) -> None:
        if not self.master_sku.strip():
            raise ValueError("a listing change needs a SKU")
        if self.title is None and self.price is None:
            raise ValueError(f"SKU {self.master_sku!r}: nothing to change: give a title, a price or both")
        if self.title is not None and not self.title.strip():
            raise ValueError(f"SKU {self.master_sku!r}: the title is empty")
        if self.title is not None and len(self.title) > TITLE_MAX:
            raise ValueError(
                f"SKU {self.master_sku!r}: the title has {len(self.title)} characters, at most {TITLE_MAX}"
            )
        if self.price is not None and (not self.price.is_finite() or self.price < 0):
            raise ValueError(f"SKU {self.master_sku!r}: the price must be a decimal amount of 0 or more")


def parse_price(raw: str) -> Decimal:
    """``raw`` as a price (``19.99``); raises :class:`ValueError` for anything else (``19,99``, ``-1``, ``NaN``)."""
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise ValueError(f"invalid price {raw!r}: expected a decimal amount such as 19.99") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"invalid price {raw!r}: expected a decimal amount of 0 or more such as 19.99")
    return value


def read_changes_csv(path: str | Path) -> list[ListingChange]:
    """Read ``sku,title,price`` rows into changes, in file order.

    Raises :class:`~omnibridge.errors.ConfigErrors` listing every bad row (file, line, column, what was
    expected), and :class:`ConfigError` when the file cannot be read, has no ``sku`` column or no rows.
    """
    source = Path(path)
    try:
        text = decode_spreadsheet(source.read_bytes())
    except OSError as exc:
        raise ConfigError(f"cannot read the changes file: {exc.strerror}", file=str(source)) from None
    except TextEncodingError as exc:
        raise ConfigError(str(exc), file=str(source)) from None
    reader = csv.DictReader(text.splitlines())
    columns = [(name or "").strip() for name in reader.fieldnames or []]
    if "sku" not in columns:
        raise ConfigError(
            "the header has no 'sku' column", file=str(source), line=1, expected="a header row: sku,title,price"
        )
    errors: list[ConfigError] = []
    for name in columns:
        if name not in CSV_COLUMNS:
            errors.append(
                ConfigError(
                    f"unknown column {name!r}", file=str(source), line=1, field=name, expected="sku,title,price"
                )
            )
    changes: list[ListingChange] = []
    seen: dict[str, int] = {}
    for raw_row in reader:
        line = reader.line_num
        row = {(key or "").strip(): (value or "") for key, value in raw_row.items()}
        sku, title, price_text = row.get("sku", "").strip(), row.get("title", "").strip(), row.get("price", "")
        if not sku:
            errors.append(ConfigError("the SKU is empty", file=str(source), line=line, field="sku"))
            continue
        if sku in seen:
            errors.append(
                ConfigError(
                    f"SKU {sku!r} appears again (first on line {seen[sku]})",
                    file=str(source),
                    line=line,
                    field="sku",
                    expected="each SKU once",
                )
            )
            continue
        seen[sku] = line
        price: Decimal | None = None
        if price_text.strip():
            try:
                price = parse_price(price_text)
            except ValueError as exc:
                errors.append(ConfigError(str(exc), file=str(source), line=line, field="price"))
                continue
        try:
            changes.append(ListingChange(sku, title or None, price))
        except ValueError as exc:
            errors.append(ConfigError(str(exc), file=str(source), line=line, field="title" if title else "row"))
    if errors:
        raise ConfigErrors(errors)
    if not changes:
        raise ConfigError("the file has no rows", file=str(source), expected="one row per SKU: sku,title,price")
    return changes
