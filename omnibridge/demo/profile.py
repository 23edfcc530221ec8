"""The demo's merchant profile, connector profiles and mapping files, written as a merchant would write them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from omnibridge.demo.catalog import (
    ALL_LOCATIONS,
    ALL_WEB_LOCATIONS,
    DEMO_LOCATIONS,
    POS_LOCATIONS,
    WEB_LOCATIONS,
    demo_products,
)
from omnibridge.demo.settings import (
    POS,
    SHOPIFY_SECRET,
    SHOPIFY_TOKEN,
    SQUARE_SIGNATURE_KEY,
    SQUARE_TOKEN,
    WEB,
    DemoSettings,
)
from omnibridge.demo.vendors import CHANNEL_PRIORITIES, VendorUrls, connector_files
from omnibridge.models import Location


def _write_yaml(path: Path, data: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _location_entry(location: Location) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": location.id, "name": location.name, "type": location.type.value}
    if location.address is not None:
        entry["address"] = location.address.model_dump(exclude_none=True)
    entry["capabilities"] = sorted(c.value for c in location.capabilities)
    return entry


def write_profile(
    workdir: Path,
    *,
    shopify_url: str,
    square_url: str,
    receiver_url: str,
    settings: DemoSettings,
    vendors: VendorUrls | None = None,
) -> Path:
    """Write the demo's merchant profile, connector profiles and mapping files; returns the profile path.

    Without ``vendors`` the profile has the web store and the POS over three locations; with it, also Golden,
    Amazon, Clover, the ERP file feed and the EasyPost carrier channel (the full demo)."""
    (workdir / "connectors").mkdir(parents=True, exist_ok=True)
    (workdir / "mappings").mkdir(parents=True, exist_ok=True)
    _write_yaml(
        workdir / "connectors" / "shopify.yaml",
        {
            "connector": "shopify",
            "settings": {
                "shop_url": shopify_url,
                "access_token": SHOPIFY_TOKEN,
                "api_secret": SHOPIFY_SECRET,
                "api_version": settings.shopify_api_version,
            },
        },
    )
    _write_yaml(
        workdir / "connectors" / "square.yaml",
        {
            "connector": "square",
            "settings": {
                "base_url": square_url,
                "access_token": SQUARE_TOKEN,
                "webhook_signature_key": SQUARE_SIGNATURE_KEY,
                "webhook_notification_url": f"{receiver_url}/webhooks/{POS}",
            },
        },
    )
    locations = ALL_LOCATIONS if vendors is not None else DEMO_LOCATIONS
    web_locations = ALL_WEB_LOCATIONS if vendors is not None else WEB_LOCATIONS
    names = {location.id: location.name for location in locations}
    _write_yaml(workdir / "mappings" / "shopify.yaml", {"location_map": {names[i]: i for i in web_locations}})
    _write_yaml(workdir / "mappings" / "square.yaml", {"location_map": {names[i]: i for i in POS_LOCATIONS}})
    channels: list[dict[str, Any]] = [
        {
            "id": WEB,
            "connector": "shopify",
            "profile": "connectors/shopify.yaml",
            "mappings": ["mappings/shopify.yaml"],
            "priority": 10,
        },
        {
            "id": POS,
            "connector": "square",
            "profile": "connectors/square.yaml",
            "mappings": ["mappings/square.yaml"],
            "priority": 20,
        },
    ]
    if vendors is not None:
        files = connector_files(
            workdir,
            vendors,
            feed_threshold=sum(len(p.variants) for p in demo_products()),
            feed_poll_seconds=settings.amazon_feed_poll_seconds,
        )
        for channel_id, (connector_profile, mapping) in files.items():
            _write_yaml(workdir / "connectors" / f"{channel_id}.yaml", connector_profile)
            entry: dict[str, Any] = {
                "id": channel_id,
                "connector": connector_profile["connector"],
                "profile": f"connectors/{channel_id}.yaml",
            }
            if mapping is not None:
                _write_yaml(workdir / "mappings" / f"{channel_id}.yaml", mapping)
                entry["mappings"] = [f"mappings/{channel_id}.yaml"]
            entry["priority"] = CHANNEL_PRIORITIES[channel_id]
            channels.append(entry)
    profile = workdir / "omnibridge.yaml"
    _write_yaml(
        profile,
        {
            "version": 1,
            "merchant": {"name": "Alpine Outfitters (demo)", "currency": "USD", "timezone": "America/Denver"},
            "store": {"url": "sqlite:///omnibridge.db"},
            "locations": [_location_entry(location) for location in locations],
            "channels": channels,
        },
    )
    return profile
