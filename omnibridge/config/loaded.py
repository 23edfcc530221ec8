"""What :func:`omnibridge.config.load_profile` returns: a fully validated, immutable view of a merchant profile.

Nothing here holds raw YAML: locations are canonical :class:`~omnibridge.models.Location` objects, each channel
carries its connector's validated settings object and its merged mapping tables, and the store URL is already
resolved. ``repr()`` of these objects never shows a credential: the store URL and connector settings are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from pydantic import BaseModel

# AvailabilityPolicy through schema: schema must load before omnibridge.config.availability (which builds on it).
from omnibridge.config.schema import (
    AvailabilityPolicy,
    GuardSection,
    MerchantSection,
    PrivacySection,
    ServerSection,
    WarehouseSection,
    WebhooksSection,
)
from omnibridge.config.store_url import mask_store_url
from omnibridge.models import Location, OrderStatus
from omnibridge.pickup.rules import PickupRules
from omnibridge.routing.rules import RoutingRules
from omnibridge.sdk.metadata import ConnectorSpec


@dataclass(frozen=True)
class MappingTables:
    """A channel's mapping files merged into three lookup tables.

    * ``sku_aliases``: channel SKU -> master SKU (a SKU not listed is its own master SKU).
    * ``location_map``: channel location reference -> location id of the profile (every target exists).
    * ``status_map``: channel order status -> canonical :class:`~omnibridge.models.OrderStatus`.

    ``sources`` are the mapping files, in the order they were merged. A key set in two files to different values
    is a load error, so the order never changes the result.
    """

    sku_aliases: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    location_map: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    status_map: Mapping[str, OrderStatus] = field(default_factory=lambda: MappingProxyType({}))
    sources: tuple[Path, ...] = ()

    def master_sku(self, channel_sku: str) -> str:
        """The master SKU for ``channel_sku`` (itself when no alias is configured)."""
        return self.sku_aliases.get(channel_sku, channel_sku)


@dataclass(frozen=True)
class LoadedChannel:
    """One configured channel.

    ``settings`` is an instance of ``spec.settings_model`` (credentials are ``SecretStr``); ``profile_path`` is
    the absolute path of the connector profile it came from. Disabled channels are loaded and validated too.
    ``drift`` says who wins when the channel shows a quantity the ledger does not explain: ``ledger`` (overwrite
    the channel), ``channel`` (record the change the channel made as an adjustment; only where its availability
    policy passes the ledger's number through unchanged) or ``alert`` (only report it).
    """

    id: str
    connector: str
    spec: ConnectorSpec = field(repr=False)
    settings: BaseModel = field(repr=False)
    profile_path: Path
    mappings: MappingTables
    enabled: bool = True
    priority: int = 0
    drift: Literal["ledger", "channel", "alert"] = "ledger"
    guard: GuardSection = field(default_factory=GuardSection)
    """The mass-change guard's thresholds (:mod:`omnibridge.sync.guard`)."""
    webhooks: WebhooksSection = field(default_factory=WebhooksSection)
    """The limits of the channel's webhook endpoint (:mod:`omnibridge.sync.webhook_limits`)."""


@dataclass(frozen=True)
class LoadedProfile:
    """A validated merchant profile.

    ``path`` is the absolute path of the profile file. ``store_url`` is the database URL with a relative SQLite
    path made absolute against the profile's directory; it may contain a password, so print
    :attr:`store_url_masked` instead. ``locations`` and ``channels`` keep the file's order; their ids are unique.
    ``availability`` is the ``availability:`` section (the default policy when the file has none); every channel,
    location and SKU group it names exists in the profile. ``routing`` is the router's rules built from the
    ``routing:`` section and the locations' routing keys (the defaults when the file has none).
    """

    path: Path
    version: int
    merchant: MerchantSection
    store_url: str = field(repr=False)
    locations: tuple[Location, ...]
    channels: tuple[LoadedChannel, ...]
    availability: AvailabilityPolicy = field(default_factory=AvailabilityPolicy)
    routing: RoutingRules = field(default_factory=RoutingRules)
    """The router's rules: the ``routing:`` section with each location's routing keys (docs/routing.md)."""
    server: ServerSection = field(default_factory=ServerSection)
    """The limits of the daemon's HTTP port: the ``server:`` section (docs/security.md)."""
    privacy: PrivacySection = field(default_factory=PrivacySection)
    """Retention of raw webhook bodies and personal data (the ``privacy:`` section; defaults when absent)."""
    pickup: PickupRules = field(default_factory=PickupRules)
    """The ``pickup:`` section with each store's own ``pickup:`` keys (docs/pickup.md)."""
    warehouse: WarehouseSection = field(default_factory=WarehouseSection)
    """The daemon's warehouse export (the ``warehouse:`` section; off when absent)."""

    @property
    def store_url_masked(self) -> str:
        """The store URL with any password replaced by ``***``."""
        return mask_store_url(self.store_url)

    def location(self, location_id: str) -> Location | None:
        """The location with id ``location_id``, if the profile has one."""
        return next((loc for loc in self.locations if loc.id == location_id), None)

    def channel(self, channel_id: str) -> LoadedChannel | None:
        """The channel with id ``channel_id``, if the profile has one."""
        return next((chan for chan in self.channels if chan.id == channel_id), None)
