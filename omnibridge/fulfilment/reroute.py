"""What the dispatcher needs from routing: re-route an order without a location that said no.

The routing service (:class:`omnibridge.routing.service.RoutingService`) implements :class:`Rerouter`; the
dispatcher only knows this protocol, so it can be tested and run without routing rules (a task that needs a
re-route then fails, with an incident, for an operator).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Rerouter(Protocol):
    """Re-routes orders (see the module docstring)."""

    def reject(self, order_id: str, location_id: str, reason: str) -> object:
        """Re-route ``order_id`` without ``location_id`` (which refused it for ``reason``), moving its reservation,
        in its own unit of work. Raises :class:`~omnibridge.errors.OmnibridgeError` when it cannot (no open
        assignment there: the dispatcher then checks whether it was rejected already)."""
        ...
