"""Returns in the store: the ``returns`` row and its ``return_lines`` (``0017_returns``), read and written in the
caller's session (a :class:`~omnibridge.store.unit_of_work.UnitOfWork`'s, so a return changes with the stock
movements its dispositions make, in one transaction)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from omnibridge.returns.model import ACTIVE, ReturnLine, Rma
from omnibridge.sdk.returns import ReturnState
from omnibridge.store.sql import insert_ignore, upsert
from omnibridge.store.tables import RETURN_LINES, RETURNS

_LINE_COLUMNS = (
    "id",
    "position",
    "order_line_id",
    "sku",
    "quantity",
    "reason",
    "channel_line_ref",
    "restocked",
    "damaged",
    "inspect",
    "missing",
    "location_id",
    "decisions",
)


def _row(rma: Rma) -> dict[str, Any]:
    return {
        "id": rma.id,
        "order_id": rma.order_id,
        "channel": rma.channel,
        "external_id": rma.external_id,
        "location_id": rma.location_id,
        "status": rma.state.value,
        # the summary the older Return model reads (omnibridge.store.shipments.get_return)
        "lines": [
            {"sku": line.sku, "quantity": line.quantity, "restock": line.damaged == 0, "reason": line.reason}
            for line in rma.lines
        ],
        "refund": rma.refund,
        "created_at": rma.created_at,
        "at_store": rma.at_store,
        "carrier": rma.carrier,
        "tracking_number": rma.tracking_number,
        "label_url": rma.label_url,
        "reason": rma.reason,
        "event_at": rma.event_at,
        "updated_at": rma.updated_at,
    }


def insert(session: Session, rma: Rma) -> bool:
    """Record a new return with its lines; False (nothing written) when its id, or its channel and
    ``external_id``, is recorded already."""
    if not insert_ignore(session, RETURNS, _row(rma)):
        return False
    _save_lines(session, rma)
    return True


def save(session: Session, rma: Rma) -> None:
    """Write ``rma`` (already recorded) and its lines as they are now."""
    values = _row(rma)
    session.connection().execute(sa.update(RETURNS).where(RETURNS.c.id == rma.id).values(**values))
    _save_lines(session, rma)


def _save_lines(session: Session, rma: Rma) -> None:
    for line in rma.lines:
        values = {name: getattr(line, name) for name in _LINE_COLUMNS}
        upsert(session, RETURN_LINES, {**values, "return_id": rma.id}, key=["id"])


def get(session: Session, return_id: str, *, lock: bool = False) -> Rma | None:
    """The return ``return_id`` (``lock``: locked until the transaction ends), or None."""
    query = sa.select(RETURNS).where(RETURNS.c.id == return_id)
    row = session.connection().execute(query.with_for_update() if lock else query).mappings().first()
    return None if row is None else _load(session, [row])[0]


def id_of_external(session: Session, channel: str, external_id: str) -> str | None:
    """omnibridge's id of the channel's return ``external_id``, or None."""
    query = sa.select(RETURNS.c.id).where(RETURNS.c.channel == channel, RETURNS.c.external_id == external_id)
    return session.connection().execute(query).scalar()


def list_returns(
    session: Session, *, status: str | None = None, channel: str | None = None, order_id: str | None = None
) -> list[Rma]:
    """Returns, newest first, filtered by status, channel and order."""
    query = sa.select(RETURNS).order_by(RETURNS.c.created_at.desc(), RETURNS.c.id)
    if status is not None:
        query = query.where(RETURNS.c.status == status)
    if channel is not None:
        query = query.where(RETURNS.c.channel == channel)
    if order_id is not None:
        query = query.where(RETURNS.c.order_id == order_id)
    return _load(session, list(session.connection().execute(query).mappings()))


def count_of_order(session: Session, order_id: str) -> int:
    query = sa.select(sa.func.count()).select_from(RETURNS).where(RETURNS.c.order_id == order_id)
    return int(session.connection().execute(query).scalar() or 0)


def taken_back(session: Session, order_line_id: str, *, besides: str | None = None) -> int:
    """Units of the order line that returns took back, except return ``besides``: every unit of an active return
    (requested, open, received, closed), and those of a declined or cancelled one that came back all the same."""
    line = RETURN_LINES.c
    units = sa.case(
        (RETURNS.c.status.in_([s.value for s in ACTIVE]), line.quantity),
        else_=line.restocked + line.damaged + line.inspect + line.missing,
    )
    query = (
        sa.select(sa.func.coalesce(sa.func.sum(units), 0))
        .select_from(RETURN_LINES.join(RETURNS, RETURNS.c.id == RETURN_LINES.c.return_id))
        .where(line.order_line_id == order_line_id)
    )
    if besides is not None:
        query = query.where(RETURNS.c.id != besides)
    return int(session.connection().execute(query).scalar() or 0)


def _load(session: Session, rows: Iterable[Any]) -> list[Rma]:
    rows = list(rows)
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    query = sa.select(RETURN_LINES).where(RETURN_LINES.c.return_id.in_(ids)).order_by(RETURN_LINES.c.position)
    lines: dict[str, list[ReturnLine]] = {}
    for line in session.connection().execute(query).mappings():
        lines.setdefault(line["return_id"], []).append(ReturnLine(**{name: line[name] for name in _LINE_COLUMNS}))
    return [
        Rma(
            id=row["id"],
            order_id=row["order_id"],
            channel=row["channel"],
            state=ReturnState(row["status"]),
            lines=tuple(lines.get(row["id"], [])),
            created_at=row["created_at"],
            external_id=row["external_id"],
            location_id=row["location_id"],
            at_store=bool(row["at_store"]),
            reason=row["reason"],
            carrier=row["carrier"],
            tracking_number=row["tracking_number"],
            label_url=row["label_url"],
            refund=row["refund"],
            event_at=row["event_at"],
            updated_at=row["updated_at"],
        )
        for row in rows
    ]
