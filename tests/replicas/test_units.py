"""The replicas' small seams: the SKU bucket, procrastinate's schema in the store, the replica URL check, the
schedule's cron lines."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import cast

import pytest
import sqlalchemy as sa
from daemon.fakes import FakeConnector, runtime
from support import postgres_schema_url

from omnibridge.daemon.schedule import POLL, Job, ScheduleOptions, job_intervals
from omnibridge.errors import OmnibridgeError
from omnibridge.replicas.app import build_app, conninfo, replica_url_error
from omnibridge.replicas.buckets import BUCKETS, bucket
from omnibridge.replicas.schema import ensure_schema, has_schema
from omnibridge.replicas.tasks import cron_every, scheduled_jobs
from omnibridge.store import open_store
from omnibridge.sync import SyncEngine


def test_a_sku_maps_to_the_same_bucket_in_every_process_and_buckets_spread() -> None:
    expected = int.from_bytes(hashlib.sha256(b"SKU-1").digest()[:8], "big") % 256
    assert BUCKETS == 256
    assert bucket("SKU-1") == expected
    spread = {bucket(f"SKU-{i}") for i in range(2000)}
    assert len(spread) > 200
    assert all(0 <= b < BUCKETS for b in spread)
    with pytest.raises(ValueError, match="positive"):
        bucket("x", 0)


@pytest.mark.postgres
def test_open_store_applies_procrastinate_schema_once_in_the_store_schema() -> None:
    with postgres_schema_url() as url:
        with open_store(url) as store:
            assert has_schema(store.engine)
            assert not ensure_schema(store.engine)  # already there: nothing done
        with open_store(url) as store, store.engine.connect() as conn:  # a second opening leaves it alone
            schema = conn.execute(sa.text("SELECT current_schema()")).scalar()
            tables = conn.execute(
                sa.text("SELECT count(*) FROM pg_tables WHERE schemaname = :s AND tablename LIKE 'procrastinate%'"),
                {"s": schema},
            ).scalar()
    assert tables == 4


def test_sqlite_is_left_untouched(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'o.db'}") as store:
        assert not ensure_schema(store.engine)
        with store.engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
    assert not [name for name in names if name.startswith("procrastinate")]


def test_a_replica_needs_postgresql_and_says_so_in_one_line(tmp_path: Path) -> None:
    message = replica_url_error(f"sqlite:///{tmp_path / 'o.db'}")
    assert message is not None
    assert "\n" not in message
    assert "needs a PostgreSQL store" in message
    assert "postgresql+psycopg://" in message
    with pytest.raises(OmnibridgeError, match="needs a PostgreSQL store"):
        build_app(f"sqlite:///{tmp_path / 'o.db'}")
    assert replica_url_error("postgresql+psycopg://u@h/db") is None


def test_the_procrastinate_connection_keeps_the_store_schema() -> None:
    url = "postgresql+psycopg://u:pw@h:5/db?options=-csearch_path%3Dt_1"
    assert conninfo(url) == "postgresql://u:pw@h:5/db?options=-csearch_path%3Dt_1"


@pytest.mark.parametrize(
    ("seconds", "cron"),
    [(5, "* * * * * */5"), (60, "*/1 * * * *"), (900, "*/15 * * * *"), (3600, "0 */1 * * *"), (0.2, "* * * * * */1")],
)
def test_an_interval_becomes_the_nearest_cron_line(seconds: float, cron: str) -> None:
    assert cron_every(seconds) == cron


def test_the_replicas_tick_every_job_of_the_daemons_schedule() -> None:
    web = runtime("web", FakeConnector(["W1"]), {"W1": "wh"}, webhooks=True)
    feed = runtime("feed", FakeConnector(["F1"]), {"F1": "wh"}, webhooks=False)

    class Engine:
        channels = {"web": web, "feed": feed}

    options = ScheduleOptions(privacy_minutes=120, warehouse_minutes=30)
    jobs = scheduled_jobs(cast(SyncEngine, Engine()), options, carriers=["post"], fulfilment=True)
    assert jobs == job_intervals([web, feed], options, carriers=["post"], fulfilment=True)
    assert Job(POLL, "feed") in jobs
