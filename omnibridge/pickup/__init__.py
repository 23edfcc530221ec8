"""Pickup and curbside (click-and-collect): which stores can hand an item over, and when (docs/pickup.md).

* :mod:`omnibridge.pickup.rules`: the ``pickup:`` section and each store's own overrides, resolved per store.
* :mod:`omnibridge.pickup.windows`: a store's pickup windows from its hours, in UTC.
* :mod:`omnibridge.pickup.capacity`: pickups already booked per store and window.
* :mod:`omnibridge.pickup.options`: the decision (pure) and its store-reading wrapper.

This package is imported by the profile loader, so this module imports nothing.
"""
