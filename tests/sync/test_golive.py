"""Issue 11 §1: a first sync never wipes a live store — unknown positions, the mass-change guard, the dry run."""

from __future__ import annotations

import pytest

from omnibridge.models import MovementKind, StockMovement
from omnibridge.store import Store
from omnibridge.sync import SyncEngine
from omnibridge.sync.dry_run import dry_run

from .fake_channel import NOW, FakeChannel, receive, runtime, seed_store

pytestmark = pytest.mark.anyio

SKUS = ["A", "B", "C"]


def count(store: Store, sku: str, location_id: str, quantity: int, key: str = "count") -> None:
    store.apply(
        StockMovement(
            idempotency_key=f"{key}:{sku}:{location_id}",
            source="manual",
            kind=MovementKind.COUNT,
            sku=sku,
            location_id=location_id,
            quantity=quantity,
            occurred_at=NOW,
        ),
        allow_shortfall=True,
    )


@pytest.mark.parametrize("drift", ["ledger", "channel"])
async def test_a_first_sync_on_an_empty_ledger_leaves_a_live_store_alone_and_names_the_positions(
    store: Store, drift: str
) -> None:
    # a new database, the catalog imported, no stock received yet; the web store holds 10 of each SKU
    seed_store(store, SKUS, ["wh"])
    web = FakeChannel(["W"])
    web.levels = {(sku, "W"): 10 for sku in SKUS}
    engine = SyncEngine(store, [runtime("web", web, {"W": "wh"}, drift=drift)])  # type: ignore[arg-type]

    report = await engine.sync_once()

    assert web.levels == {(sku, "W"): 10 for sku in SKUS}
    assert web.calls["push_levels"] == 0
    (row,) = report.as_dict()["channels"]
    assert row["never_counted"] == [{"sku": sku, "location_id": "wh"} for sku in SKUS]
    assert report.ok

    # once a position is counted it is written like any other; the others stay untouched
    count(store, "A", "wh", 7)
    report = await engine.sync_once()
    assert web.levels == {("A", "W"): 7, ("B", "W"): 10, ("C", "W"): 10}
    assert report.as_dict()["channels"][0]["never_counted"] == [{"sku": s, "location_id": "wh"} for s in ("B", "C")]


async def test_a_sale_alone_does_not_make_a_position_known_and_the_daemon_path_skips_it_too(store: Store) -> None:
    seed_store(store, SKUS, ["wh"])
    web = FakeChannel(["W"])
    web.levels = {(sku, "W"): 10 for sku in SKUS}
    engine = SyncEngine(store, [runtime("web", web, {"W": "wh"}, compare_and_set=True)])
    await engine.sync_once()
    store.apply(
        StockMovement(
            idempotency_key="pos-sale",
            source="pos",
            kind=MovementKind.SALE,
            sku="A",
            location_id="wh",
            quantity=1,
            occurred_at=NOW,
        ),
        allow_shortfall=True,
    )
    assert store.known_positions(SKUS) == set()

    engine.mark_dirty(SKUS)
    await engine.flush()  # the daemon's path: writes from what it knows, without a read

    assert web.levels == {(sku, "W"): 10 for sku in SKUS}


def guarded_world(store: Store, skus: int) -> tuple[SyncEngine, FakeChannel, FakeChannel, list[str]]:
    names = [f"S{i}" for i in range(skus)]
    seed_store(store, names, ["wh"])
    web, pos = FakeChannel(["W"]), FakeChannel(["P"])
    for sku in names:
        receive(store, sku, "wh", 10)
        web.levels[(sku, "W")] = 10
        pos.levels[(sku, "P")] = 10
    engine = SyncEngine(store, [runtime("web", web, {"W": "wh"}), runtime("pos", pos, {"P": "wh"})])
    return engine, web, pos, names


async def test_a_mass_lowering_is_held_per_channel_with_an_incident_and_goes_through_once_approved(
    store: Store,
) -> None:
    engine, web, pos, names = guarded_world(store, 10)
    pos.levels = {(sku, "P"): 10 for sku in names[:3]}
    await engine.sync_once()  # in step: nothing to write
    pos.levels = {(sku, "P"): 10 for sku in names[:3]}  # the POS lists 3 SKUs: too few to hold
    for sku in names[:3]:
        count(store, sku, "wh", 0)  # 3 of 10 counted at 0: 30 % of the web store's stock would go to 0

    report = await engine.sync_once()

    rows = {row["channel"]: row for row in report.as_dict()["channels"]}
    assert [held["sku"] for held in rows["web"]["held"]] == names[:3]
    assert all(web.levels[(sku, "W")] == 10 for sku in names)  # nothing written on the web store
    assert pos.levels == {(sku, "P"): 0 for sku in names[:3]}  # the other channel goes on
    assert not report.ok
    (incident,) = store.incidents(kind="mass_change")
    assert incident.channel == "web"
    assert "omnibridge sync --once --approve-mass-change web" in incident.summary
    assert (incident.data["lowered"], incident.data["zeroed"], incident.data["stocked"]) == (3, 3, 10)
    await engine.sync_once()
    assert len(store.incidents(kind="mass_change")) == 1  # the same held plan: one incident

    approved = SyncEngine(store, list(engine.channels.values()), approve_mass_change=["web"])
    report = await approved.sync_once()
    assert report.ok
    assert [web.levels[(sku, "W")] for sku in names[:4]] == [0, 0, 0, 10]


async def test_ordinary_lowering_and_small_channels_are_not_held(store: Store) -> None:
    engine, web, _, names = guarded_world(store, 10)
    await engine.sync_once()
    for sku in names[:2]:
        count(store, sku, "wh", 4)  # 2 of 10 lowered: 20 %, the limit, not above it
    report = await engine.sync_once()
    assert report.ok
    assert [web.levels[(sku, "W")] for sku in names[:3]] == [4, 4, 10]

    tiny = FakeChannel(["T"])
    tiny.levels = {(sku, "T"): 10 for sku in names[5:9]}
    for sku in names[5:9]:
        count(store, sku, "wh", 0, key="zero")
    report = await SyncEngine(store, [runtime("tiny", tiny, {"T": "wh"})]).sync_once()
    assert report.ok  # 4 positions in stock, all set to 0: fewer than 5, never held
    assert tiny.levels == {(sku, "T"): 0 for sku in names[5:9]}


def sell(store: Store, sku: str, location_id: str, quantity: int, key: str) -> None:
    """A POS sale recorded in the ledger (a customer's purchase, not a correction)."""
    store.apply(
        StockMovement(
            idempotency_key=key,
            source="pos",
            kind=MovementKind.SALE,
            sku=sku,
            location_id=location_id,
            quantity=quantity,
            occurred_at=store.now(),
        ),
        allow_shortfall=True,
    )


async def test_a_rush_of_recorded_sales_is_shown_not_held(store: Store) -> None:
    engine, web, _, names = guarded_world(store, 10)
    await engine.sync_once()
    for sku in names[:6]:
        sell(store, sku, "wh", 1, key=f"sale:{sku}")  # 6 of 10 lowered: far above the 20 % limit
    for sku in names[6:9]:
        sell(store, sku, "wh", 10, key=f"sellout:{sku}")  # 3 of 10 sold out: above the 20 % zeroed limit
    report = await engine.sync_once()
    assert report.ok
    assert store.incidents(kind="mass_change") == []
    assert [web.levels[(sku, "W")] for sku in names] == [9] * 6 + [0] * 3 + [10]


async def test_sales_explain_only_the_units_they_took(store: Store) -> None:
    engine, web, _, names = guarded_world(store, 10)
    await engine.sync_once()
    for sku in names[:3]:
        sell(store, sku, "wh", 1, key=f"sale:{sku}")
        count(store, sku, "wh", 2)  # and a count takes it on down to 2: 8 lowered, 1 of them sold
    report = await engine.sync_once()
    assert not report.ok
    (incident,) = [i for i in store.incidents(kind="mass_change") if i.channel == "web"]
    assert (incident.data["lowered"], incident.data["zeroed"]) == (3, 0)
    assert "beyond what recorded sales explain" in incident.summary
    assert all(web.levels[(sku, "W")] == 10 for sku in names)


async def test_the_dry_run_lists_every_write_and_writes_nothing(store: Store) -> None:
    seed_store(store, SKUS, ["wh"])
    receive(store, "A", "wh", 4)
    receive(store, "B", "wh", 10)
    web = FakeChannel(["W"])
    web.levels = {(sku, "W"): 10 for sku in SKUS}
    engine = SyncEngine(store, [runtime("web", web, {"W": "wh"})])

    (planned,) = await dry_run(engine)

    assert [(w.sku, w.location_id, w.shown, w.target, w.rule) for w in planned.writes] == [("A", "wh", 10, 4, "pool")]
    assert "available 4 at wh" in planned.writes[0].why
    assert planned.never_counted == [("C", "wh")]
    assert web.calls["push_levels"] == 0
    assert web.calls["pull_events"] == 0
    assert store.known_levels("web", SKUS) == {}
    assert store.pending_pushes() == []
