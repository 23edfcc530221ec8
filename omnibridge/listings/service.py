"""Push title and price changes for master SKUs to every sales channel of a profile that can take them.

:func:`push_listing_changes` is the one entry point. For each enabled sales channel (optionally only those named)
it maps the master SKUs to the channel's spelling (the channel's ``sku_aliases``), drops what the channel cannot
change (``listings.write`` for titles, ``prices.write`` for prices) and sends **one** batch to the connector's
:meth:`~omnibridge.sdk.listings.ListingWriter.push_listings`. Channels run concurrently; a channel that fails
(bad credentials, the vendor down after retries, a connector bug) is reported as failed and never stops the
others. Prices are in the merchant's currency (``merchant.currency``); connectors convert to vendor units.

With a ``store``, every SKU a channel applied (or already showed) is recorded as that channel's
:class:`~omnibridge.models.Listing` (title, price, ``updated_at``), other columns kept.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from omnibridge.config import LoadedProfile
from omnibridge.errors import OmnibridgeError
from omnibridge.listings.changes import ListingChange
from omnibridge.logs import get_logger
from omnibridge.models import Listing, Money
from omnibridge.sdk.listings import ListingResult, ListingUpdate, ListingWriter
from omnibridge.sdk.metadata import Capability
from omnibridge.sdk.money import amount_fits, decimals
from omnibridge.store import Store
from omnibridge.sync.runtime import SALES_KINDS, ChannelRuntime, build_channels

__all__ = [
    "ChannelListingReport",
    "ListingInputError",
    "ListingReport",
    "OutcomeStatus",
    "SkuOutcome",
    "push_listing_changes",
]


class ListingInputError(OmnibridgeError):
    """The changes or the channel selection cannot be sent as given (nothing was sent)."""


class OutcomeStatus(StrEnum):
    """What happened to one SKU on one channel."""

    APPLIED = "applied"
    """The channel now shows the title/price asked for."""
    UNCHANGED = "unchanged"
    """The channel already showed it; nothing was written."""
    UNKNOWN_SKU = "unknown_sku"
    """The channel has no item with this SKU (it does not sell it)."""
    FAILED = "failed"
    """The channel refused it, or the whole channel failed; ``message`` says why."""
    SKIPPED = "skipped"
    """Not sent: the channel cannot change what this change asks for."""


_GOOD = frozenset({OutcomeStatus.APPLIED, OutcomeStatus.UNCHANGED})
_NOT_APPLIED = frozenset({OutcomeStatus.UNKNOWN_SKU, OutcomeStatus.FAILED})


@dataclass(frozen=True, slots=True)
class SkuOutcome:
    """One master SKU on one channel: what was sent (``title``/``price``; ``None`` = not sent) and the outcome."""

    master_sku: str
    channel_sku: str
    status: OutcomeStatus
    title: str | None = None
    price: Decimal | None = None
    message: str = ""


@dataclass
class ChannelListingReport:
    """One channel's part: ``skipped`` (why it was not sent anything), ``error`` (the batch failed as a whole) or
    one :class:`SkuOutcome` per change, in the order of the changes."""

    channel: str
    connector: str
    outcomes: list[SkuOutcome] = field(default_factory=list)
    skipped: str | None = None
    error: str | None = None

    @property
    def status(self) -> str:
        """``skipped``, ``failed`` (batch error), ``partial`` (some SKUs failed or are unknown there) or ``ok``."""
        if self.skipped is not None:
            return "skipped"
        if self.error is not None:
            return "failed"
        return "partial" if any(o.status in _NOT_APPLIED for o in self.outcomes) else "ok"

    def counts(self) -> dict[str, int]:
        return {status.value: sum(1 for o in self.outcomes if o.status is status) for status in OutcomeStatus}


@dataclass
class ListingReport:
    """The result of one push: per channel, per SKU. ``reference`` tags every write of this push."""

    reference: str
    currency: str
    changes: list[ListingChange]
    channels: list[ChannelListingReport]
    notes: list[str] = field(default_factory=list)

    def unplaced(self) -> list[str]:
        """Master SKUs no channel applied or already showed (typos, SKUs no channel sells, failures)."""
        placed = {o.master_sku for c in self.channels for o in c.outcomes if o.status in _GOOD}
        return [change.master_sku for change in self.changes if change.master_sku not in placed]

    def not_applied(self) -> list[SkuOutcome]:
        """Every row a channel was sent but did not apply: ``unknown_sku`` (the channel has no such item) and
        ``failed`` (refused, or the whole channel failed)."""
        return [o for c in self.channels for o in c.outcomes if o.status in _NOT_APPLIED]

    def skipped(self) -> int:
        """Rows not sent because the channel cannot change what was asked, plus channels skipped as a whole."""
        rows = sum(1 for c in self.channels for o in c.outcomes if o.status is OutcomeStatus.SKIPPED)
        return rows + sum(1 for c in self.channels if c.skipped is not None)

    @property
    def ok(self) -> bool:
        """True when every row sent was applied (or already shown) and every SKU is shown as asked on at least one
        channel; a row a channel cannot take (``skipped``) is not a failure."""
        failed = any(c.error is not None for c in self.channels) or bool(self.not_applied())
        return not failed and not self.unplaced()

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-able data (what ``omnibridge listings push --json`` prints)."""
        return {
            "ok": self.ok,
            "reference": self.reference,
            "currency": self.currency,
            "unplaced": self.unplaced(),
            "not_applied": len(self.not_applied()),
            "notes": list(self.notes),
            "channels": [
                {
                    "channel": c.channel,
                    "connector": c.connector,
                    "status": c.status,
                    "skipped": c.skipped,
                    "error": c.error,
                    "counts": c.counts(),
                    "skus": [
                        {
                            "sku": o.master_sku,
                            "channel_sku": o.channel_sku,
                            "status": o.status.value,
                            "title": o.title,
                            "price": None if o.price is None else str(o.price),
                            "message": o.message,
                        }
                        for o in c.outcomes
                    ],
                }
                for c in self.channels
            ],
        }


def _check_changes(changes: Sequence[ListingChange], currency: str) -> None:
    if not changes:
        raise ListingInputError("no listing changes given: name at least one SKU with a title or a price")
    seen: set[str] = set()
    for change in changes:
        if change.master_sku in seen:
            raise ListingInputError(f"SKU {change.master_sku!r} is given twice: give each SKU once")
        seen.add(change.master_sku)
        if change.price is not None and not amount_fits(change.price, currency):
            raise ListingInputError(
                f"SKU {change.master_sku!r}: price {change.price} has more decimals than {currency} allows "
                f"(expected at most {decimals(currency)})"
            )


def _select(profile: LoadedProfile, channels: Sequence[str] | None) -> LoadedProfile:
    """``profile`` with only the sales channels to push to (all enabled ones when ``channels`` is None)."""
    if channels is None:
        chosen = [c for c in profile.channels if c.enabled and c.spec.kind in SALES_KINDS]
    else:
        known = {c.id: c for c in profile.channels}
        sales = sorted(c.id for c in profile.channels if c.spec.kind in SALES_KINDS and c.enabled)
        chosen = []
        for channel_id in dict.fromkeys(channels):
            channel = known.get(channel_id)
            if channel is None:
                raise ListingInputError(
                    f"the profile has no channel {channel_id!r} (sales channels: {', '.join(sales) or 'none'})"
                )
            if channel.spec.kind not in SALES_KINDS:
                raise ListingInputError(
                    f"channel {channel_id!r} is a {channel.spec.kind} connection, not a sales channel: it has no "
                    "listings"
                )
            if not channel.enabled:
                raise ListingInputError(f"channel {channel_id!r} is disabled in the profile (enabled: false)")
            chosen.append(channel)
    if not chosen:
        raise ListingInputError(f"{profile.path}: no enabled sales channel to push listings to")
    return dataclasses.replace(profile, channels=tuple(chosen))


def _skip_reason(runtime: ChannelRuntime) -> str | None:
    titles, prices = runtime.can(Capability.LISTINGS_WRITE), runtime.can(Capability.PRICES_WRITE)
    connector = runtime.channel.connector
    if not titles and not prices:
        return f"connector {connector!r} declares neither listings.write nor prices.write"
    if not isinstance(runtime.connector, ListingWriter):
        return f"connector {connector!r} declares listings capabilities but does not implement push_listings"
    return None


async def _push_channel(
    runtime: ChannelRuntime, changes: Sequence[ListingChange], currency: str, reference: str
) -> ChannelListingReport:
    report = ChannelListingReport(runtime.id, runtime.channel.connector)
    try:
        reason = _skip_reason(runtime)
        if reason is not None:
            report.skipped = reason
            return report
        titles, prices = runtime.can(Capability.LISTINGS_WRITE), runtime.can(Capability.PRICES_WRITE)
        channel_skus = runtime.channel_skus([change.master_sku for change in changes])
        slots: list[SkuOutcome | None] = []
        sent: list[tuple[int, ListingUpdate, str]] = []
        for index, (change, channel_sku) in enumerate(zip(changes, channel_skus, strict=True)):
            title = change.title if titles else None
            price = change.price if prices else None
            dropped = []
            if change.title is not None and title is None:
                dropped.append("titles")
            if change.price is not None and price is None:
                dropped.append("prices")
            note = f"this channel cannot change {' or '.join(dropped)}" if dropped else ""
            if title is None and price is None:
                slots.append(SkuOutcome(change.master_sku, channel_sku, OutcomeStatus.SKIPPED, message=note))
                continue
            update = ListingUpdate(
                channel_sku, title, price, currency if price is not None else None, reference=reference
            )
            slots.append(None)
            sent.append((index, update, note))
        if sent:
            assert isinstance(runtime.connector, ListingWriter)
            results = await runtime.connector.push_listings([update for _, update, _ in sent])
            if len(results) != len(sent):
                raise OmnibridgeError(
                    f"connector {runtime.channel.connector!r} returned {len(results)} results for {len(sent)} updates"
                )
            for (index, update, note), result in zip(sent, results, strict=True):
                slots[index] = _outcome(changes[index], update, result, note)
        report.outcomes = [slot for slot in slots if slot is not None]
    except Exception as exc:  # a channel's failure, whatever it is, must not stop the others
        get_logger("omnibridge.listings").warning(
            "listings.channel_failed", channel=runtime.id, error=f"{type(exc).__name__}: {exc}"
        )
        report.error = str(exc) if isinstance(exc, OmnibridgeError) else f"{type(exc).__name__}: {exc}"
        channel_skus = runtime.channel_skus([change.master_sku for change in changes])
        report.outcomes = [
            SkuOutcome(change.master_sku, sku, OutcomeStatus.FAILED, message=report.error)
            for change, sku in zip(changes, channel_skus, strict=True)
        ]
    finally:
        await runtime.connector.aclose()
    return report


def _outcome(change: ListingChange, update: ListingUpdate, result: ListingResult, note: str) -> SkuOutcome:
    try:
        status = OutcomeStatus(result.status.value)
    except ValueError:  # e.g. STALE: a listing write is absolute, so the connector gave up on this SKU
        status = OutcomeStatus.FAILED
    message = "; ".join(part for part in (result.message, note) if part)
    return SkuOutcome(change.master_sku, update.sku, status, update.title, update.price, message)


def _record(store: Store, report: ChannelListingReport, currency: str, now: datetime) -> None:
    for outcome in report.outcomes:
        if outcome.status not in _GOOD:
            continue
        listing = store.get_listing(report.channel, outcome.master_sku) or Listing(
            channel=report.channel, sku=outcome.master_sku
        )
        changed: dict[str, Any] = {"updated_at": now}
        if outcome.title is not None:
            changed["title"] = outcome.title
        if outcome.price is not None:
            changed["price"] = Money(amount=outcome.price, currency=currency)
        store.save_listing(listing.model_copy(update=changed))


async def push_listing_changes(
    profile: LoadedProfile,
    changes: Sequence[ListingChange],
    *,
    channels: Sequence[str] | None = None,
    store: Store | None = None,
    reference: str | None = None,
) -> ListingReport:
    """Send ``changes`` to every enabled sales channel of ``profile`` (or only the channel ids in ``channels``).

    Raises :class:`ListingInputError` before any I/O when the changes are empty, name a SKU twice or carry a price
    finer than the merchant's currency, or when ``channels`` names a channel that is unknown, disabled or not a
    sales channel. Everything else is in the returned :class:`ListingReport`: a channel that cannot take titles or
    prices is ``skipped`` with the reason; a channel whose batch failed has ``error`` and every SKU ``failed``.
    ``reference`` (default: a fresh id) tags the writes; connectors derive their idempotency keys from it.
    With ``store``, applied and unchanged SKUs are recorded as listings.
    """
    currency = profile.merchant.currency.upper()
    _check_changes(changes, currency)
    selected = _select(profile, channels)
    reference = reference or f"listings-{uuid.uuid4()}"
    runtimes = [r for r in build_channels(selected) if r.channel.spec.kind in SALES_KINDS]
    reports = await asyncio.gather(*(_push_channel(r, changes, currency, reference) for r in runtimes))
    report = ListingReport(reference, currency, list(changes), list(reports))
    if store is not None:
        now = datetime.now(UTC)
        for channel_report in report.channels:
            try:
                _record(store, channel_report, currency, now)
            except OmnibridgeError as exc:
                report.notes.append(f"channel {channel_report.channel}: the results were not recorded: {exc}")
    log = get_logger("omnibridge.listings")
    for channel_report in report.channels:
        log.info(
            "listings.pushed",
            channel=channel_report.channel,
            status=channel_report.status,
            reference=reference,
            **channel_report.counts(),
        )
    return report
