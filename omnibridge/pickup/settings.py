"""What the hold and lifecycle side of the pickup flow reads from the profile: hold length, window length and
prep time per store, the merchant's time zone (pickup hours are local), and which channels can be told how a
pickup stands."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from omnibridge.config.loaded import LoadedProfile
from omnibridge.pickup.rules import PickupRules
from omnibridge.sdk.pickup import PickupState, PickupStatusWriter

if TYPE_CHECKING:
    from omnibridge.sync.runtime import ChannelRuntime

__all__ = ["PickupSettings", "pickup_states", "shown_state"]


@dataclass(frozen=True)
class PickupSettings:
    """``rules``: the profile's ``pickup:`` section with each store's own ``pickup:`` keys resolved;
    ``timezone``: the merchant's (a store's ``pickup_hours`` are its local times); ``channel_states``: per
    channel id, the states its connector can show (:class:`~omnibridge.sdk.pickup.PickupStatusWriter`); None
    when not known here (every channel gets its task; the dispatcher skips channels that cannot show it)."""

    rules: PickupRules = field(default_factory=PickupRules)
    timezone: str = "UTC"
    channel_states: Mapping[str, frozenset[PickupState]] | None = None
    sales_channels: tuple[str, ...] = ()
    """Channels whose stock is pushed again when a released hold makes units available (``mark_work``)."""
    zones: Mapping[str, str] = field(default_factory=dict)
    """Per store, its own time zone (routing's ``locations.<id>.timezone``) when it differs from ``timezone``."""

    @classmethod
    def from_profile(
        cls, profile: LoadedProfile, channel_states: Mapping[str, frozenset[PickupState]] | None = None
    ) -> PickupSettings:
        channels = tuple(channel.id for channel in profile.channels if channel.enabled)
        zones = {
            location.id: zone
            for location in profile.locations
            if (zone := profile.routing.location(location.id).timezone) is not None
        }
        return cls(profile.pickup, profile.merchant.timezone, channel_states, channels, zones)

    @property
    def hold(self) -> timedelta:
        """How long units wait after the window ends."""
        return timedelta(hours=self.rules.hold_hours)

    def window(self, location_id: str) -> timedelta:
        """The store's window length."""
        return timedelta(minutes=self.rules.store(location_id).window_minutes)

    def zone(self, location_id: str) -> str:
        """The time zone of the store's ``pickup_hours``."""
        return self.zones.get(location_id, self.timezone)

    def prep(self, location_id: str) -> timedelta:
        """The time the store's staff need to prepare a pickup."""
        return timedelta(minutes=self.rules.store(location_id).prep_minutes)

    def shows(self, channel: str, state: PickupState) -> PickupState | None:
        """The state to send ``channel`` for ``state`` (a refusal or expiry it cannot show is a cancellation),
        or None: the channel is not told (it cannot show pickups, or not this state)."""
        states = None if self.channel_states is None else self.channel_states.get(channel, frozenset())
        return shown_state(states, state)


def shown_state(states: frozenset[PickupState] | None, state: PickupState) -> PickupState | None:
    """What a channel able to show ``states`` (None: unknown, send as is) is told for ``state``."""
    if states is None or state in states:
        return state
    if state in (PickupState.REJECTED, PickupState.EXPIRED) and PickupState.CANCELLED in states:
        return PickupState.CANCELLED
    return None


def pickup_states(channels: Iterable[ChannelRuntime]) -> dict[str, frozenset[PickupState]]:
    """Per channel, the pickup states its connector can show (a channel that cannot show pickups: none)."""
    return {
        channel.id: frozenset(channel.connector.pickup_states)
        if isinstance(channel.connector, PickupStatusWriter)
        else frozenset()
        for channel in channels
    }
