"""The propagation benchmark's accounts of a run: the writes it recorded by outcome (only the run's own outbox
rows), the vendor requests served between two snapshots, Shopify's charged cost, and how they are printed.
Nothing here is timed."""

from __future__ import annotations

from bench._outcomes import OUTCOMES, VendorCounts, forgotten, outbox_mark, outcomes_table, tally, writes_since
from bench.propagation import failed_run, outcome_notes
from omnibridge.store import LevelNote, OutboxItem, Store


def write(sku: str, channel: str = "web") -> OutboxItem:
    return OutboxItem(0, channel, f"batch-{sku}", sku, sku, "shop", "shop-ref", 5, 7, None, "pending")


def test_statuses_are_tallied_per_channel_with_every_outcome_present() -> None:
    rows = [("web", "applied", 3), ("web", "stale", 2), ("web", "unknown_sku", 1), ("web", "abandoned", 1)]
    writes = tally([*rows, ("pos", "unchanged", 4)])

    assert list(writes) == ["pos", "web"]
    assert writes["web"] == {
        "applied": 3,
        "unchanged": 0,
        "stale": 2,
        "failed": 0,
        "unknown": 0,
        "pending": 0,
        "other": 2,
        "total": 7,
    }
    assert writes["pos"]["unchanged"] == writes["pos"]["total"] == 4
    assert set(writes["pos"]) == {*OUTCOMES, "total"}


def test_only_the_writes_recorded_after_the_mark_are_counted(store: Store) -> None:
    [before] = store.record_pushes([write("A")])
    store.finish_pushes({before: ("stale", "the level moved")})
    mark = outbox_mark(store)
    applied, stale, _pending = store.record_pushes([write("B"), write("C"), write("D", "pos")])
    store.finish_pushes({applied: ("applied", None), stale: ("stale", "the level moved")})

    assert mark == before
    assert writes_since(store, mark) == {
        "pos": {**dict.fromkeys(OUTCOMES, 0), "pending": 1, "total": 1},
        "web": {**dict.fromkeys(OUTCOMES, 0), "applied": 1, "stale": 1, "total": 2},
    }
    assert writes_since(store, outbox_mark(store)) == {}


def test_forgotten_positions_are_counted_per_channel(store: Store) -> None:
    notes = {("A", "shop"): LevelNote(5, "read", None, 5), ("B", "shop"): LevelNote(5, "read", None, 5)}
    store.remember_levels("web", notes)
    store.remember_levels("pos", notes)
    store.forget_levels("web", [("A", "shop"), ("B", "shop")])

    assert forgotten(store) == {"web": 2}


def test_vendor_counts_are_the_difference_of_two_snapshots() -> None:
    before = VendorCounts({"web": {"inventoryItems": 5, "throttled": 1}}, {"web": 6}, {"inventoryItems": 90, "shop": 1})
    after = VendorCounts(
        {"web": {"inventoryItems": 9, "throttled": 1, "inventorySetQuantities": 3}, "clover": {"GET /items": 2}},
        {"web": 13, "clover": 2},
        {"inventoryItems": 130, "shop": 1, "inventorySetQuantities": 30},
    )

    served = after.since(before)

    assert served.operations == {"web": {"inventoryItems": 4, "inventorySetQuantities": 3}, "clover": {"GET /items": 2}}
    assert served.requests == {"web": 7, "clover": 2}
    assert served.shopify_cost == {"inventoryItems": 40, "inventorySetQuantities": 30}


def run_with_accounts(rate: int, stale: int) -> dict[str, object]:
    return {
        "rate": rate,
        "error": None,
        "writes": {"web": {**dict.fromkeys(OUTCOMES, 0), "applied": 10, "stale": stale, "total": 10 + stale}},
        "requests": {"web": 40, "pos": 12},
        "requests_by_kind": {"web": {"inventoryItems": 30, "inventorySetQuantities": 10}, "pos": {}},
        "shopify_cost_points": 812,
        "shopify_cost_by_kind": {"inventoryItems": 700, "inventorySetQuantities": 100, "order": 12},
        "forgotten": {"web": 3},
    }


def test_the_table_has_a_row_per_rate_and_channel_and_skips_runs_without_figures() -> None:
    runs = [run_with_accounts(20, 0), run_with_accounts(100, 57), failed_run(100, "the run did not finish")]

    lines = outcomes_table(runs).splitlines()

    assert lines[0].split() == ["rate", "channel", *OUTCOMES, "total", "requests", "forgotten"]
    assert [line.split() for line in lines[2:]] == [
        ["20/s", "pos", "0", "0", "0", "0", "0", "0", "0", "0", "12", "0"],
        ["20/s", "web", "10", "0", "0", "0", "0", "0", "0", "10", "40", "3"],
        ["100/s", "pos", "0", "0", "0", "0", "0", "0", "0", "0", "12", "0"],
        ["100/s", "web", "10", "0", "57", "0", "0", "0", "0", "67", "40", "3"],
    ]


def test_the_notes_carry_the_table_the_cost_and_the_busiest_requests() -> None:
    notes = outcome_notes([run_with_accounts(100, 57)])

    assert any(note.startswith("writes = ") for note in notes)
    assert outcomes_table([run_with_accounts(100, 57)]) in notes
    assert (
        "100/s Shopify cost charged 812 points (inventoryItems 700, inventorySetQuantities 100, order 12); "
        "busiest requests web: inventoryItems 30, inventorySetQuantities 10" in notes
    )
    assert outcome_notes([failed_run(20, "no figures")]) == []
