"""Channel bindings: which external id on which channel is which internal record."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from omnibridge.errors import ConflictError
from omnibridge.models import BoundRecord, ChannelBinding
from omnibridge.store.sql import insert_ignore
from omnibridge.store.tables import BINDINGS


def bind(session: Session, binding: ChannelBinding) -> None:
    """Record ``binding``; binding the same mapping again is a no-op (its ``extra`` is refreshed).

    Raises :class:`ConflictError` if the external id is already bound to another internal id, or the internal
    id to another external id, on that channel for that kind of record. The unique constraints decide, in the
    same statement as the insert, so two concurrent binders cannot both win.
    """
    values = {
        "channel": binding.channel,
        "record": binding.record.value,
        "external_id": binding.external_id,
        "internal_id": binding.internal_id,
        "extra": dict(binding.extra),
    }
    if insert_ignore(session, BINDINGS, values):
        return
    same_kind = (BINDINGS.c.channel == binding.channel) & (BINDINGS.c.record == binding.record.value)
    clash = session.execute(
        sa.select(BINDINGS.c.external_id, BINDINGS.c.internal_id)
        .where(same_kind)
        .where((BINDINGS.c.external_id == binding.external_id) | (BINDINGS.c.internal_id == binding.internal_id))
    ).first()
    if clash is not None and (clash.external_id, clash.internal_id) == (binding.external_id, binding.internal_id):
        session.execute(
            sa.update(BINDINGS)
            .where(same_kind, BINDINGS.c.external_id == binding.external_id)
            .values(extra=dict(binding.extra))
        )
        return
    where = f"{binding.channel} {binding.record.value}"
    if clash is not None and clash.external_id == binding.external_id:
        raise ConflictError(
            f"{where} {binding.external_id!r} is already bound to {clash.internal_id!r}, "
            f"not {binding.internal_id!r}: unbind it first"
        )
    other = clash.external_id if clash is not None else "another id"
    raise ConflictError(
        f"{where} {binding.internal_id!r} is already bound to external id {other!r}, "
        f"not {binding.external_id!r}: unbind it first"
    )


def resolve(session: Session, channel: str, record: BoundRecord, external_id: str) -> str | None:
    """The internal id bound to ``external_id``, or None."""
    return session.execute(
        sa.select(BINDINGS.c.internal_id).where(
            BINDINGS.c.channel == channel, BINDINGS.c.record == record.value, BINDINGS.c.external_id == external_id
        )
    ).scalar()


def external_id(session: Session, channel: str, record: BoundRecord, internal_id: str) -> str | None:
    """The external id bound to ``internal_id`` on ``channel``, or None."""
    return session.execute(
        sa.select(BINDINGS.c.external_id).where(
            BINDINGS.c.channel == channel, BINDINGS.c.record == record.value, BINDINGS.c.internal_id == internal_id
        )
    ).scalar()
