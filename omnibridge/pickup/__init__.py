"""Pickup and curbside (click-and-collect): which stores can hand an item over and when, the holds that expire,
the pickup lifecycle and staff actions (docs/pickup.md).

The decision:

* :mod:`omnibridge.pickup.rules`: the ``pickup:`` section and each store's own overrides, resolved per store;
* :mod:`omnibridge.pickup.windows`: a store's pickup windows from its hours, in UTC;
* :mod:`omnibridge.pickup.capacity`: pickups already booked per store and window;
* :mod:`omnibridge.pickup.options`: the decision (pure) and :mod:`omnibridge.pickup.desk` its store-reading wrapper.

Holds and lifecycle:

* :mod:`omnibridge.pickup.book`: book a pickup (a hold at the store with an expiry) for an order;
* :mod:`omnibridge.pickup.lifecycle`: the states and their transitions, one service for the CLI and HTTP;
* :mod:`omnibridge.pickup.expiry`: release holds past their expiry, exactly once, through the ledger;
* :mod:`omnibridge.pickup.channel_events`: apply a channel's :class:`~omnibridge.sdk.pickup.PickupEvent`;
* :mod:`omnibridge.pickup.notify`: tell the channel (``pickup`` fulfilment tasks).

The profile loader imports :mod:`omnibridge.pickup.rules` and the fulfilment dispatcher
:mod:`omnibridge.pickup.notify`, so this module imports nothing.
"""
