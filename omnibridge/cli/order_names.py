"""Naming an order on the command line the way a merchant sees it.

``web:gid://shopify/Order/5501`` (omnibridge's id), ``web:1001`` or ``web:#1001`` (Shopify's order name),
``amazon:902-3159896-1390916`` (Amazon's order id), ``pos:<Square order id>`` or the Square ticket/reference
name: each names one order. A number that several orders of the channel carry is an error listing them.
"""

from __future__ import annotations

from omnibridge.errors import OmnibridgeError
from omnibridge.models import Order
from omnibridge.store import Store

__all__ = ["OrderNameError", "find_named_order"]


class OrderNameError(OmnibridgeError):
    """No order, or more than one, answers to the name given."""


def find_named_order(store: Store, name: str) -> Order:
    """The one order ``name`` names: omnibridge's id, or ``CHANNEL:REF`` with the channel's own order id, or
    ``CHANNEL:NUMBER`` with the number or name merchants see (``#`` optional). Raises :class:`OrderNameError`."""
    name = name.strip()
    exact = store.get_order(name)
    if exact is not None:
        return exact
    channel, sep, ref = name.partition(":")
    channel, ref = channel.strip(), ref.strip()
    if not sep or not channel or not ref:
        raise OrderNameError(
            f"{name!r} does not name an order: expected CHANNEL:NUMBER (e.g. web:1001, amazon:902-3159896-1390916)"
        )
    found: dict[str, Order] = {}
    by_ref = store.find_order(channel, ref)
    if by_ref is not None:
        found[by_ref.id] = by_ref
    for order in store.find_orders_by_number(channel, ref):
        found.setdefault(order.id, order)
    if len(found) == 1:
        return next(iter(found.values()))
    if not found:
        raise OrderNameError(
            f"no order {name!r}: no {channel} order has that id or number "
            "(see `omnibridge orders list`; pull new orders with `omnibridge sync --once`)"
        )
    candidates = ", ".join(
        f"{order.id} ({order.number or '-'}, placed {order.placed_at.isoformat(timespec='seconds')})"
        for order in found.values()
    )
    raise OrderNameError(f"{name!r} names {len(found)} orders: {candidates}; give one of these ids")
