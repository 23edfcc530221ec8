"""What every console screen reads from: the store, the loaded profile and the daemon's services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from omnibridge.config import LoadedProfile
from omnibridge.console.api_calls import ApiCallLog
from omnibridge.routing.service import RoutingService
from omnibridge.store import Store

if TYPE_CHECKING:
    from omnibridge.pickup.staff import PickupService
    from omnibridge.returns.service import ReturnService


@dataclass(frozen=True)
class ConsoleContext:
    """The console's view of the daemon.

    ``profile``: the loaded profile (channels, locations, availability rules; None: the SKU page cannot explain
    and the overview lists only the channels the store knows); ``routing``: the routing service (None: the
    profile routes no orders, so there is no re-route); ``on_requeued``: called after dead letters were put back
    in the queue (the daemon wakes its worker); ``poll_seconds``: the daemon's poll interval, which the overview
    judges polled channels' freshness against; ``calls``: the daemon's record of vendor API calls.
    """

    store: Store
    profile: LoadedProfile | None = None
    routing: RoutingService | None = None
    on_requeued: Callable[[], None] = field(default=lambda: None)
    poll_seconds: float = 60.0
    calls: ApiCallLog | None = None
    """The daemon's record of vendor API calls (None: only what the store holds)."""
    pickups: PickupService | None = None
    """Staff actions on pickups, as the CLI and HTTP API take them (None: no pickups in the action queue)."""
    returns: ReturnService | None = None
    """Return actions, as the CLI and HTTP API take them (None: no returns in the action queue)."""
