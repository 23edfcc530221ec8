"""The ledger's own consistency check (``omnibridge verify``), read-only.

Each check compares two things the store keeps separately and that must agree:

``position``    every position's on_hand, committed, reserved and incoming equal the sums of its movements' deltas
``committed``   every position's committed equals the units its open order lines hold there, plus commitments
                that belong to no order line (made by hand)
``line``        every order line's ``committed`` equals what the movements referencing it left committed at its
                location, and it holds nothing anywhere else
``closed_line`` no shipped, cancelled, returned or held line holds a commitment
``outbox``      no stock write recorded in the outbox is still pending after the idempotency window (the process
                that recorded it stopped and nothing re-planned it)

A consistent store yields no :class:`Inconsistency`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from omnibridge.models import LineStatus
from omnibridge.store.tables import MOVEMENTS, ORDER_LINES, OUTBOX, POSITIONS

IDEMPOTENCY_WINDOW = timedelta(hours=24)
"""How long a vendor honours an idempotency key (Shopify and Square keep them 24 h); a write pending longer can
no longer be resumed safely."""

_BUCKETS = ("on_hand", "committed", "reserved", "incoming")


@dataclass(frozen=True)
class Inconsistency:
    """One disagreement: which check, what it is about, and what was found against what was expected."""

    check: str
    subject: str
    found: Any
    expected: Any
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def verify(session: Session, *, now: datetime, window: timedelta = IDEMPOTENCY_WINDOW) -> list[Inconsistency]:
    """Run every check (module docstring) in one read transaction; the inconsistencies found, in check order."""
    return [
        *_positions(session),
        *_committed(session),
        *_lines(session),
        *_closed_lines(session),
        *_outbox(session, now - window),
    ]


def _positions(session: Session) -> list[Inconsistency]:
    m = MOVEMENTS.c
    sums = {
        (row.sku, row.location_id): row
        for row in session.execute(
            sa.select(
                m.sku,
                m.location_id,
                *(sa.func.sum(getattr(m, f"delta_{bucket}")).label(bucket) for bucket in _BUCKETS),
            ).group_by(m.sku, m.location_id)
        )
    }
    stored = {(row.sku, row.location_id): row for row in session.execute(sa.select(POSITIONS))}
    found: list[Inconsistency] = []
    for key in sorted(set(sums) | set(stored)):
        position, total = stored.get(key), sums.get(key)
        for bucket in _BUCKETS:
            have = int(getattr(position, bucket)) if position is not None else 0
            want = int(getattr(total, bucket) or 0) if total is not None else 0
            if have != want:
                found.append(
                    Inconsistency(
                        "position",
                        f"{key[0]} at {key[1]}",
                        have,
                        want,
                        f"{bucket} is {have} but its movements sum to {want}",
                    )
                )
    return found


def _committed(session: Session) -> list[Inconsistency]:
    m, lines = MOVEMENTS.c, ORDER_LINES.c
    by_lines = {
        (row.sku, row.location_id): int(row.units)
        for row in session.execute(
            sa.select(lines.sku, lines.location_id, sa.func.sum(lines.committed).label("units"))
            .where(lines.location_id.is_not(None))
            .group_by(lines.sku, lines.location_id)
        )
    }
    unowned = sa.or_(m.reference.is_(None), ~sa.exists().where(lines.id == m.reference))
    by_hand = {
        (row.sku, row.location_id): int(row.units or 0)
        for row in session.execute(
            sa.select(m.sku, m.location_id, sa.func.sum(m.delta_committed).label("units"))
            .where(m.delta_committed != 0, unowned)
            .group_by(m.sku, m.location_id)
        )
    }
    found: list[Inconsistency] = []
    for row in session.execute(sa.select(POSITIONS.c.sku, POSITIONS.c.location_id, POSITIONS.c.committed)):
        key = (row.sku, row.location_id)
        want = by_lines.get(key, 0) + by_hand.get(key, 0)
        if row.committed != want:
            found.append(
                Inconsistency(
                    "committed",
                    f"{key[0]} at {key[1]}",
                    row.committed,
                    want,
                    f"committed is {row.committed} but open order lines hold {by_lines.get(key, 0)} there"
                    f" and commitments made by hand {by_hand.get(key, 0)}",
                )
            )
    return found


def _lines(session: Session) -> list[Inconsistency]:
    m, lines = MOVEMENTS.c, ORDER_LINES.c
    held: dict[str, dict[str, int]] = {}
    for row in session.execute(
        sa.select(m.reference, m.location_id, sa.func.sum(m.delta_committed).label("units"))
        .where(m.reference.in_(sa.select(lines.id)))
        .group_by(m.reference, m.location_id)
    ):
        held.setdefault(row.reference, {})[row.location_id] = int(row.units or 0)
    found: list[Inconsistency] = []
    for row in session.execute(sa.select(lines.id, lines.location_id, lines.committed).order_by(lines.id)):
        at = held.get(row.id, {})
        here = at.get(row.location_id, 0) if row.location_id is not None else 0
        if here != row.committed:
            found.append(
                Inconsistency(
                    "line",
                    row.id,
                    row.committed,
                    here,
                    f"the line says {row.committed} committed at {row.location_id}; its movements left {here} there",
                )
            )
        for location_id, units in sorted(at.items()):
            if location_id != row.location_id and units != 0:
                found.append(
                    Inconsistency(
                        "line",
                        row.id,
                        units,
                        0,
                        f"the line is allocated to {row.location_id} but its movements left {units} committed"
                        f" at {location_id}",
                    )
                )
    return found


def _closed_lines(session: Session) -> list[Inconsistency]:
    lines = ORDER_LINES.c
    rows = session.execute(
        sa.select(lines.id, lines.status, lines.committed)
        .where(lines.status != LineStatus.OPEN.value, lines.committed != 0)
        .order_by(lines.id)
    )
    return [
        Inconsistency("closed_line", row.id, row.committed, 0, f"a {row.status} line still holds {row.committed}")
        for row in rows
    ]


def _outbox(session: Session, cutoff: datetime) -> list[Inconsistency]:
    o = OUTBOX.c
    rows = session.execute(
        sa.select(o.id, o.channel, o.sku, o.location_id, o.created_at)
        .where(o.status == "pending", o.created_at < cutoff)
        .order_by(o.id)
    )
    return [
        Inconsistency(
            "outbox",
            f"write #{row.id} to {row.channel}",
            "pending",
            "finished",
            f"{row.sku} at {row.location_id}, recorded {row.created_at.isoformat(timespec='seconds')}, is still"
            " pending past the idempotency window",
        )
        for row in rows
    ]
