"""The fulfilment task outbox: vendor calls that carry a routing or shipping decision out.

A task is written in the same transaction as the decision it carries out (:func:`enqueue`), so a crash between
deciding and calling the vendor loses nothing, and its ``id`` is the idempotency key the connector sends (a
repeat never duplicates on the vendor). The dispatcher (:mod:`omnibridge.fulfilment`) takes due tasks, calls
the connector, and records the outcome.

Kinds (``kind``):

* ``assign``: put an order's lines at the routed locations on its sales channel (``LineAssigner``);
* ``submit``: hand an assignment to a fulfilment provider, a 3PL or a dropship supplier (``FulfilmentProvider``);
* ``confirm``: tell the order's channel that units shipped, with tracking (``ShipmentConfirmer``);
* ``pickup``: tell the order's channel how its pickup stands (``PickupStatusWriter``, :mod:`omnibridge.pickup.notify`).
* ``return``: create a return on the order's channel, or record its dispositions there (``ReturnWriter``,
  :mod:`omnibridge.returns.writeback`).

Statuses: ``pending`` (due at ``next_at``), ``done``, ``refused`` (the vendor said no; the dispatcher acted on
it), ``cancelled`` (superseded, e.g. by a re-route).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from omnibridge.store.tables import FULFILMENT_TASKS

ASSIGN = "assign"
SUBMIT = "submit"
CONFIRM = "confirm"
RETURN = "return"

PENDING = "pending"
DONE = "done"
REFUSED = "refused"
CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class FulfilmentTask:
    """A vendor call to make: ``kind`` on ``channel`` (the profile's channel id of the connector that makes it)
    for ``order_id``. ``id`` is its idempotency key, e.g. ``submit:<assignment id>``."""

    id: str
    kind: str
    order_id: str
    channel: str
    payload: Mapping[str, Any] = field(default_factory=dict)


@functools.cache
def _enqueue_statement(dialect: str) -> sa.Executable:
    # built once per dialect: the values are execution parameters
    insert = postgresql.insert(FULFILMENT_TASKS) if dialect == "postgresql" else sqlite.insert(FULFILMENT_TASKS)
    return insert.on_conflict_do_nothing(index_elements=["id"]).returning(FULFILMENT_TASKS.c.id)


def enqueue(session: Session, task: FulfilmentTask, now: datetime) -> bool:
    """Record ``task`` as pending, due now; False (nothing changed) when a task with its id exists already."""
    result = session.connection().execute(
        _enqueue_statement(session.get_bind().dialect.name),
        {
            "id": task.id,
            "kind": task.kind,
            "order_id": task.order_id,
            "channel": task.channel,
            "payload": dict(task.payload),
            "status": PENDING,
            "attempts": 0,
            "next_at": now,
            "created_at": now,
            "updated_at": now,
        },
    )
    return result.first() is not None
