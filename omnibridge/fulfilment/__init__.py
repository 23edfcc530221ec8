"""Carrying fulfilment decisions out on vendors: the fulfilment task dispatcher, shipment confirmation back to
the order's channel, and providers' events applied to the orders they ship (see docs/fulfilment.md).

Modules: :mod:`~omnibridge.fulfilment.dispatcher` (takes due tasks and records outcomes),
:mod:`~omnibridge.fulfilment.queue` (claiming and settling tasks safely), :mod:`~omnibridge.fulfilment.tasks`
(the confirm and reroute tasks), :mod:`~omnibridge.fulfilment.shipments` (a recorded shipment enqueues its
confirmation), :mod:`~omnibridge.fulfilment.provider` (providers' events). Nothing is imported here, so the sync
engine can import the provider module without loading the dispatcher.
"""
