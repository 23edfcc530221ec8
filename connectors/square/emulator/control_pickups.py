"""Control routes of the Square emulator for pickups, payments and returns at the till (``/_emulator/``).

=================================================  =============================================================
``POST /_emulator/pickup-orders``                  ``{"location_id","lines":[{"sku","quantity"}],"recipient",
                                                   "pickup_details"?}``: an online pickup order (order.created)
``POST /_emulator/orders/{id}/till-pickup``        ``{"state"?,"uid"?,"arrived"?,"note"?}``: staff move the PICKUP
                                                   fulfillment at the POS / the curbside buyer arrived; no webhook
``POST /_emulator/orders/{id}/pay``                a card payment of the order's total → ``{"payment_id"}``
``POST /_emulator/orders/{id}/till-return``        ``{"lines":[{"uid","quantity"}],"location_id"?,"reason"?,
                                                   "restock"?}``: a return at the POS → ``{"order"}`` (the return
                                                   order; refund.created/updated, order.updated)
=================================================  =============================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from connectors.square.emulator.control import _wrap

if TYPE_CHECKING:
    from connectors.square.emulator.app import SquareEmulator

__all__ = ["pickup_control_routes"]


def pickup_control_routes(emu: SquareEmulator) -> list[BaseRoute]:
    """The pickup, payment and till-return control routes bound to ``emu``."""

    def pickup_order(body: dict[str, Any], request: Request) -> dict[str, Any]:
        lines = [(str(line["sku"]), str(line["quantity"])) for line in body["lines"]]
        recipient = body.get("recipient") or {}
        details = body.get("pickup_details") or {}
        if not isinstance(recipient, dict) or not isinstance(details, dict):
            raise ValueError("recipient and pickup_details must be objects")
        return {"order": emu.pickup_order(str(body["location_id"]), lines, recipient, **details)}

    def till_pickup(body: dict[str, Any], request: Request) -> dict[str, Any]:
        state, uid = body.get("state"), body.get("uid")
        order = emu.till_pickup(
            request.path_params["order_id"],
            str(state) if state else None,
            uid=str(uid) if uid else None,
            arrived=bool(body.get("arrived", False)),
            note=str(body.get("note") or ""),
        )
        return {"order": order}

    def till_return(body: dict[str, Any], request: Request) -> dict[str, Any]:
        lines = [(str(line["uid"]), str(line["quantity"])) for line in body["lines"]]
        location = body.get("location_id")
        order = emu.till_return(
            request.path_params["order_id"],
            lines,
            location_id=str(location) if location else None,
            reason=str(body.get("reason") or ""),
            restock=bool(body.get("restock", True)),
        )
        return {"order": order}

    actions = [
        ("/_emulator/pickup-orders", pickup_order),
        ("/_emulator/orders/{order_id}/till-pickup", till_pickup),
        ("/_emulator/orders/{order_id}/pay", lambda body, req: {"payment_id": emu.pay(req.path_params["order_id"])}),
        ("/_emulator/orders/{order_id}/till-return", till_return),
    ]
    return [Route(path, _wrap(action), methods=["POST"]) for path, action in actions]
