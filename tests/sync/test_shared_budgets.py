"""Vendor budgets shared in PostgreSQL (omnibridge.store.budgets, omnibridge.sync.shared_budgets): several
processes on one store never exceed a channel's limit together; a killed process's lease expires; cost buckets
and vendor corrections reach every process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import postgres_schema_url

from bench.budgets import run_case
from omnibridge.errors import RetriableConnectorError
from omnibridge.sdk import CostBucket, shopify_graphql_throttle_status
from omnibridge.store import open_store
from omnibridge.store.budgets import BudgetTable, Grant
from omnibridge.sync.shared_budgets import SharedBucket

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_schema_url() as url:
        open_store(url).close()
        yield url


class Waited(Exception):
    """Raised by a sleeper that refuses to sleep: the limiter asked to wait ``args[0]`` seconds."""


async def refuse_to_wait(seconds: float) -> None:
    raise Waited(seconds)


def shared(url: str, bucket: CostBucket | None = None, **options: float) -> SharedBucket:
    """A shared bucket on its own connection (as another process would have) over a connector's own bucket."""
    local = bucket or CostBucket(1000, 50, observers=(shopify_graphql_throttle_status,))
    return SharedBucket(
        BudgetTable(url),
        "shopify-main",
        "bucket",
        capacity=local.capacity,
        refill_rate=local.refill_rate,
        available=local.available,
        observers=local.observers,
        mirror=local,
        sleep=refuse_to_wait,
        **options,
    )


def throttle_status(available: float) -> httpx.Response:
    cost = {"throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": available, "restoreRate": 50.0}}
    return httpx.Response(200, json={"data": {}, "extensions": {"cost": cost}})


@pytest.mark.postgres
@pytest.mark.parametrize("in_flight", [1, 5])
def test_three_processes_through_the_clover_connector_get_no_refusal_only_with_the_shared_budget(
    pg_url: str, in_flight: int
) -> None:
    per_process = run_case(3, 20, None, tasks=in_flight, latency_ms=20)
    assert per_process["refused"] > 0, "the Clover emulator must refuse 3 uncoordinated processes (else: no test)"

    together = run_case(3, 20, pg_url, tasks=in_flight, latency_ms=20)

    assert together["refused"] == 0  # neither over 16 requests/s nor over 5 in flight, counted by the emulator
    assert together["answered"] == together["sent"] == 60


@pytest.mark.postgres
@pytest.mark.anyio
async def test_a_cost_bucket_is_spent_by_every_process_and_corrected_by_the_vendors_answer(pg_url: str) -> None:
    first, second = shared(pg_url), shared(pg_url)

    async with first.hold(900):
        with pytest.raises(Waited):  # 900 in flight elsewhere: 200 more does not fit in 1000
            async with second.hold(200):
                pass
        assert second.in_flight == 900.0
    first.observe(throttle_status(80.0))  # the vendor charged 920 and says so
    await first.drain()

    assert first.available == pytest.approx(80.0, abs=1.0)
    assert first.in_flight == 0.0
    with pytest.raises(Waited) as waited:  # 80 (plus a moment's refill) is not 200: reserved, 50/s restores it
        await second.acquire(200)
    assert waited.value.args[0] == pytest.approx(120 / 50, abs=0.1)
    assert second._mirror_to is not None
    assert second._mirror_to.available == pytest.approx(80.0 - 200.0, abs=1.0)
    with pytest.raises(Waited) as waited:  # and a third request queues behind it, in whatever process
        await first.acquire(100)
    assert waited.value.args[0] == pytest.approx(220 / 50, abs=0.1)


@pytest.mark.postgres
@pytest.mark.anyio
async def test_a_query_costing_more_than_the_bucket_goes_once_full_and_leaves_it_in_debt(pg_url: str) -> None:
    bucket = shared(pg_url)
    async with bucket.hold(1500):
        pass
    await bucket.drain()
    assert bucket.available == pytest.approx(-500.0, abs=1.0)


@pytest.mark.postgres
@pytest.mark.anyio
async def test_a_429_empties_the_bucket_for_every_process(pg_url: str) -> None:
    first, second = shared(pg_url), shared(pg_url)
    async with first.hold(10):
        pass
    first.observe(httpx.Response(429))
    await first.drain()

    with pytest.raises(Waited) as waited:
        await second.acquire(10)
    assert 0.1 < waited.value.args[0] <= 10 / 50 + 0.001


@pytest.mark.postgres
@pytest.mark.anyio
async def test_one_request_costs_two_statements_when_the_budget_has_room(pg_url: str) -> None:
    bucket = shared(pg_url)
    await bucket.acquire(0)  # creates the row
    before = bucket.table.round_trips
    for _ in range(5):
        async with bucket.hold(1):
            pass
        bucket.observe(throttle_status(990.0))
    await bucket.drain()
    assert bucket.table.round_trips - before == 10  # a take and a settle (with what the answer said) each


_HOLDER = """
import asyncio, sys
from omnibridge.store.budgets import BudgetTable, Grant
from omnibridge.sync.shared_budgets import SharedBucket

async def main() -> None:
    bucket = SharedBucket(BudgetTable(sys.argv[1]), "clover-main", "bucket", capacity=1, refill_rate=20,
                          lease_seconds=3600)
    async with bucket.hold(1):
        print("held", flush=True)
        await asyncio.sleep(3600)

asyncio.run(main())
"""


@pytest.mark.postgres
@pytest.mark.anyio
async def test_the_lease_of_a_process_killed_mid_request_is_reclaimed_when_its_session_ends(pg_url: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, pg_url], cwd=ROOT, stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    table = BudgetTable(pg_url)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        refused = await table.take("clover-main", "bucket", 1, lease=None, lease_seconds=60)
        assert refused is not None
        assert not refused.granted  # the holder lives: its request is in flight, for up to an hour
        assert refused.budget.in_flight == 1.0
        assert refused.budget.wait_for(1) is None  # only an answer could free it
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()

    deadline = time.monotonic() + 30
    while (grant := await table.take("clover-main", "bucket", 1, lease=None, lease_seconds=60)) is not None:
        if grant.granted or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert grant is not None
    assert grant.granted, "the dead process's lease was never reclaimed (its lease runs for an hour)"
    assert grant.budget.in_flight == 0.0
    await table.aclose()
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM vendor_budget_leases").scalar() == 0
    engine.dispose()


def thousandths(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high).map(lambda value: round(value, 3))


@pytest.mark.postgres
def test_the_database_grants_and_charges_as_the_in_memory_bucket_does(pg_url: str) -> None:
    engine = sa.create_engine(pg_url)
    names = iter(range(10_000))

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    # to a thousandth: a vendor's costs and levels are whole requests or points, and PostgreSQL refuses a float8
    # result below its smallest normal number ("value out of range: underflow"), which 5e-324 points would give
    @given(
        capacity=thousandths(1, 1000),
        rate=thousandths(0.01, 100),
        fill=thousandths(-1, 1),
        busy=thousandths(0, 1),
        cost=thousandths(0, 1500),
        hold=st.booleans(),
    )
    def check(capacity: float, rate: float, fill: float, busy: float, cost: float, hold: bool) -> None:
        name = f"b{next(names)}"
        level, in_flight = capacity * fill, capacity * busy
        with engine.begin() as conn:  # updated_at in the future: no refill, so the arithmetic is exact
            conn.exec_driver_sql(
                "INSERT INTO vendor_budgets VALUES (%s, %s, %s, %s, %s, %s, clock_timestamp() + interval '1 hour')",
                ("c", name, capacity, rate, level, in_flight),
            )
        grant = asyncio.run(_take(pg_url, name, cost, hold))
        assert grant is not None
        needed = min(cost, capacity)
        expected = in_flight + needed <= capacity + 1e-9  # now, or reserved against the refill
        assert grant.granted is expected
        if expected:
            now = level - in_flight >= needed
            assert grant.wait == pytest.approx(0.0 if now else (needed + in_flight - level) / rate)
        charged = cost if expected else 0.0
        assert grant.budget.level == pytest.approx(level - (0.0 if hold else charged))
        assert grant.budget.in_flight == pytest.approx(in_flight + (charged if hold else 0.0))

    check()
    with engine.begin() as conn:  # a long time unrefilled: full, and never above the capacity
        conn.exec_driver_sql(
            "INSERT INTO vendor_budgets VALUES ('c', 'old', 5, 10, -3, 0, clock_timestamp() - interval '1 hour')"
        )
    grant = asyncio.run(_take(pg_url, "old", 0, False))
    assert grant is not None
    assert grant.budget.level == 5.0
    engine.dispose()


async def _take(url: str, name: str, cost: float, hold: bool) -> Grant | None:
    table = BudgetTable(url)
    try:
        return await table.take("c", name, cost, lease=f"lease-{name}" if hold else None, lease_seconds=60)
    finally:
        await table.aclose()


@pytest.mark.postgres
@pytest.mark.anyio
async def test_a_store_without_the_budget_tables_is_a_one_line_retriable_error() -> None:
    with postgres_schema_url() as url:  # never migrated
        bucket = SharedBucket(BudgetTable(url), "pos", "bucket", capacity=16, refill_rate=16)
        with pytest.raises(RetriableConnectorError) as error:
            await bucket.acquire()
        await bucket.table.aclose()
    assert "vendor_budgets" in str(error.value)
    assert "omnibridge db upgrade" in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.postgres
@pytest.mark.anyio
async def test_closing_a_connector_records_its_last_answers_and_leaves_no_lease(pg_url: str) -> None:
    from omnibridge.sdk import ConnectorHttpClient
    from omnibridge.sync.shared_budgets import share_budgets

    class Connector:
        def __init__(self) -> None:
            self.bucket = CostBucket(1000, 50, observers=(shopify_graphql_throttle_status,))
            transport = httpx.MockTransport(lambda request: throttle_status(500.0))
            self.http = ConnectorHttpClient("shop", "http://shop.test", rate_limiter=self.bucket, transport=transport)

    connector = Connector()
    budgets = share_budgets(pg_url, {"web": connector}, enabled=True)
    assert budgets is not None
    await connector.http.post("/graphql", cost=100)
    await connector.http.aclose()  # at once: the settle of the answer was still on its way

    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM vendor_budget_leases").scalar() == 0
        level, in_flight = conn.exec_driver_sql("SELECT level, in_flight FROM vendor_budgets").one()
    engine.dispose()
    assert in_flight == 0.0
    assert level == pytest.approx(500.0, abs=1.0)  # what the answer said
    await budgets.table.aclose()


@pytest.mark.postgres
@pytest.mark.anyio
async def test_no_take_or_settle_is_lost_when_connections_race(pg_url: str) -> None:
    tables = [BudgetTable(pg_url) for _ in range(4)]
    await tables[0].ensure("c", "race", capacity=1000, refill_rate=1e-9, available=1000)

    async def one(table: BudgetTable, index: int) -> None:
        for turn in range(25):
            await table.take("c", "race", 1, lease=None, lease_seconds=60)  # charged at once
            lease = f"{index}-{turn}"
            await table.take("c", "race", 2, lease=lease, lease_seconds=60)  # in flight, then charged
            await table.settle("c", "race", lease=lease)

    await asyncio.gather(*(one(table, index) for index, table in enumerate(tables)))
    final = await tables[0].settle("c", "race")
    for table in tables:
        await table.aclose()
    assert final is not None
    assert final.in_flight == 0.0
    assert final.level == pytest.approx(1000 - 4 * 25 * 3, abs=1e-3)


@pytest.mark.postgres
@pytest.mark.anyio
async def test_the_daemons_channels_share_budgets_in_their_own_store(pg_url: str, tmp_path: Path) -> None:
    from connectors.clover.client import CloverConnector
    from omnibridge.config import load_profile
    from omnibridge.sync import build_channels

    (tmp_path / "clover.yaml").write_text(
        "connector: clover\nsettings: {base_url: 'http://127.0.0.1:9', merchant_id: TESTMERCHANT1, access_token: t}\n"
    )
    (tmp_path / "omnibridge.yaml").write_text(
        "version: 1\nmerchant: {name: T, currency: USD, timezone: UTC}\n"
        "locations: [{id: shop, name: Shop, type: store}]\n"
        "channels:\n  - {id: pos, connector: clover, profile: clover.yaml}\n"
    )
    with open_store(pg_url) as store:
        [runtime] = build_channels(load_profile(tmp_path / "omnibridge.yaml"), store, shared_budgets=True)
        connector = runtime.connector
        assert isinstance(connector, CloverConnector)
        resolver = connector.http.budgets
        assert resolver is not None
        await resolver.limiter_for(connector.bucket, "list_locations").acquire()
        async with connector.slots.slot():
            pass
        await connector.aclose()
        with store.engine.connect() as conn:  # the store's schema (its search_path), not the server's default
            rows = conn.exec_driver_sql("SELECT channel, name, capacity FROM vendor_budgets ORDER BY name").all()
    assert [tuple(row) for row in rows] == [("pos", "bucket", 16.0), ("pos", "slots", 5.0)]


@pytest.mark.postgres
@pytest.mark.anyio
async def test_a_lease_past_its_expiry_is_reclaimed_even_while_its_session_lives(pg_url: str) -> None:
    table = BudgetTable(pg_url)
    await table.ensure("c", "stuck", capacity=2, refill_rate=1e-9, available=2)
    first = await table.take("c", "stuck", 1, lease="stuck-1", lease_seconds=0.05)
    second = await table.take("c", "stuck", 1, lease="live-1", lease_seconds=3600)
    assert first is not None
    assert second is not None
    assert second.budget.in_flight == 2.0
    await asyncio.sleep(0.1)

    after = await table.take("c", "stuck", 0, lease=None, lease_seconds=60)

    assert after is not None
    assert after.budget.in_flight == 1.0  # the expired one went; the live one, in its hour, stays
    assert after.budget.level == pytest.approx(1.0)  # charged as answered
    await table.aclose()
