"""A return label bought through the carrier layer, from the order's ship-to address back to where the return
comes back.

The label is a shipment of the return (``order_id`` is the return's id, ``id`` ``<return id>:label``), bought with
:meth:`~omnibridge.shipping.ShippingService.ship` and ``is_return`` (EasyPost swaps the addresses itself; for a
carrier connector without return labels the service swaps them), so it is never bought twice and never confirmed
as an outbound shipment of the order. Its carrier, tracking and label URL are stored on the return.
"""

from __future__ import annotations

from decimal import Decimal

from omnibridge.access import Actor
from omnibridge.models import ShipmentLine
from omnibridge.returns.model import ReturnError, Rma
from omnibridge.returns.service import ReturnService
from omnibridge.sdk.carrier import Parcel
from omnibridge.shipping import ShippingService

DEFAULT_PARCEL = Parcel(weight_oz=Decimal("16"))
"""The parcel assumed when none is given: one pound."""


async def buy_return_label(
    service: ReturnService,
    shipping: ShippingService,
    return_id: str,
    *,
    actor: Actor,
    parcel: Parcel = DEFAULT_PARCEL,
) -> Rma:
    """Buy (once) the return label of ``return_id`` and store it on the return; the return as it is now. Raises
    :class:`ReturnError` when the order has no ship-to address or the return no location, and the shipping
    service's errors (:class:`~omnibridge.shipping.ShippingError`, the connector's)."""
    rma = service.get(return_id)
    order = service.store.get_order(rma.order_id)
    if order is None or order.ship_to is None:
        raise ReturnError(f"order {rma.order_id} has no ship-to address: no return label can be bought for it")
    if rma.location_id is None:
        raise ReturnError(f"return {rma.id} has no location to come back to", 400)
    lines = [ShipmentLine(sku=line.sku, quantity=line.quantity, order_line_id=line.order_line_id) for line in rma.lines]
    shipment = await shipping.ship(
        rma.id, rma.location_id, lines, order.ship_to, parcel, shipment_id=f"{rma.id}:label", is_return=True
    )
    if shipment.tracking_number is None:
        raise ReturnError(f"the return label of {rma.id} has no tracking number yet: run the command again")
    return service.attach_label(
        rma.id,
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        label_url=shipment.label_url,
        actor=actor,
    )
