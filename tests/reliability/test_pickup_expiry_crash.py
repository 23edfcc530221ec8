"""Crash safety of expiring pickup holds (issue 14; promise 1 of the guide): a process releasing many due holds is
SIGKILLed at random points, several times, and run again until it finishes. Every hold is released exactly once:
one ``expire`` movement per line (counted in the ledger), every pickup expired once (its version says so), one
incident and one channel task each, nothing committed left at the store, and the ledger's own check is clean; on
SQLite and PostgreSQL.

Kill points are seeded (``OMNIBRIDGE_CRASH_SEED`` picks another seed): a random pause after the process has
opened the store, so kills land before, between and inside the releases' transactions.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sync.fake_channel import NOW, FakeChannel, receive, runtime

from omnibridge.models import Location, LocationCapability, LocationType, MovementKind, Product, Variant
from omnibridge.pickup.settings import PickupSettings
from omnibridge.sdk.channel import OrderEvent, OrderEventKind, OrderLineEvent
from omnibridge.sdk.pickup import PickupDetails
from omnibridge.store import open_store
from omnibridge.store.tables import FULFILMENT_TASKS, MOVEMENTS, PICKUPS
from omnibridge.sync.apply import EventApplier

pytestmark = pytest.mark.crash

SEED = int(os.environ.get("OMNIBRIDGE_CRASH_SEED", "20261206"))
PICKUPS_DUE = 200
KILLS = 8
STOCK = 1000
LATER = NOW + timedelta(days=5)

CHILD = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from omnibridge.pickup.expiry import expire_due
    from omnibridge.pickup.settings import PickupSettings
    from omnibridge.store import open_store

    at = datetime.fromisoformat(sys.argv[2])
    with open_store(sys.argv[1], clock=lambda: at) as store:
        print("ready", flush=True)
        report = expire_due(store, PickupSettings(sales_channels=("web",)))
    print(f"released {len(report.released)}", flush=True)
    """
)


def book_pickups(url: str) -> int:
    """``PICKUPS_DUE`` web pickup orders at the New York store (1 to 3 units each); the units held."""
    with open_store(url, clock=lambda: NOW) as store:
        store.upsert_location(
            Location(id="nyc", name="NYC", type=LocationType.STORE, capabilities={LocationCapability.PICKUP})
        )
        store.upsert_product(Product(id="P", title="Tent", variants=[Variant(sku="TENT", product_id="P")]))
        receive(store, "TENT", "nyc", STOCK)
        web = runtime("web", FakeChannel(["W-NYC"]), {"W-NYC": "nyc"})
        web.location_ids.update({"W-NYC": "nyc"})
        applier = EventApplier(store, web, pickup=PickupSettings(sales_channels=("web",)))
        held = 0
        for n in range(PICKUPS_DUE):
            units = 1 + n % 3
            line = OrderLineEvent("1", "TENT", units, "W-NYC")
            pickup = PickupDetails(location_ref="W-NYC")
            applier.apply_all([OrderEvent(f"{n}", OrderEventKind.PLACED, NOW, (line,), pickup=pickup)])
            held += units
        assert store.position("TENT", "nyc").committed == held
        return held


def run_child(url: str, kill_after: float | None) -> int | None:
    """Run the expiry in a process; SIGKILL it ``kill_after`` seconds after it opened the store (None: let it
    finish). Its return code (None: it was killed)."""
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, LATER.isoformat()],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    try:
        assert process.stdout.readline().strip() == "ready"
        if kill_after is None:
            return process.wait(timeout=300)
        try:
            return process.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            return None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_expiring_holds_are_released_exactly_once_across_sigkills(store_url: str) -> None:
    held = book_pickups(store_url)
    chooser = random.Random(SEED)
    for _ in range(KILLS):
        run_child(store_url, chooser.uniform(0.02, 0.35))
    assert run_child(store_url, None) == 0

    with open_store(store_url, clock=lambda: LATER) as store, store.unit_of_work() as uow:
        session = uow.session
        pickups = session.execute(sa.select(PICKUPS.c.status, PICKUPS.c.version)).all()
        assert len(pickups) == PICKUPS_DUE
        assert {(status, version) for status, version in pickups} == {("expired", 2)}  # each changed once
        releases = session.execute(
            sa.select(MOVEMENTS.c.idempotency_key, MOVEMENTS.c.quantity).where(
                MOVEMENTS.c.kind == MovementKind.COMMITMENT_RELEASE.value
            )
        ).all()
        assert len(releases) == PICKUPS_DUE
        assert all(key.endswith(":v2:expire") for key, _ in releases)
        assert sum(abs(quantity) for _, quantity in releases) == held
        tasks = session.execute(
            sa.select(sa.func.count()).where(FULFILMENT_TASKS.c.id.like("pickup:%:expired"))
        ).scalar_one()
        assert tasks == PICKUPS_DUE
    with open_store(store_url, clock=lambda: LATER) as store:
        assert len(store.incidents(kind="pickup", limit=10_000)) == PICKUPS_DUE
        position = store.position("TENT", "nyc")
        assert (position.on_hand, position.committed) == (STOCK, 0)
        assert store.verify() == []
