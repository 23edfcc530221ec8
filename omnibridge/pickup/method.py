"""How a channel order is collected, in omnibridge's words (what routing pins a pickup order by)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from omnibridge.models import FulfilmentMethod
from omnibridge.sdk.pickup import PickupDetails

if TYPE_CHECKING:
    from omnibridge.sync.runtime import ChannelRuntime


def pickup_method(channel: ChannelRuntime, details: PickupDetails | None) -> tuple[FulfilmentMethod, str | None]:
    """The fulfilment method of an order with the channel's pickup ``details`` (None: shipped) and the omnibridge
    location it is collected at (``location_ref`` through the channel's ``location_map``; None: not named there,
    or not mapped)."""
    if details is None:
        return FulfilmentMethod.SHIP, None
    method = FulfilmentMethod.CURBSIDE if details.curbside else FulfilmentMethod.PICKUP_IN_STORE
    return method, channel.location_id(details.location_ref)
