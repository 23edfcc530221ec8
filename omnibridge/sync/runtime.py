"""A configured channel, live: its connector, its mapping tables and its locations resolved to ours."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from structlog.stdlib import BoundLogger

from omnibridge.config import LoadedChannel, LoadedProfile
from omnibridge.errors import ConfigError
from omnibridge.logs import get_logger
from omnibridge.sdk.channel import ChannelConnector, ChannelLocation
from omnibridge.sdk.memory import RemembersChannel
from omnibridge.sdk.metadata import Capability, ConnectorKind

if TYPE_CHECKING:
    from omnibridge.store.store import Store


def log() -> BoundLogger:
    """The sync logger (looked up per use: importing this module must not configure logging)."""
    return get_logger("omnibridge.sync")


SALES_KINDS = frozenset({ConnectorKind.STOREFRONT, ConnectorKind.MARKETPLACE, ConnectorKind.POS})
STOCK_SOURCE_KINDS = frozenset({ConnectorKind.ERP_WMS, ConnectorKind.THIRD_PARTY_LOGISTICS})
"""Kinds synced as stock sources: their events are pulled into the ledger; they are never written to."""


@dataclass
class ChannelRuntime:
    """One enabled channel of the profile with its live connector: a sales channel, or a stock source (an ERP/WMS
    feed, :attr:`stock_source`) whose events are applied but which never gets a target and is never written to.

    ``location_ids`` maps the channel's location ids to profile location ids; it is filled by
    :meth:`resolve_locations` from the channel's ``location_map`` (keyed by the channel's location id or name).
    Channel locations that are not mapped are ignored: omnibridge neither reads nor writes stock there.
    """

    id: str
    connector: ChannelConnector
    channel: LoadedChannel
    location_ids: dict[str, str] = field(default_factory=dict)
    unmapped_locations: list[ChannelLocation] = field(default_factory=list)

    @property
    def capabilities(self) -> frozenset[Capability]:
        return self.channel.spec.capabilities

    @property
    def stock_source(self) -> bool:
        """True for an ERP/WMS feed or a 3PL: pulled into the ledger, never shown a quantity, never pushed to."""
        return self.channel.spec.kind in STOCK_SOURCE_KINDS

    def can(self, capability: Capability) -> bool:
        return capability in self.channel.spec.capabilities

    def master_sku(self, channel_sku: str) -> str:
        return self.channel.mappings.master_sku(channel_sku)

    def channel_skus(self, master_skus: list[str]) -> list[str]:
        """The channel's spelling of each master SKU (reverse of the alias table)."""
        reverse = {master: alias for alias, master in self.channel.mappings.sku_aliases.items()}
        return [reverse.get(sku, sku) for sku in master_skus]

    def location_id(self, location_ref: str | None) -> str | None:
        return None if location_ref is None else self.location_ids.get(location_ref)

    async def resolve_locations(self) -> None:
        """Read the channel's locations and map them through ``location_map`` (by id, then by name)."""
        table = self.channel.mappings.location_map
        self.location_ids.clear()
        self.unmapped_locations.clear()
        for location in await self.connector.list_locations():
            target = table.get(location.external_id) or table.get(location.name)
            if target is None or not location.active:
                self.unmapped_locations.append(location)
                continue
            self.location_ids[location.external_id] = target
        if not self.location_ids:
            raise ConfigError(
                f"channel {self.id!r}: none of its locations is mapped to a profile location",
                file=str(self.channel.profile_path),
                field="mappings.location_map",
                expected="an entry '<channel location id or name>: <location id>' for each location to sync",
            )
        log().info(
            "sync.locations", channel=self.id, mapped=len(self.location_ids), unmapped=len(self.unmapped_locations)
        )


def build_channels(
    profile: LoadedProfile, store: Store | None = None, *, shared_budgets: bool | None = None
) -> list[ChannelRuntime]:
    """A runtime for every enabled sales channel of ``profile``, and for every enabled ERP/WMS channel whose
    connector implements :class:`ChannelConnector` (a stock source, e.g. a file feed); carriers are not synced here.
    With ``store``, connectors that keep channel memory (item ids, feeds awaiting results) keep it there, so a
    restart picks up where they were. With ``store`` and ``shared_budgets`` (default: the environment variable
    ``OMNIBRIDGE_SHARED_BUDGETS=1``), their vendor rate limits are budgets in the store shared with every other
    process doing the same (:func:`omnibridge.sync.shared_budgets.share_budgets`; PostgreSQL only)."""
    runtimes: list[ChannelRuntime] = []
    for channel in profile.channels:
        kind = channel.spec.kind
        if not channel.enabled or kind not in SALES_KINDS | STOCK_SOURCE_KINDS or channel.spec.factory is None:
            continue
        connector = channel.spec.factory(channel.settings)
        if kind in STOCK_SOURCE_KINDS and not isinstance(connector, ChannelConnector):
            continue  # an ERP/WMS connector that is not a stock feed is used by other parts (not the sync engine)
        if not isinstance(connector, ChannelConnector):
            raise ConfigError(
                f"channel {channel.id!r}: connector {channel.connector!r} does not implement the sales channel "
                "contract (omnibridge.sdk.channel.ChannelConnector)",
                file=str(profile.path),
                field=f"channels.{channel.id}.connector",
            )
        if store is not None and isinstance(connector, RemembersChannel):
            from omnibridge.store.channel_memory import StoreChannelMemory

            connector.attach_memory(StoreChannelMemory(store, channel.id))
        runtimes.append(ChannelRuntime(channel.id, connector, channel))
    if store is not None:
        from omnibridge.sync.shared_budgets import share_budgets

        share_budgets(store, {runtime.id: runtime.connector for runtime in runtimes}, enabled=shared_budgets)
    return runtimes
