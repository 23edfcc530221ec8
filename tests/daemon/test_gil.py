"""The daemon serves with a short GIL switch interval, and gives the previous one back when it stops."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from omnibridge.daemon import service
from omnibridge.daemon.gil import DAEMON_SWITCH_INTERVAL, switch_interval
from omnibridge.demo import world
from omnibridge.errors import OmnibridgeError

NOWHERE = "http://127.0.0.1:9"


def test_the_interval_holds_inside_the_block_and_is_restored_after_it_even_when_it_raises() -> None:
    before = sys.getswitchinterval()
    with switch_interval(0.0007):
        assert sys.getswitchinterval() == pytest.approx(0.0007)
    assert sys.getswitchinterval() == before
    inside: list[float] = []

    def fails() -> None:
        with switch_interval(0.0003):
            inside.append(sys.getswitchinterval())
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fails()
    assert inside == [pytest.approx(0.0003)]
    assert sys.getswitchinterval() == before


@pytest.mark.parametrize("seconds", [0.0, -0.001])
def test_an_interval_that_is_not_positive_is_refused_naming_what_was_expected(seconds: float) -> None:
    with pytest.raises(ValueError, match="expected a number of seconds greater than 0"), switch_interval(seconds):
        pass
    with pytest.raises(OmnibridgeError, match=r"switch_interval_seconds .*greater than 0"):
        service.DaemonOptions(switch_interval_seconds=seconds)


def test_run_daemon_serves_with_the_daemon_interval_and_restores_the_previous_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = world.write_profile(
        tmp_path, shopify_url=NOWHERE, square_url=NOWHERE, receiver_url=NOWHERE, settings=world.DemoSettings()
    )
    seen: list[float] = []

    class ServesOnce:
        """Stands in for the daemon's server: records the interval while it would serve, then stops."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        async def serve(self) -> None:
            seen.append(sys.getswitchinterval())

    monkeypatch.setattr(service, "Daemon", ServesOnce)
    before = sys.getswitchinterval()
    asyncio.run(service.run_daemon(profile, service.DaemonOptions()))
    assert seen == [pytest.approx(DAEMON_SWITCH_INTERVAL)]
    assert before > DAEMON_SWITCH_INTERVAL
    assert sys.getswitchinterval() == before
