"""What each channel is known to show: vendor times compared only with vendor times, positions forgotten after a
write of unknown outcome, and writes a stopped process left pending, abandoned; on every backend."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from omnibridge.models import MovementKind, StockMovement
from omnibridge.store import LevelNote, OutboxItem, Store

KEY = ("A", "shop")
VENDOR = datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)
"""A vendor's stamp on a stock notification (the store's clock starts at 2026-01-01 00:00:00 and ticks 1 ms)."""


def pushed(store: Store, quantity: int) -> datetime:
    """Remember that our write made the channel show ``quantity`` at KEY; when (our clock) it was recorded."""
    store.remember_levels("web", {KEY: LevelNote(quantity, "pushed", None, quantity)})  # as a push records it
    level = store.known_levels("web", ["A"])[KEY]
    assert level.shown_at is not None
    return level.shown_at


def test_a_notification_half_a_second_before_our_write_with_another_level_is_unexplained(store: Store) -> None:
    ours = pushed(store, 5)
    # The vendor's clock runs a little behind ours: its notification of a sale made after our write is stamped
    # before our write's local time. It says 4 where we know 5: that needs a read, it is not "older".
    assert store.observe_level("web", KEY, 4, ours - timedelta(seconds=0.5)) is False
    level = store.known_levels("web", ["A"])[KEY]
    assert (level.quantity, level.shown, level.unexplained_since is not None) == (5, 4, True)
    assert store.pending_decreases(["A"]) == {KEY: 1}


def test_our_own_write_coming_back_is_explained_whatever_its_stamp(store: Store) -> None:
    ours = pushed(store, 5)
    assert store.observe_level("web", KEY, 5, ours - timedelta(seconds=0.5)) is True
    assert store.known_levels("web", ["A"])[KEY].unexplained_since is None


def test_a_notification_older_than_a_vendor_time_already_seen_is_superseded(store: Store) -> None:
    pushed(store, 5)
    assert store.observe_level("web", KEY, 4, VENDOR) is False  # a sale the vendor reported at VENDOR
    # A notification the vendor stamped well before that one arrives late: the later level stands.
    assert store.observe_level("web", KEY, 9, VENDOR - timedelta(seconds=3)) is True
    level = store.known_levels("web", ["A"])[KEY]
    assert (level.shown, level.shown_at, level.vendor_seen_at) == (4, VENDOR, VENDOR)


def test_a_near_tie_between_vendor_times_is_never_trusted_as_explained(store: Store) -> None:
    pushed(store, 5)
    assert store.observe_level("web", KEY, 4, VENDOR) is False
    # Same second, other order (second-precision stamps): it says what we know, but which came last is not
    # known, so the difference stays unexplained until a read settles it.
    assert store.observe_level("web", KEY, 5, VENDOR) is False
    assert store.observe_level("web", KEY, 5, VENDOR - timedelta(seconds=1)) is False
    level = store.known_levels("web", ["A"])[KEY]
    assert (level.shown, level.unexplained_since is not None) == (5, True)
    # A later vendor time beyond the tolerance is simply the latest level.
    assert store.observe_level("web", KEY, 5, VENDOR + timedelta(seconds=3)) is True
    assert store.known_levels("web", ["A"])[KEY].unexplained_since is None


def test_the_tolerance_is_configurable(store: Store) -> None:
    pushed(store, 5)
    assert store.observe_level("web", KEY, 4, VENDOR) is False
    assert store.observe_level("web", KEY, 9, VENDOR - timedelta(seconds=1), tie=timedelta(0)) is True


def test_a_forgotten_level_keeps_its_numbers_but_is_not_trusted_until_a_read(store: Store) -> None:
    pushed(store, 5)
    store.observe_level("web", KEY, 3, VENDOR)  # the channel sold 2 we have not imported yet
    store.forget_levels("web", [KEY, ("B", "shop")])
    level = store.known_levels("web", ["A", "B"])[KEY]
    assert not level.certain
    assert (level.quantity, level.shown, level.pending_decrease) == (5, 3, 2)
    assert store.pending_decreases(["A"]) == {KEY: 2}  # the unimported sale still counts for the other channels
    assert store.known_levels("web", ["B"]) == {}  # nothing was known there: nothing to forget
    # A notification is not compared with a level that is not trusted: a read settles it.
    assert store.observe_level("web", KEY, 3, VENDOR + timedelta(seconds=5)) is False
    store.remember_levels("web", {KEY: LevelNote(3, "read", None, 3)})
    assert store.known_levels("web", ["A"])[KEY].certain


def item(sku: str, quantity: int, batch_key: str = "b-1") -> OutboxItem:
    return OutboxItem(0, "web", batch_key, sku, sku, "shop", "W-SHOP", quantity, 0, None, "pending")


def test_writes_recorded_together_get_their_ids_in_order_and_finish_with_their_own_outcome(store: Store) -> None:
    skus = [f"S-{index:03d}" for index in range(120)]  # more than one statement's worth of rows on some drivers
    ids = store.record_pushes([item(sku, index) for index, sku in enumerate(skus)])

    assert len(set(ids)) == len(skus)
    by_id = {write.id: (write.sku, write.quantity) for write in store.pending_pushes("web")}
    assert [by_id[outbox_id] for outbox_id in ids] == [(sku, index) for index, sku in enumerate(skus)]
    store.finish_pushes({ids[0]: ("applied", None), ids[1]: ("failed", "HTTP 500")})
    assert store.push_counts() == {("web", "applied"): 1, ("web", "failed"): 1, ("web", "pending"): 118}


def test_abandoning_pending_writes_finishes_them_and_forgets_their_positions(store: Store) -> None:
    store.remember_levels(
        "web", {("A", "shop"): LevelNote(0, "read", None, 0), ("C", "shop"): LevelNote(1, "read", None, 1)}
    )
    store.record_pushes([item("A", 7), item("B", 3), replace(item("A", 2, "b-2"), channel="pos")])

    abandoned = store.abandon_pushes("web")

    assert [(write.sku, write.quantity) for write in abandoned] == [("A", 7), ("B", 3)]
    assert store.pending_pushes("web") == []
    assert store.push_counts() == {("web", "abandoned"): 2, ("pos", "pending"): 1}
    known = store.known_levels("web", ["A", "C"])
    assert (known[("A", "shop")].certain, known[("C", "shop")].certain) == (False, True)
    assert store.abandon_pushes("web") == []


def write_in_flight(store: Store, quantity: int, expected: int) -> int:
    """Record a write to ``web`` at KEY setting ``quantity`` (sent, its outcome not yet known); its outbox id."""
    item = OutboxItem(0, "web", "batch-1", KEY[0], KEY[0], KEY[1], "shop-ref", quantity, expected, None, "pending")
    [outbox_id] = store.record_pushes([item])
    return outbox_id


def test_the_echo_of_a_write_still_in_flight_is_explained_and_takes_nothing_from_other_channels(
    store: Store,
) -> None:
    pushed(store, 7)
    outbox_id = write_in_flight(store, 5, expected=7)
    # The vendor applied our write (7 -> 5) and notified us before the write's outcome was remembered: that is our
    # own write coming back, not 2 units the channel sold by itself, so no other channel may be lowered by 2.
    assert store.observe_level("web", KEY, 5, VENDOR) is True
    assert store.pending_decreases(["A"]) == {}
    assert store.known_levels("web", ["A"])[KEY].unexplained_since is None
    store.finish_pushes({outbox_id: ("applied", None)})
    store.remember_levels("web", {KEY: LevelNote(5, "pushed", None, 5)})
    assert store.pending_decreases(["A"]) == {}


def test_a_level_other_than_the_write_in_flight_is_still_unexplained(store: Store) -> None:
    pushed(store, 7)
    write_in_flight(store, 5, expected=7)
    assert store.observe_level("web", KEY, 4, VENDOR) is False  # our 5, then a sale of 1 on the channel
    assert store.pending_decreases(["A"]) == {KEY: 3}


def test_the_level_known_before_a_write_in_flight_is_unexplained_when_it_comes_back(store: Store) -> None:
    pushed(store, 5)
    write_in_flight(store, 6, expected=5)
    # Our write (5 -> 6) landed, then staff counted 5 on the channel; that notification may arrive before the
    # write's outcome is remembered. It must not pass for "what the channel is known to show": a read settles it.
    assert store.observe_level("web", KEY, 5, VENDOR) is False
    assert store.known_levels("web", ["A"])[KEY].unexplained_since is not None


def written(store: Store, quantity: int, sent_at: datetime) -> None:
    """Remember our write of ``quantity`` at KEY, acknowledged by the channel, sent at ``sent_at`` (as a push
    records it)."""
    store.remember_levels("web", {KEY: LevelNote(quantity, "pushed", None, quantity, sent_at)})


def test_the_echo_of_an_earlier_write_arriving_after_a_later_one_is_not_an_increase(store: Store) -> None:
    written(store, 990, VENDOR)  # the channel notifies it, stamped VENDOR; the notification is slow to arrive
    written(store, 989, VENDOR + timedelta(seconds=3))  # a sale elsewhere: 989 written over 990 and acknowledged
    # The echo of 990 arrives now. The channel showed 989 after it: not an increase it made by itself (counted as
    # one, it sent the position through the read path).
    assert store.observe_level("web", KEY, 990, VENDOR) is True
    level = store.known_levels("web", ["A"])[KEY]
    assert (level.quantity, level.shown, level.unexplained_since) == (989, 989, None)


def test_an_increase_stamped_after_our_write_is_still_unexplained(store: Store) -> None:
    written(store, 989, VENDOR)
    # A restock in the channel's admin after our write: a change the channel made, noticed (a read settles it).
    assert store.observe_level("web", KEY, 995, VENDOR + timedelta(seconds=3)) is False
    level = store.known_levels("web", ["A"])[KEY]
    assert (level.quantity, level.shown, level.unexplained_since is not None) == (989, 995, True)


def test_an_increase_stamped_about_when_our_write_was_sent_is_unexplained(store: Store) -> None:
    written(store, 989, VENDOR)
    # Within the tie either way: before or after our write is not known (second-precision stamps), so a read says.
    assert store.observe_level("web", KEY, 990, VENDOR - timedelta(seconds=1)) is False
    assert store.known_levels("web", ["A"])[KEY].unexplained_since is not None


def test_an_increase_older_than_the_read_a_level_came_from_is_not_unexplained(store: Store) -> None:
    read_replacing(store, 4, VENDOR)
    assert store.observe_level("web", KEY, 6, VENDOR - timedelta(seconds=5)) is True
    assert store.known_levels("web", ["A"])[KEY].unexplained_since is None


def sold_on_web(store: Store, ref: str, at: datetime) -> None:
    """The web's own sale of one unit at KEY, made at ``at`` (the vendor's time), applied now."""
    movement = StockMovement(
        idempotency_key=f"web:{ref}",
        source="web",
        kind=MovementKind.SALE,
        sku=KEY[0],
        location_id=KEY[1],
        quantity=1,
        occurred_at=at,
        reference=ref,
    )
    store.apply(movement, allow_shortfall=True, shown_on="web", shown_at=at)


def read_replacing(store: Store, quantity: int, at: datetime) -> None:
    """A read at ``at`` showed ``quantity`` and replaced what was known (as a first-sight read remembers it)."""
    store.remember_levels("web", {KEY: LevelNote(quantity, "read", None, quantity, at, basis_at=at)})


def test_a_sale_well_before_the_read_a_level_was_taken_from_does_not_move_it_again(store: Store) -> None:
    read_replacing(store, 4, VENDOR)  # the read already shows the sale below: its order was on its way
    sold_on_web(store, "o-1", VENDOR - timedelta(seconds=30))
    level = store.known_levels("web", ["A"])[KEY]
    assert (level.quantity, level.certain, level.basis_at) == (4, True, VENDOR)


def test_a_sale_after_the_read_moves_the_level_and_a_write_keeps_the_basis(store: Store) -> None:
    read_replacing(store, 4, VENDOR)
    pushed(store, 6)  # a write from that read: what the read included is still in it
    assert store.known_levels("web", ["A"])[KEY].basis_at == VENDOR
    sold_on_web(store, "o-1", VENDOR + timedelta(seconds=30))
    level = store.known_levels("web", ["A"])[KEY]
    assert (level.quantity, level.certain) == (5, True)


def test_a_sale_about_when_the_read_was_made_moves_the_level_and_forgets_it(store: Store) -> None:
    read_replacing(store, 4, VENDOR)
    version = store.known_levels("web", ["A"])[KEY].version
    # within the vendor tie either way: the read may or may not include it, so only a new read can say
    sold_on_web(store, "o-1", VENDOR - timedelta(seconds=1))
    level = store.known_levels("web", ["A"])[KEY]
    assert (level.quantity, level.certain, level.version) == (3, False, version + 1)


def test_a_level_without_a_basis_moves_with_every_sale(store: Store) -> None:
    pushed(store, 5)
    sold_on_web(store, "o-1", VENDOR - timedelta(days=1))
    level = store.known_levels("web", ["A"])[KEY]
    assert (level.quantity, level.certain, level.basis_at) == (4, True, None)


def test_a_level_forgotten_near_its_basis_keeps_no_unexplained_decrease(store: Store) -> None:
    read_replacing(store, -1, VENDOR)  # the first read: the web had sold one it did not have
    pushed(store, 5)  # our write: the web shows 5
    # the notification of the sale (stamped before our write, delivered after it) says -1: an unexplained decrease
    assert store.observe_level("web", KEY, -1, VENDOR - timedelta(seconds=1)) is False
    assert store.pending_decreases(["A"]) == {KEY: 6}
    sold_on_web(store, "o-1", VENDOR - timedelta(seconds=1))  # the sale's order, stamped within the tie
    level = store.known_levels("web", ["A"])[KEY]
    # forgotten: the next read is taken as it is, not raised by the stale decrease (6 units that were never sold)
    assert (level.certain, level.unexplained_since, level.pending_decrease) == (False, None, 0)
    assert store.pending_decreases(["A"]) == {}
