"""The ``files`` section of a merchant profile: the folders an ERP/WMS drops stock counts into and reads
order and shipment exports from."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

TEMP_SUFFIXES = (".tmp", ".part", ".partial")
"""Names ending like this (or starting with '.') are files still being written: never read."""


class CsvColumns(BaseModel):
    """The header of each field in a CSV count file (matched case-insensitively, surrounding spaces ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: str = "sku"
    location: str = "location"
    quantity: str = "quantity"
    counted_at: str = "counted_at"


class PurchaseOrderSettings(BaseModel):
    """Dropship purchase orders (``purchase_orders`` in the ``files`` section): when set, the feed is a supplier's.

    omnibridge writes one purchase-order file per fulfilment request into ``folder`` (default ``<outbox>/po``) in
    ``format``; the supplier's acknowledgement and ship-confirmation files come back through the inbox (see
    :mod:`connectors.files.supplier_files`). ``location`` is the supplier's location code, as its stock files
    and the channel's ``location_map`` name it (default: the only entry of ``locations``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["csv", "json"] = "csv"
    folder: Path | None = None
    location: str | None = Field(default=None, min_length=1)


class FilesSettings(BaseModel):
    """One ERP/WMS exchanging files with omnibridge through folders.

    Stock counts come in through ``inbox`` (CSV or JSON, see :mod:`connectors.files.parsing`). The ERP must
    write each file under a temporary name (``.name``, ``*.tmp``, ``*.part``, ``*.partial``) and rename it when
    complete; a file is read only once it has been unchanged (size and modification time) for ``stable_seconds``.
    Applied files move to ``processed`` and rejected ones to ``failed`` (with ``<name>.errors.txt``); both
    default to subfolders of the inbox. Order and shipment exports are written to ``outbox`` in
    ``export_format``. ``locations`` are the location codes the ERP uses (map them with ``mappings.location_map``);
    when set, a row naming any other code fails its file; when empty, codes seen in files are offered to the
    location map (configure them: the engine maps a channel's locations once, at start-up). ``timezone`` is how
    a ``counted_at`` without an offset is read. ``purchase_orders`` makes the feed a dropship supplier's (see
    :class:`PurchaseOrderSettings`).
    A transient folder error (a network share hiccuping) is retried ``io_retries`` times, ``io_retry_seconds``
    apart (growing linearly).
    A file larger than ``max_file_bytes`` or with more than ``max_rows`` rows is not applied: it moves to
    ``failed`` with a report naming the limit. A pull stops taking files once it holds ``max_rows`` rows (the
    rest wait for the next pull), so one pull never holds much more than ``max_rows`` rows in memory.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    inbox: Path
    processed: Path | None = None
    failed: Path | None = None
    outbox: Path | None = None
    patterns: list[str] = Field(default_factory=lambda: ["*.csv", "*.json"], min_length=1)
    csv_delimiter: str = Field(default=",", min_length=1, max_length=1)
    csv_encoding: str = "auto"
    columns: CsvColumns = Field(default_factory=CsvColumns)
    timezone: str = "UTC"
    stable_seconds: float = Field(default=5.0, ge=0)
    max_files_per_pull: int = Field(default=100, ge=1)
    max_file_bytes: int = Field(default=64 * 1024 * 1024, ge=1)
    max_rows: int = Field(default=500_000, ge=1)
    io_retries: int = Field(default=3, ge=0)
    io_retry_seconds: float = Field(default=0.5, ge=0)
    locations: list[str] = Field(default_factory=list)
    export_format: Literal["csv", "json"] = "csv"
    purchase_orders: PurchaseOrderSettings | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}: expected an IANA name such as 'Europe/Berlin'") from None
        return value

    @field_validator("locations")
    @classmethod
    def _no_blank_locations(cls, value: list[str]) -> list[str]:
        if any(not item.strip() for item in value):
            raise ValueError("locations must not contain blank codes")
        return value

    @model_validator(mode="after")
    def _distinct_columns(self) -> FilesSettings:
        headers = [self.columns.sku, self.columns.location, self.columns.quantity, self.columns.counted_at]
        if len({header.strip().lower() for header in headers}) != len(headers):
            raise ValueError("columns: each field needs its own header name")
        orders = self.purchase_orders
        if orders is not None and orders.location is None and len(self.locations) != 1:
            raise ValueError(
                "purchase_orders: set 'location' to the supplier's location code (or list exactly one code in "
                "'locations')"
            )
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def processed_dir(self) -> Path:
        return self.processed or self.inbox / "processed"

    @property
    def failed_dir(self) -> Path:
        return self.failed or self.inbox / "failed"

    @property
    def outbox_dir(self) -> Path:
        return self.outbox or self.inbox.parent / "outbox"

    @property
    def supplier_location(self) -> str | None:
        """The supplier's location code when purchase orders are enabled, else None."""
        if self.purchase_orders is None:
            return None
        return self.purchase_orders.location or self.locations[0]

    @property
    def purchase_order_dir(self) -> Path:
        """Where purchase-order files go: ``purchase_orders.folder``, default ``<outbox>/po``."""
        folder = self.purchase_orders.folder if self.purchase_orders is not None else None
        return folder or self.outbox_dir / "po"
