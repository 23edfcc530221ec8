"""The operations the failure checks drive, picked by what the connector declares.

A *read probe* is one cheap read the connector's capabilities promise (``read_levels``, ``pull_events``,
``track`` or ``quote``, in that order of preference); a *write probe* is one write (``push_levels``,
``push_listings``, ``buy_label`` or a provider's ``submit_fulfilment``) together with how to tell its end state.
Both run inside a session; any set-up they need (seeding stock, buying the label to track) happens in ``prepare``
before failures are injected.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from omnibridge.sdk.carrier import CarrierConnector
from omnibridge.sdk.channel import ChannelConnector, PushResult, PushStatus, StockTarget
from omnibridge.sdk.fulfilment import FulfilmentProvider, FulfilmentRequest, Submission
from omnibridge.sdk.listings import ListingResult, ListingUpdate, ListingWriter
from omnibridge.sdk.metadata import Capability
from omnibridge.testing.checks_common import CheckContext, NotApplicable, describe, hook
from omnibridge.testing.harness import ConformanceSession

__all__ = ["SEED_QUANTITY", "ReadProbe", "WriteProbe", "read_probe", "write_probe"]

SEED_QUANTITY = 5
WRITE_TARGET = 8
LISTING_TITLE = "Conformance kit title"
LISTING_PRICE = Decimal("12.34")


@dataclass
class ReadProbe:
    """``prepare()`` once (no failures injected), then ``run()`` as often as a check needs."""

    name: str
    capability: Capability
    prepare: Callable[[], Awaitable[None]]
    run: Callable[[], Awaitable[Any]]


@dataclass
class WriteProbe:
    """``prepare()`` once; ``run()`` performs the write and returns per-item statuses (empty for a label);
    ``settled()`` returns ``None`` when the end state is as after exactly one application, else what is wrong."""

    name: str
    capability: Capability
    prepare: Callable[[], Awaitable[None]]
    run: Callable[[], Awaitable[list[PushStatus]]]
    settled: Callable[[], str | None]


def _channel(ctx: CheckContext, session: ConformanceSession) -> Any:
    if not isinstance(session.connector, ChannelConnector):
        raise ctx.fail(
            "a ChannelConnector (list_locations, read_levels, push_levels, ...)", describe(session.connector)
        )
    return session.connector


def _carrier(ctx: CheckContext, session: ConformanceSession) -> Any:
    if not isinstance(session.connector, CarrierConnector):
        raise ctx.fail("a CarrierConnector (quote, buy_label, track, ...)", describe(session.connector))
    return session.connector


def read_probe(ctx: CheckContext, session: ConformanceSession) -> ReadProbe:
    """The read the failure checks use, or :class:`NotApplicable` when no read capability is declared."""
    declared = ctx.declared
    control = session.control
    if Capability.INVENTORY_READ in declared:
        connector = _channel(ctx, session)

        async def prepare_levels() -> None:
            hook(ctx, control, "seed_stock", session.sku, session.location_ref, SEED_QUANTITY)
            await ctx.call("read_levels (before any failure is injected)", lambda: connector.read_levels([session.sku]))

        return ReadProbe(
            "read_levels", Capability.INVENTORY_READ, prepare_levels, lambda: connector.read_levels([session.sku])
        )
    if Capability.ORDERS_READ in declared:
        connector = _channel(ctx, session)

        async def prepare_pull() -> None:
            await ctx.call("pull_events(None) (before any failure is injected)", lambda: connector.pull_events(None))

        return ReadProbe("pull_events", Capability.ORDERS_READ, prepare_pull, lambda: connector.pull_events(None))
    if Capability.TRACKING in declared and Capability.LABELS in declared:
        carrier = _carrier(ctx, session)
        bought: dict[str, str] = {}

        async def prepare_track() -> None:
            request = hook(ctx, control, "sample_shipment")
            quote = await ctx.call("quote (before any failure is injected)", lambda: carrier.quote(request))
            if not quote.rates:
                raise ctx.fail("quote to return at least one rate", describe(quote))
            label = await ctx.call("buy_label", lambda: carrier.buy_label(quote.shipment_ref, quote.rates[0].rate_id))
            bought.update(code=label.tracking_code, carrier=label.carrier)

        return ReadProbe(
            "track",
            Capability.TRACKING,
            prepare_track,
            lambda: carrier.track(bought["code"], bought["carrier"]),
        )
    if Capability.RATES in declared:
        carrier = _carrier(ctx, session)
        requests: list[Any] = []

        async def prepare_quote() -> None:
            requests.append(hook(ctx, control, "sample_shipment"))
            await ctx.call("quote (before any failure is injected)", lambda: carrier.quote(requests[0]))

        return ReadProbe("quote", Capability.RATES, prepare_quote, lambda: carrier.quote(requests[0]))
    raise NotApplicable(
        "none of inventory.read, orders.read, carrier.tracking (with carrier.labels), carrier.rates is declared: "
        f"connector {ctx.harness.spec.id!r} has no vendor read to probe"
    )


def _statuses(results: list[PushResult] | list[ListingResult]) -> list[PushStatus]:
    return [result.status for result in results]


def write_probe(ctx: CheckContext, session: ConformanceSession, reference: str) -> WriteProbe:
    """The write the failure checks use, or :class:`NotApplicable` when no write capability is declared."""
    declared = ctx.declared
    control = session.control
    if Capability.INVENTORY_WRITE in declared:
        connector = _channel(ctx, session)
        target = StockTarget(
            session.sku, session.location_ref, WRITE_TARGET, expected=SEED_QUANTITY, reference=reference
        )

        async def prepare_stock() -> None:
            hook(ctx, control, "seed_stock", session.sku, session.location_ref, SEED_QUANTITY)
            if Capability.INVENTORY_READ in declared:  # warm caches so failures hit the write itself
                await ctx.call("read_levels (before the write)", lambda: connector.read_levels([session.sku]))

        async def push() -> list[PushStatus]:
            return _statuses(await connector.push_levels([target]))

        def stock_settled() -> str | None:
            shown = hook(ctx, control, "shown_stock", session.sku, session.location_ref)
            return None if shown == WRITE_TARGET else f"the channel shows {shown}, not the target {WRITE_TARGET}"

        return WriteProbe("push_levels", Capability.INVENTORY_WRITE, prepare_stock, push, stock_settled)
    if Capability.LISTINGS_WRITE in declared or Capability.PRICES_WRITE in declared:
        capability = Capability.LISTINGS_WRITE if Capability.LISTINGS_WRITE in declared else Capability.PRICES_WRITE
        if not isinstance(session.connector, ListingWriter):
            raise ctx.fail("a ListingWriter (push_listings)", describe(session.connector))
        writer = session.connector
        update = (
            ListingUpdate(session.sku, title=LISTING_TITLE, reference=reference)
            if capability is Capability.LISTINGS_WRITE
            else ListingUpdate(session.sku, price=LISTING_PRICE, currency=session.currency, reference=reference)
        )

        async def prepare_listing() -> None:
            hook(ctx, control, "seed_stock", session.sku, session.location_ref, SEED_QUANTITY)

        async def push_listing() -> list[PushStatus]:
            return _statuses(await writer.push_listings([update]))

        def listing_settled() -> str | None:
            title, price = hook(ctx, control, "listing", session.sku)
            if capability is Capability.LISTINGS_WRITE:
                return None if title == LISTING_TITLE else f"the channel shows title {title!r}"
            return (
                None if price is not None and Decimal(price) == LISTING_PRICE else f"the channel shows price {price!r}"
            )

        return WriteProbe("push_listings", capability, prepare_listing, push_listing, listing_settled)
    if Capability.LABELS in declared:
        carrier = _carrier(ctx, session)
        quoted: dict[str, str] = {}

        async def prepare_label() -> None:
            request = hook(ctx, control, "sample_shipment")
            quote = await ctx.call("quote (before the write)", lambda: carrier.quote(request))
            if not quote.rates:
                raise ctx.fail("quote to return at least one rate", describe(quote))
            quoted.update(shipment=quote.shipment_ref, rate=quote.rates[0].rate_id)

        async def buy() -> list[PushStatus]:
            await carrier.buy_label(quoted["shipment"], quoted["rate"])
            return []

        def label_settled() -> str | None:
            bought = hook(ctx, control, "labels_bought", quoted["shipment"])
            return None if bought == 1 else f"the vendor sold {bought} labels for shipment {quoted['shipment']}"

        return WriteProbe("buy_label", Capability.LABELS, prepare_label, buy, label_settled)
    if Capability.FULFILLMENT_WRITE in declared and isinstance(session.connector, FulfilmentProvider):
        return _submit_probe(ctx, session, reference)
    raise NotApplicable(
        "none of inventory.write, listings.write, prices.write, carrier.labels is declared (nor fulfillment.write "
        "by a FulfilmentProvider): "
        f"connector {ctx.harness.spec.id!r} has no vendor write to probe"
    )


def submission_status(result: Submission) -> PushStatus:
    """A provider's answer as a write status: refused FAILED, a repeat UNCHANGED, else APPLIED."""
    if not result.accepted:
        return PushStatus.FAILED
    return PushStatus.UNCHANGED if result.duplicate else PushStatus.APPLIED


def _submit_probe(ctx: CheckContext, session: ConformanceSession, reference: str) -> WriteProbe:
    provider = session.connector
    control = session.control
    requests: list[FulfilmentRequest] = []

    async def prepare_submit() -> None:
        requests.append(hook(ctx, control, "sample_fulfilment", reference))

    async def submit() -> list[PushStatus]:
        return [submission_status(await provider.submit_fulfilment(requests[0]))]

    def submit_settled() -> str | None:
        held = hook(ctx, control, "fulfilments_held", reference)
        return None if held == 1 else f"the provider holds {held} orders for {reference!r}"

    return WriteProbe("submit_fulfilment", Capability.FULFILLMENT_WRITE, prepare_submit, submit, submit_settled)
