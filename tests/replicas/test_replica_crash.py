"""The replicas' crash suite: three replicas on one PostgreSQL behind a load balancer, one of them SIGKILLed at a
random point 20 times while a seeded stream of POS sales and web orders flows (and restarted, half the time without
waiting for it to be ready). At the end: every acknowledged delivery is applied exactly once, the ledger equals the
opening stock plus the accepted sales, no recorded write is left unfinished, and every channel shows the ledger.

``OMNIBRIDGE_CRASH_SEED`` picks another seed.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from pathlib import Path

import pytest
from reliability.crash_harness import Driver, check_world, make_stream, wait_settled
from reliability.harness import disagreements

from omnibridge.cli.sync import run_sync_once

from .harness import replica_world
from .test_replicas import converged, wait_for, why_not_converged

pytestmark = [pytest.mark.crash, pytest.mark.postgres]

SEED = int(os.environ.get("OMNIBRIDGE_CRASH_SEED", "20261206"))
KILLS = 20
SALES = 40
CONVERGE_GUARD_S = 180.0
"""How long the fleet may take to show the ledger on every channel after the stream. On a quiet machine it takes
seconds. A fleet that never converges still fails."""


def test_one_of_three_replicas_sigkilled_20_times_loses_and_doubles_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(SEED)
    stream = make_stream(SEED, SALES)
    with replica_world(tmp_path, monkeypatch, 3) as world:
        world.start_all()
        driver = Driver(world.emulators)
        played = 0
        for _ in range(KILLS):
            for _ in range(rng.randint(0, 4)):
                if played < len(stream):
                    driver.play(stream[played])
                    played += 1
            time.sleep(rng.uniform(0.0, 0.4))  # somewhere in receiving, applying, writing, or idle
            victim = rng.choice(world.replicas)
            victim.kill()
            victim.start()
            if rng.random() < 0.5:  # the other half is killed again, later, before or after it is ready
                victim.wait_ready()
        for sale in stream[played:]:
            driver.play(sale)
        for replica in world.replicas:
            replica.wait_ready()
        wait_settled(world.emulators, world.store)
        wait_for(
            "every channel shows the ledger",
            lambda: converged(world),
            CONVERGE_GUARD_S,
            explain=lambda: why_not_converged(world),
        )
        for replica in world.replicas:
            assert replica.terminate() == 0

        findings = check_world(world.emulators, world.store, driver)
        assert len(driver.accepted) == SALES
        assert sum(findings.acknowledged.values()) >= SALES
        report = asyncio.run(run_sync_once(world.profile))  # a read-back after the fleet stopped changes nothing
        assert report.ok, report.as_dict()
        assert world.emulators.call(lambda: disagreements(world.store, world.emulators.emulators)) == []
