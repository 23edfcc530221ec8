"""What each channel lists of a SKU."""

from __future__ import annotations

from sqlmodel import Session, col, select

from omnibridge.models import Listing, ListingStatus, Money
from omnibridge.store.sql import dump, upsert
from omnibridge.store.tables import LISTINGS, ListingRow


def save_listing(session: Session, listing: Listing) -> None:
    """Insert or update the listing of ``listing.sku`` on ``listing.channel``."""
    upsert(
        session,
        LISTINGS,
        {
            "channel": listing.channel,
            "sku": listing.sku,
            "external_id": listing.external_id,
            "title": listing.title,
            "price": dump(listing.price),
            "compare_at_price": dump(listing.compare_at_price),
            "status": listing.status.value,
            "shown_quantity": listing.shown_quantity,
            "updated_at": listing.updated_at,
        },
        key=["channel", "sku"],
    )


def get_listing(session: Session, channel: str, sku: str) -> Listing | None:
    row = session.get(ListingRow, (channel, sku))
    return None if row is None else _listing(row)


def listings_for(session: Session, sku: str) -> list[Listing]:
    """Every channel's listing of ``sku``, sorted by channel."""
    rows = session.exec(select(ListingRow).where(ListingRow.sku == sku).order_by(col(ListingRow.channel))).all()
    return [_listing(row) for row in rows]


def _listing(row: ListingRow) -> Listing:
    return Listing(
        channel=row.channel,
        sku=row.sku,
        external_id=row.external_id,
        title=row.title,
        price=None if row.price is None else Money.model_validate(row.price),
        compare_at_price=None if row.compare_at_price is None else Money.model_validate(row.compare_at_price),
        status=ListingStatus(row.status),
        shown_quantity=row.shown_quantity,
        updated_at=row.updated_at,
    )
