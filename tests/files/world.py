"""A merchant profile with an ERP file feed (channel ``erp``, connector ``files``) in a tmp folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

from omnibridge.config import LoadedProfile, load_profile
from omnibridge.models import Product, Variant
from omnibridge.store import Store

SKUS = ("TENT", "LAMP")
OLD = 1_700_000_000.0
"""A modification time long past: files written with it are stable for any ``stable_seconds``."""


def write_profile(root: Path, *, export_format: str = "csv") -> Path:
    """The profile: locations ``wh`` and ``shop``; the ERP calls them ``WH-01`` and ``SHOP-01``."""
    (root / "inbox").mkdir(parents=True, exist_ok=True)
    (root / "connectors").mkdir(exist_ok=True)
    (root / "mappings").mkdir(exist_ok=True)
    settings = {
        "inbox": str(root / "inbox"),
        "outbox": str(root / "outbox"),
        "stable_seconds": 5,
        "locations": ["WH-01", "SHOP-01"],
        "export_format": export_format,
    }
    (root / "connectors" / "files.json").write_text(json.dumps({"connector": "files", "settings": settings}))
    (root / "mappings" / "erp.yaml").write_text("location_map:\n  WH-01: wh\n  SHOP-01: shop\n")
    profile = root / "omnibridge.yaml"
    profile.write_text(
        "version: 1\n"
        "merchant: {name: Files test, currency: USD, timezone: UTC}\n"
        "store: {url: 'sqlite:///omnibridge.db'}\n"
        "locations:\n"
        "  - {id: wh, name: Warehouse, type: warehouse}\n"
        "  - {id: shop, name: Shop, type: store}\n"
        "channels:\n"
        "  - {id: erp, connector: files, profile: connectors/files.json, mappings: [mappings/erp.yaml]}\n",
        encoding="utf-8",
    )
    return profile


def seed(store: Store, profile: LoadedProfile) -> None:
    for location in profile.locations:
        store.upsert_location(location)
    store.upsert_product(Product(id="P", title="Gear", variants=[Variant(sku=sku, product_id="P") for sku in SKUS]))


def drop(root: Path, name: str, content: str) -> Path:
    """Drop a finished file into the inbox as an ERP does: under a temporary name, then renamed."""
    temporary = root / "inbox" / f"{name}.part"
    temporary.write_text(content, encoding="utf-8")
    os.utime(temporary, (OLD, OLD))
    os.replace(temporary, root / "inbox" / name)
    return root / "inbox" / name


def load(root: Path) -> LoadedProfile:
    return load_profile(root / "omnibridge.yaml")


CONFIG = Path(__file__).resolve().parents[2] / "config"


def write_supplier_profile(root: Path) -> Path:
    """A profile whose only channel is the shipped sample supplier (config/connectors/supplier-acme.yaml and
    config/mappings/supplier-acme.yaml, channel ``acme``) at the location ``acme-dropship`` (type supplier).
    Load it with :func:`supplier_env` so its folders are under ``root``."""
    (root / "inbox").mkdir(parents=True, exist_ok=True)
    profile = root / "omnibridge.yaml"
    profile.write_text(
        "version: 1\n"
        "merchant: {name: Dropship test, currency: USD, timezone: UTC}\n"
        "store: {url: 'sqlite:///omnibridge.db'}\n"
        "locations:\n"
        "  - {id: acme-dropship, name: Acme Outdoor (dropship), type: supplier, capabilities: [ships]}\n"
        "channels:\n"
        f"  - {{id: acme, connector: files, profile: '{CONFIG / 'connectors' / 'supplier-acme.yaml'}',\n"
        f"     mappings: ['{CONFIG / 'mappings' / 'supplier-acme.yaml'}']}}\n",
        encoding="utf-8",
    )
    return profile


def supplier_env(root: Path) -> dict[str, str]:
    return {"SUPPLIER_ACME_INBOX": str(root / "inbox"), "SUPPLIER_ACME_OUTBOX": str(root / "outbox")}
