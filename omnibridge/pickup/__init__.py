"""Click-and-collect and curbside: holds that expire, the pickup lifecycle and staff actions (docs/pickup.md).

* :mod:`omnibridge.pickup.book`: book a pickup (a hold at the store with an expiry) for an order;
* :mod:`omnibridge.pickup.lifecycle`: the states and their transitions, one service for the CLI and HTTP;
* :mod:`omnibridge.pickup.expiry`: release holds past their expiry, exactly once, through the ledger;
* :mod:`omnibridge.pickup.channel_events`: apply a channel's :class:`~omnibridge.sdk.pickup.PickupEvent`;
* :mod:`omnibridge.pickup.notify`: tell the channel (``pickup`` fulfilment tasks).

Kept free of imports here so the fulfilment dispatcher can import :mod:`omnibridge.pickup.notify` cheaply.
"""
