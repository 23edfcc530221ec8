"""The SKU page: the ledger per location, what each channel shows and should show (the ``explain`` rules), drift
and why, recent movements and the routing decisions of orders with the SKU."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from omnibridge.cli.explain import SkuExplanation, explain_sku
from omnibridge.console.context import ConsoleContext
from omnibridge.store.engine import read_session
from omnibridge.store.tables import CHANNEL_LEVELS, MOVEMENTS, ORDER_LINES, ORDERS, POSITIONS, ROUTING_DECISIONS

RECENT = 20


@dataclass
class SkuPage:
    """Everything the SKU page shows; ``explanation`` is None without a profile."""

    sku: str
    positions: list[dict[str, Any]]
    levels: list[dict[str, Any]]
    explanation: SkuExplanation | None
    incidents: list[dict[str, Any]]
    movements: list[dict[str, Any]]
    decisions: list[dict[str, Any]]


_CHANNELS = sa.text(
    "WITH RECURSIVE c(ch) AS (SELECT MIN(channel) FROM channel_levels UNION ALL "
    "SELECT (SELECT MIN(channel) FROM channel_levels WHERE channel > c.ch) FROM c WHERE c.ch IS NOT NULL) "
    "SELECT ch FROM c WHERE ch IS NOT NULL"
)


def level_channels(context: ConsoleContext, session: Session) -> list[str]:
    """The channels ``channel_levels`` may hold: the profile's, else the distinct ones read by a loose index scan
    (one probe of the primary key per channel, not a scan of every level)."""
    if context.profile is not None:
        return [channel.id for channel in context.profile.channels]
    return [str(row[0]) for row in session.execute(_CHANNELS)]


def sku_page(context: ConsoleContext, sku: str) -> SkuPage | None:
    """The SKU page's data, or None when the store does not know ``sku``."""
    store = context.store
    if store.get_variant(sku) is None:
        return None
    with read_session(store.engine) as session:
        positions = [
            dict(row) for row in session.execute(sa.select(POSITIONS).where(POSITIONS.c.sku == sku)).mappings()
        ]
        levels = [
            dict(row)
            for row in session.execute(
                sa.select(CHANNEL_LEVELS)
                .where(CHANNEL_LEVELS.c.channel.in_(level_channels(context, session)), CHANNEL_LEVELS.c.sku == sku)
                .order_by(CHANNEL_LEVELS.c.channel, CHANNEL_LEVELS.c.location_id)
            ).mappings()
        ]
        movements = [
            dict(row)
            for row in session.execute(
                sa.select(MOVEMENTS).where(MOVEMENTS.c.sku == sku).order_by(MOVEMENTS.c.id.desc()).limit(RECENT)
            ).mappings()
        ]
        orders = (
            sa.select(ORDERS.c.id)
            .join(
                ORDER_LINES,
                sa.and_(ORDER_LINES.c.channel == ORDERS.c.channel, ORDER_LINES.c.order_ref == ORDERS.c.external_id),
            )
            .where(ORDER_LINES.c.sku == sku)
            .order_by(ORDER_LINES.c.placed_at.desc())
            .limit(RECENT)
        )
        decisions = [
            dict(row)
            for row in session.execute(
                sa.select(ROUTING_DECISIONS)
                .where(ROUTING_DECISIONS.c.order_id.in_(orders.scalar_subquery()))
                .order_by(ROUTING_DECISIONS.c.decided_at.desc())
                .limit(RECENT)
            ).mappings()
        ]
    incidents = [
        {"id": i.id, "kind": i.kind, "channel": i.channel, "summary": i.summary, "at": i.created_at}
        for i in store.incidents(sku=sku, resolved=False, limit=RECENT)
    ]
    explanation = explain_sku(store, context.profile, sku) if context.profile is not None else None
    if explanation is not None:
        should = {(a.channel, a.location_id): a.quantity for a in explanation.allocations}
        for level in levels:
            level["should"] = should.get((level["channel"], level["location_id"]))
    return SkuPage(sku, positions, levels, explanation, incidents, movements, decisions)
