"""Declared capabilities against behaviour: each declared one is probed; undeclared ones must not be claimed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from omnibridge.errors import WebhookError
from omnibridge.sdk.carrier import CarrierConnector
from omnibridge.sdk.channel import ChannelConnector, OrderCanceller, OrderEvent, PushStatus, StockTarget
from omnibridge.sdk.fulfilment import FulfilmentProvider
from omnibridge.sdk.listings import ListingUpdate, ListingWriter
from omnibridge.sdk.metadata import Capability
from omnibridge.testing.checks_common import Check, CheckContext, NotApplicable, describe, hook, require_declared
from omnibridge.testing.checks_probes import LISTING_PRICE, LISTING_TITLE, SEED_QUANTITY, WRITE_TARGET

__all__ = ["CAPABILITY_CHECKS"]

MISSING_SKU = "CONFORMANCE-NO-SUCH-SKU-9F3A"
ORDERED = 2


def _channel(ctx: CheckContext, connector: Any) -> Any:
    if not isinstance(connector, ChannelConnector):
        raise ctx.fail(
            "a ChannelConnector (list_locations, read_levels, push_levels, pull_events, verify_webhook, "
            "webhook_events, aclose)",
            f"{type(connector).__name__} lacks some of them",
        )
    return connector


def _carrier(ctx: CheckContext, connector: Any) -> Any:
    if not isinstance(connector, CarrierConnector):
        raise ctx.fail(
            "a CarrierConnector (quote, buy_label, track, verify_webhook, webhook_events, aclose)",
            f"{type(connector).__name__} lacks some of them",
        )
    return connector


async def _inventory_read(ctx: CheckContext) -> None:
    require_declared(ctx, Capability.INVENTORY_READ)
    async with ctx.session() as session:
        connector = _channel(ctx, session.connector)
        locations = await ctx.call("list_locations()", connector.list_locations)
        if session.location_ref not in {location.external_id for location in locations}:
            raise ctx.fail(
                f"list_locations() to include the session's location {session.location_ref!r}", describe(locations)
            )
        hook(ctx, session.control, "seed_stock", session.sku, session.location_ref, 7)
        levels = await ctx.call("read_levels([sku])", lambda: connector.read_levels([session.sku, MISSING_SKU]))
        shown = [lv.available for lv in levels if lv.sku == session.sku and lv.location_ref == session.location_ref]
        if shown != [7]:
            raise ctx.fail(
                f"read_levels to show {session.sku!r} at {session.location_ref!r} once with the seeded 7",
                describe(levels),
            )
        if any(level.sku == MISSING_SKU for level in levels):
            raise ctx.fail("SKUs the channel lacks to be left out of read_levels", describe(levels))


async def _inventory_write(ctx: CheckContext) -> None:
    require_declared(ctx, Capability.INVENTORY_WRITE)
    async with ctx.session() as session:
        connector = _channel(ctx, session.connector)
        hook(ctx, session.control, "seed_stock", session.sku, session.location_ref, SEED_QUANTITY)
        missing = StockTarget(MISSING_SKU, session.location_ref, 3, reference="conformance-write")
        target = StockTarget(
            session.sku, session.location_ref, WRITE_TARGET, expected=SEED_QUANTITY, reference="conformance-write"
        )
        results = await ctx.call("push_levels([unknown SKU, target])", lambda: connector.push_levels([missing, target]))
        if len(results) != 2 or results[0].target != missing or results[1].target != target:
            raise ctx.fail("exactly one PushResult per target, in order", describe(results))
        if results[0].status not in (PushStatus.UNKNOWN_SKU, PushStatus.FAILED):
            raise ctx.fail("an unknown SKU to come back UNKNOWN_SKU (or FAILED)", describe(results[0]))
        if results[1].status is not PushStatus.APPLIED:
            raise ctx.fail("the good target APPLIED (one bad target never fails the others)", describe(results[1]))
        shown = hook(ctx, session.control, "shown_stock", session.sku, session.location_ref)
        if shown != WRITE_TARGET:
            raise ctx.fail(f"the channel to show the pushed {WRITE_TARGET}", f"it shows {shown}")


async def _compare_and_set(ctx: CheckContext) -> None:
    require_declared(ctx, Capability.INVENTORY_COMPARE_AND_SET)
    async with ctx.session() as session:
        connector = _channel(ctx, session.connector)
        hook(ctx, session.control, "seed_stock", session.sku, session.location_ref, SEED_QUANTITY)
        stale = StockTarget(
            session.sku,
            session.location_ref,
            WRITE_TARGET,
            expected=SEED_QUANTITY - 2,
            reference="conformance-cas",
            retry_stale=False,
        )
        results = await ctx.call("push_levels with a wrong expected value", lambda: connector.push_levels([stale]))
        if len(results) != 1 or results[0].status is not PushStatus.STALE:
            raise ctx.fail(
                f"STALE for a compare value of {SEED_QUANTITY - 2} while the channel shows {SEED_QUANTITY} "
                "(retry_stale=False)",
                describe(results),
            )
        shown = hook(ctx, session.control, "shown_stock", session.sku, session.location_ref)
        if shown != SEED_QUANTITY:
            raise ctx.fail(f"the channel unchanged at {SEED_QUANTITY} after a refused compare", f"it shows {shown}")


def _find_order(events: list[Any], ref: str) -> OrderEvent | None:
    for event in events:
        if isinstance(event, OrderEvent) and event.ref == ref:
            return event
    return None


async def _orders_read(ctx: CheckContext) -> None:
    require_declared(ctx, Capability.ORDERS_READ)
    async with ctx.session() as session:
        connector = _channel(ctx, session.connector)
        hook(ctx, session.control, "seed_stock", session.sku, session.location_ref, 10)
        ref = hook(ctx, session.control, "place_order", session.sku, session.location_ref, ORDERED)
        pulled = await ctx.call("pull_events(None)", lambda: connector.pull_events(None))
        order = _find_order(pulled.events, ref)
        if order is None:
            raise ctx.fail(f"pull_events(None) to report an OrderEvent with ref {ref!r}", describe(pulled.events))
        if not any(line.sku == session.sku and line.quantity == ORDERED for line in order.lines):
            raise ctx.fail(f"the order to carry a line of {ORDERED} x {session.sku!r}", describe(order.lines))
        if pulled.bookmark is not None:
            await ctx.call(
                "pull_events(bookmark) with the bookmark just returned", lambda: connector.pull_events(pulled.bookmark)
            )


async def _orders_cancel(ctx: CheckContext) -> None:
    require_declared(ctx, Capability.ORDERS_CANCEL)
    async with ctx.session() as session:
        if not isinstance(session.connector, OrderCanceller):
            raise ctx.fail(
                "an OrderCanceller (cancel_order)", f"{type(session.connector).__name__} has no cancel_order"
            )
        canceller = session.connector
        hook(ctx, session.control, "seed_stock", session.sku, session.location_ref, 10)
        ref = hook(ctx, session.control, "place_order", session.sku, session.location_ref, ORDERED)
        await ctx.call(f"cancel_order({ref!r})", lambda: canceller.cancel_order(ref, "conformance check"))
        if not hook(ctx, session.control, "order_cancelled", ref):
            raise ctx.fail(f"the channel to show order {ref!r} cancelled", "it is not cancelled")
        await ctx.call(
            "cancel_order again on a cancelled order (must return normally)",
            lambda: canceller.cancel_order(ref, "conformance check"),
        )


async def _webhooks(ctx: CheckContext) -> None:
    require_declared(ctx, Capability.WEBHOOKS)
    vectors = list(ctx.harness.webhook_vectors())
    if not any(vector.valid for vector in vectors):
        raise ctx.fail("the harness's webhook_vectors() to give at least one valid signed delivery", describe(vectors))
    async with ctx.session() as session:
        if not callable(getattr(session.connector, "verify_webhook", None)):
            raise ctx.fail("a verify_webhook(raw_body, headers, url) method", f"{type(session.connector).__name__}")
        if not callable(getattr(session.connector, "webhook_events", None)):
            raise ctx.fail("a webhook_events(delivery) method", f"{type(session.connector).__name__}")


async def _listings(ctx: CheckContext, capability: Capability, update: Callable[[str, str], ListingUpdate]) -> None:
    require_declared(ctx, capability)
    async with ctx.session() as session:
        if not isinstance(session.connector, ListingWriter):
            raise ctx.fail(
                "a ListingWriter (push_listings)", f"{type(session.connector).__name__} has no push_listings"
            )
        writer = session.connector
        hook(ctx, session.control, "seed_stock", session.sku, session.location_ref, SEED_QUANTITY)
        wanted = update(session.sku, session.currency)
        missing = update(MISSING_SKU, session.currency)
        results = await ctx.call(
            "push_listings([unknown SKU, update])", lambda: writer.push_listings([missing, wanted])
        )
        if len(results) != 2 or results[0].update != missing or results[1].update != wanted:
            raise ctx.fail("exactly one ListingResult per update, in order", describe(results))
        if results[0].status not in (PushStatus.UNKNOWN_SKU, PushStatus.FAILED):
            raise ctx.fail("an unknown SKU to come back UNKNOWN_SKU (or FAILED)", describe(results[0]))
        if results[1].status not in (PushStatus.APPLIED, PushStatus.UNCHANGED):
            raise ctx.fail("the update APPLIED", describe(results[1]))
        title, price = hook(ctx, session.control, "listing", session.sku)
        if wanted.title is not None and title != wanted.title:
            raise ctx.fail(f"the channel to show title {wanted.title!r}", f"it shows {title!r}")
        if wanted.price is not None and (price is None or Decimal(price) != wanted.price):
            raise ctx.fail(f"the channel to show price {wanted.price}", f"it shows {price!r}")


async def _listings_write(ctx: CheckContext) -> None:
    await _listings(
        ctx, Capability.LISTINGS_WRITE, lambda sku, _: ListingUpdate(sku, title=LISTING_TITLE, reference="conf-title")
    )


async def _prices_write(ctx: CheckContext) -> None:
    await _listings(
        ctx,
        Capability.PRICES_WRITE,
        lambda sku, currency: ListingUpdate(sku, price=LISTING_PRICE, currency=currency, reference="conf-price"),
    )


async def _carrier_rates(ctx: CheckContext) -> None:
    require_declared(ctx, Capability.RATES)
    async with ctx.session() as session:
        carrier = _carrier(ctx, session.connector)
        request = hook(ctx, session.control, "sample_shipment")
        quote = await ctx.call("quote(sample_shipment())", lambda: carrier.quote(request))
        if not quote.shipment_ref or not quote.rates:
            raise ctx.fail("a quote with a shipment_ref and at least one rate", describe(quote))
        amounts = [rate.amount for rate in quote.rates]
        if amounts != sorted(amounts):
            raise ctx.fail("rates cheapest first", describe(amounts))
        if Capability.LABELS in ctx.declared:
            bought = hook(ctx, session.control, "labels_bought", quote.shipment_ref)
            if bought != 0:
                raise ctx.fail("a quote to buy nothing", f"{bought} labels bought for {quote.shipment_ref}")


async def _carrier_labels(ctx: CheckContext) -> None:
    require_declared(ctx, Capability.LABELS)
    async with ctx.session() as session:
        carrier = _carrier(ctx, session.connector)
        request = hook(ctx, session.control, "sample_shipment")
        quote = await ctx.call("quote(sample_shipment())", lambda: carrier.quote(request))
        if not quote.rates:
            raise ctx.fail("a quote with at least one rate", describe(quote))
        rate = quote.rates[0]
        label = await ctx.call("buy_label", lambda: carrier.buy_label(quote.shipment_ref, rate.rate_id))
        if not label.tracking_code or label.shipment_ref != quote.shipment_ref:
            raise ctx.fail(f"a label with a tracking code for shipment {quote.shipment_ref!r}", describe(label))
        again = await ctx.call(
            "buy_label again (must return the label already bought)",
            lambda: carrier.buy_label(quote.shipment_ref, rate.rate_id),
        )
        if again.tracking_code != label.tracking_code:
            raise ctx.fail(f"the second buy_label to return label {label.tracking_code!r}", describe(again))
        bought = hook(ctx, session.control, "labels_bought", quote.shipment_ref)
        if bought != 1:
            raise ctx.fail("exactly one label sold after buying twice", f"{bought} labels sold")


async def _carrier_tracking(ctx: CheckContext) -> None:
    require_declared(ctx, Capability.TRACKING)
    if Capability.LABELS not in ctx.declared:
        raise ctx.fail("carrier.labels declared too (the tracking probe tracks a label it bought)", "not declared")
    async with ctx.session() as session:
        carrier = _carrier(ctx, session.connector)
        request = hook(ctx, session.control, "sample_shipment")
        quote = await ctx.call("quote(sample_shipment())", lambda: carrier.quote(request))
        if not quote.rates:
            raise ctx.fail("a quote with at least one rate", describe(quote))
        label = await ctx.call("buy_label", lambda: carrier.buy_label(quote.shipment_ref, quote.rates[0].rate_id))
        before = await ctx.call("track(label)", lambda: carrier.track(label.tracking_code, label.carrier))
        hook(ctx, session.control, "advance_tracking", label.tracking_code)
        after = await ctx.call(
            "track(label) after advance_tracking", lambda: carrier.track(label.tracking_code, label.carrier)
        )
        if len(after) <= len(before):
            raise ctx.fail("a new tracking event after advance_tracking()", f"{len(before)} then {len(after)} events")
        if any(update.tracking_code != label.tracking_code for update in after):
            raise ctx.fail(f"every update to name tracking code {label.tracking_code!r}", describe(after))
        if [u.occurred_at for u in after] != sorted(u.occurred_at for u in after):
            raise ctx.fail("tracking events oldest first", describe([u.occurred_at for u in after]))


async def _files(ctx: CheckContext) -> None:
    require_declared(ctx, Capability.FILES)
    async with ctx.session() as session:
        good_name, good = hook(ctx, session.control, "sample_file", valid=True)
        bad_name, bad = hook(ctx, session.control, "sample_file", valid=False)
        hook(ctx, session.control, "drop_file", good_name, good)
        hook(ctx, session.control, "drop_file", bad_name, bad)
        await ctx.call("processing the inbox (harness.process_files)", lambda: ctx.harness.process_files(session))
        outcome = hook(ctx, session.control, "file_outcome", good_name)
        if outcome.state != "processed":
            raise ctx.fail(f"the valid file {good_name!r} processed", describe(outcome))
        outcome = hook(ctx, session.control, "file_outcome", bad_name)
        if outcome.state != "failed" or not outcome.report.strip():
            raise ctx.fail(f"the invalid file {bad_name!r} failed with an error report", describe(outcome))


async def _fulfilment_provider(ctx: CheckContext) -> None:
    require_declared(ctx, Capability.FULFILLMENT_WRITE)
    async with ctx.session() as session:
        provider = session.connector
        if not isinstance(provider, FulfilmentProvider):
            raise NotApplicable(f"connector {ctx.harness.spec.id!r} is not a FulfilmentProvider (no submit_fulfilment)")
        reference = "conformance-submit"
        request = hook(ctx, session.control, "sample_fulfilment", reference)
        first = await ctx.call("submit_fulfilment(sample)", lambda: provider.submit_fulfilment(request))
        if not first.accepted or first.duplicate or first.reference != reference:
            raise ctx.fail(f"the sample accepted, not a duplicate, for reference {reference!r}", describe(first))
        again = await ctx.call("submit_fulfilment(sample) again", lambda: provider.submit_fulfilment(request))
        if not again.accepted or not again.duplicate or again.provider_ref != first.provider_ref:
            raise ctx.fail(
                f"the repeat answered duplicate=True with the same provider_ref {first.provider_ref!r}", describe(again)
            )
        held = hook(ctx, session.control, "fulfilments_held", reference)
        if held != 1:
            raise ctx.fail("exactly one order held by the provider after submitting twice", f"{held} held")


_UNSIGNED: tuple[bytes, Mapping[str, str]] = (
    b'{"id": 1, "conformance": "unsigned"}',
    {"Content-Type": "application/json"},
)


async def _undeclared(ctx: CheckContext) -> None:
    declared = ctx.declared
    problems: list[str] = []
    async with ctx.session() as session:
        connector = session.connector
        if Capability.ORDERS_CANCEL not in declared and isinstance(connector, OrderCanceller):
            problems.append("orders.cancel is not declared but the connector is an OrderCanceller (cancel_order)")
        listing_caps = {Capability.LISTINGS_WRITE, Capability.PRICES_WRITE}
        if not declared & listing_caps and isinstance(connector, ListingWriter):
            problems.append("listings.write/prices.write are not declared but the connector is a ListingWriter")
        carrier_caps = {Capability.RATES, Capability.LABELS, Capability.TRACKING}
        if not declared & carrier_caps and isinstance(connector, CarrierConnector):
            problems.append("no carrier.* capability is declared but the connector is a CarrierConnector")
        if declared & carrier_caps and not isinstance(connector, CarrierConnector):
            problems.append("carrier.* is declared but the connector is not a CarrierConnector")
        channel_caps = {Capability.INVENTORY_READ, Capability.INVENTORY_WRITE, Capability.ORDERS_READ}
        if declared & channel_caps and not isinstance(connector, ChannelConnector):
            problems.append("inventory.*/orders.read is declared but the connector is not a ChannelConnector")
        if Capability.INVENTORY_COMPARE_AND_SET in declared and Capability.INVENTORY_WRITE not in declared:
            problems.append("inventory.compare_and_set is declared without inventory.write")
        verify = getattr(connector, "verify_webhook", None)
        if Capability.WEBHOOKS not in declared and callable(verify):
            body, headers = _UNSIGNED
            try:
                accepted = verify(body, headers, "https://omnibridge.example/webhooks/conformance")
            except WebhookError:
                pass
            except Exception as exc:
                problems.append(
                    f"webhooks is not declared; verify_webhook must raise WebhookError, it raised {describe(exc)}"
                )
            else:
                problems.append(
                    f"webhooks is not declared but verify_webhook accepted an unsigned delivery: {accepted!r}"
                )
    if problems:
        raise ctx.fail("the connector to claim only what its spec declares", "; ".join(problems))


CAPABILITY_CHECKS = (
    Check("inventory_read", "inventory.read", "seed_stock then read_levels shows it", _inventory_read),
    Check("inventory_write", "inventory.write", "push_levels makes the channel show the target", _inventory_write),
    Check("inventory_compare_and_set", "inventory.compare_and_set", "a stale compare is STALE", _compare_and_set),
    Check("orders_read", "orders.read", "a placed order comes back from pull_events", _orders_read),
    Check("orders_cancel", "orders.cancel", "cancel_order cancels on the channel", _orders_cancel),
    Check("webhooks_declared", "webhooks", "verify_webhook exists and the harness gives vectors", _webhooks),
    Check("listings_write", "listings.write", "push_listings sets the title", _listings_write),
    Check("prices_write", "prices.write", "push_listings sets the price", _prices_write),
    Check("carrier_rates", "carrier.rates", "quote returns rates, cheapest first, buying nothing", _carrier_rates),
    Check("carrier_labels", "carrier.labels", "buy_label buys once, even when called twice", _carrier_labels),
    Check("carrier_tracking", "carrier.tracking", "track reports a new event after advance", _carrier_tracking),
    Check("files", "files", "a dropped file is processed; a bad one fails with a report", _files),
    Check(
        "fulfilment_provider",
        "fulfillment.write",
        "a provider takes a request once; a repeat answers duplicate with the same provider ref",
        _fulfilment_provider,
    ),
    Check("undeclared_not_claimed", "capabilities", "no protocol is implemented without its capability", _undeclared),
)
