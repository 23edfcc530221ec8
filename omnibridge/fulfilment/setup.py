"""The dispatcher for a merchant profile: every enabled channel that can carry a task (sales channels, file
feeds, 3PLs), and the routing service that re-routes what a vendor refused."""

from __future__ import annotations

from collections.abc import Iterable

from omnibridge.config import LoadedProfile
from omnibridge.fulfilment.dispatcher import Dispatcher
from omnibridge.fulfilment.reroute import Rerouter
from omnibridge.fulfilment.retry import TaskRetry
from omnibridge.routing.setup import service_for_profile
from omnibridge.sdk.channel import ChannelConnector
from omnibridge.sdk.metadata import ConnectorKind
from omnibridge.store import Store
from omnibridge.sync.runtime import ChannelRuntime


def provider_channels(loaded: LoadedProfile, known: Iterable[str]) -> list[ChannelRuntime]:
    """A runtime for each enabled 3PL channel of ``loaded`` not among ``known`` (the sync engine's channels)."""
    skip = set(known)
    found: list[ChannelRuntime] = []
    for channel in loaded.channels:
        if (
            not channel.enabled
            or channel.id in skip
            or channel.spec.kind is not ConnectorKind.THIRD_PARTY_LOGISTICS
            or channel.spec.factory is None
        ):
            continue
        connector = channel.spec.factory(channel.settings)
        if isinstance(connector, ChannelConnector):
            found.append(ChannelRuntime(channel.id, connector, channel))
    return found


def dispatcher_for_profile(
    store: Store,
    loaded: LoadedProfile,
    channels: Iterable[ChannelRuntime],
    *,
    rerouter: Rerouter | None = None,
    retry: TaskRetry | None = None,
) -> tuple[Dispatcher, list[ChannelRuntime]]:
    """The dispatcher over ``channels`` plus the profile's 3PL channels not among them (returned too: the caller
    closes their connectors), re-routing through ``rerouter`` (default: the profile's routing service)."""
    live = {channel.id: channel for channel in channels}
    extra = provider_channels(loaded, live)
    live.update({channel.id: channel for channel in extra})
    chosen = rerouter if rerouter is not None else service_for_profile(store, loaded)
    return Dispatcher(store, live, rerouter=chosen, retry=retry), extra
