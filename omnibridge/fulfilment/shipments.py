"""A shipment recorded for a routed order is confirmed on the order's channel.

:func:`shipment_recorded` runs in the unit of work that records the shipment (a label bought by
:class:`~omnibridge.shipping.ShippingService`, or settled by hand with ``shipments resolve --bought``): when the
order was routed to the shipment's location (it has an open assignment there), it enqueues
``confirm:<shipment id>`` for the order's channel, with the channel's line refs, the carrier, service and
tracking, and marks the assignment shipped. An order never routed (no assignment) is left as before: nothing is
confirmed for it.
"""

from __future__ import annotations

from omnibridge.fulfilment import assignments
from omnibridge.fulfilment.tasks import confirm_task
from omnibridge.logs import get_logger
from omnibridge.models import OrderLineRecord, Shipment
from omnibridge.store import orders
from omnibridge.store import routing_records as records
from omnibridge.store.unit_of_work import UnitOfWork


def shipment_recorded(uow: UnitOfWork, shipment: Shipment) -> bool:
    """Enqueue the confirmation of ``shipment`` (see the module docstring); True when a task was enqueued now."""
    order = orders.get_order(uow.session, shipment.order_id)
    if order is None:
        return False
    assignment = assignments.live_at(uow.session, order.id, shipment.from_location_id)
    if assignment is None:
        return False
    by_sku = {line.sku: line.line_id for line in order.lines}
    # a shipment line names its order line by the channel's line ref or by the line record's id
    by_record = {
        OrderLineRecord.key(order.channel, order.external_id, line.line_id): line.line_id for line in order.lines
    }
    lines = [
        (by_record.get(line.order_line_id or "", line.order_line_id or by_sku.get(line.sku, "")), line.quantity)
        for line in shipment.lines
        if line.order_line_id or line.sku in by_sku
    ]
    task = confirm_task(
        order,
        shipment.id,
        shipment.from_location_id,
        lines,
        uow.now(),
        carrier=shipment.carrier,
        service=shipment.service,
        tracking_number=shipment.tracking_number,
    )
    enqueued = uow.enqueue_task(task)
    assignments.move(uow.session, assignment, records.SHIPPED, uow.now())
    if enqueued:
        get_logger("omnibridge.fulfilment").info(
            "fulfilment.confirm_enqueued", task=task.id, order=order.id, channel=order.channel
        )
    return enqueued
