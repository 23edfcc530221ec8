"""What every console screen reads from: the store, the loaded profile and the daemon's services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from omnibridge.config import LoadedProfile
from omnibridge.routing.service import RoutingService
from omnibridge.store import Store


@dataclass(frozen=True)
class ConsoleContext:
    """The console's view of the daemon.

    ``profile``: the loaded profile (channels, locations, availability rules; None: the SKU page cannot explain
    and the overview lists only the channels the store knows); ``routing``: the routing service (None: the
    profile routes no orders, so there is no re-route); ``on_requeued``: called after dead letters were put back
    in the queue (the daemon wakes its worker); ``poll_seconds`` and ``readback_minutes``: the daemon's intervals,
    which the overview judges freshness against.
    """

    store: Store
    profile: LoadedProfile | None = None
    routing: RoutingService | None = None
    on_requeued: Callable[[], None] = field(default=lambda: None)
    poll_seconds: float = 60.0
    readback_minutes: float = 15.0
