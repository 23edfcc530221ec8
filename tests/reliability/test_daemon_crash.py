"""Crash safety of the daemon (promises 1, 2 and 5 of the guide): the daemon process is SIGKILLed at random
points while a stream of POS sales and web orders flows through the emulators, and restarted each time; the
emulators (in a thread of the test process) keep retrying the webhooks it did not acknowledge.

At the end: every delivery the daemon acknowledged is in the inbox exactly once and applied; every accepted
order's movements exist exactly once; the ledger equals the opening stock plus the accepted sales; and after a
final read-back both emulators show what the ledger says. SIGTERM, in its own test, loses nothing either.

Kill points are seeded (``OMNIBRIDGE_CRASH_SEED`` picks another seed): after a random number of sales, after a
random pause, and for half the restarts before the daemon is even ready (during start-up or its catch-up).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from omnibridge.cli.sync import run_sync_once
from omnibridge.config import load_profile
from omnibridge.sdk.emulator import free_port
from omnibridge.store import InboxStatus, Store, open_store

from .crash_harness import (
    Daemon,
    Driver,
    cap_webhook_retry_waits,
    check_world,
    describe,
    make_stream,
    wait_settled,
)
from .harness import EmulatorThread, Knobs, disagreements, emulator_thread, write_profile

pytestmark = pytest.mark.crash

SEED = int(os.environ.get("OMNIBRIDGE_CRASH_SEED", "20261130"))
KILLS = 20
SALES = 40


@dataclass
class CrashWorld:
    emulators: EmulatorThread
    daemon: Daemon
    driver: Driver
    profile: Path
    store: Store


@pytest.fixture
def crash_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CrashWorld]:
    port = free_port()
    # Webhook retries every 50 ms at first, then at least every 250 ms, for 400 attempts: a delivery outlives
    # any number of restarts of the daemon (and the test's end waits for retries in seconds, not minutes).
    knobs = Knobs(webhook_retry_backoff_s=0.05, webhook_max_attempts=400)
    cap_webhook_retry_waits(monkeypatch, 0.25)
    with emulator_thread(f"http://127.0.0.1:{port}", knobs) as emulators:
        profile = write_profile(
            tmp_path,
            shopify_url=emulators.shopify_url,
            square_url=emulators.square_url,
            receiver_url=f"http://127.0.0.1:{port}",
        )
        daemon = Daemon(profile, port, tmp_path / "daemon.log")
        try:
            with open_store(load_profile(profile).store_url) as store:
                yield CrashWorld(emulators, daemon, Driver(emulators), profile, store)
        finally:
            daemon.close()


def final_read_back(world: CrashWorld) -> None:
    report = asyncio.run(run_sync_once(world.profile))
    assert report.ok, report.as_dict()
    mismatches = world.emulators.call(lambda: disagreements(world.store, world.emulators.emulators))
    assert mismatches == [], mismatches[:10]


def test_sigkill_at_random_points_loses_and_doubles_nothing(crash_world: CrashWorld) -> None:
    world, rng = crash_world, random.Random(SEED)
    stream = make_stream(SEED, SALES)
    world.daemon.start()
    kills, played, left_pending = 0, 0, 0
    while kills < KILLS:
        for _ in range(rng.randint(0, 4)):
            if played < len(stream):
                world.driver.play(stream[played])
                played += 1
        time.sleep(rng.uniform(0.0, 0.4))  # somewhere in receiving, applying, pushing, or idle
        world.daemon.kill()
        kills += 1
        left_pending += bool(world.store.inbox(status=InboxStatus.PENDING, limit=1))
        # Half the restarts are killed again before they are ready (mid start-up or catch-up).
        world.daemon.start(wait_ready=rng.random() < 0.5)
    for sale in stream[played:]:
        world.driver.play(sale)
    world.daemon.wait_ready()
    wait_settled(world.emulators, world.store)
    assert world.daemon.terminate() == 0

    findings = check_world(world.emulators, world.store, world.driver)
    print(describe(findings, world.daemon, world.driver), f"kills that left work pending: {left_pending}")
    assert world.daemon.starts == KILLS + 1
    assert len(world.driver.accepted) == SALES
    assert sum(findings.acknowledged.values()) >= SALES  # at least one notification per sale got through
    assert left_pending > 0  # some kills did interrupt work: acknowledged deliveries were waiting to be applied
    final_read_back(world)


def test_sigterm_mid_stream_loses_nothing(crash_world: CrashWorld) -> None:
    world = crash_world
    stream = make_stream(SEED + 1, 24)
    world.daemon.start()
    for sale in stream[:16]:
        world.driver.play(sale)
    assert world.daemon.terminate() == 0  # with deliveries in flight and pending in the inbox
    for sale in stream[16:]:
        world.driver.play(sale)  # while it is down: the emulators keep retrying
    world.daemon.start()
    wait_settled(world.emulators, world.store)
    assert world.daemon.terminate() == 0

    findings = check_world(world.emulators, world.store, world.driver)
    assert describe(findings, world.daemon, world.driver)["starts"] == 2
    final_read_back(world)
