"""Signals on a real `omnibridge run` process whose channels are unreachable (so a pass is always in flight):
readiness says why, a stop cancels the pass after --stop-timeout and exits 0, a second signal exits at once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from omnibridge.demo import world
from omnibridge.sdk.emulator import free_port

pytestmark = pytest.mark.slow
GUARD_S = 60.0
"""Only a guard against hangs; nothing asserts on time."""
NOWHERE = "http://127.0.0.1:9"  # connection refused: every call is retried, so the worker is always busy


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    profile = world.write_profile(
        tmp_path, shopify_url=NOWHERE, square_url=NOWHERE, receiver_url=NOWHERE, settings=world.DemoSettings()
    )
    port = free_port()
    log_path = tmp_path / "daemon.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "omnibridge", "run", "--profile", str(profile), "--port", str(port),
             "--stop-timeout", "0.5", "--log-format", "json"],
            stdout=log_file, stderr=log_file, cwd=tmp_path,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + GUARD_S
            while True:
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "the daemon never answered /healthz"
                try:
                    if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            yield process, url, log_path
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(GUARD_S)


def events(log_path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log_path.read_text(encoding="utf-8").splitlines()]


def test_unreachable_channels_are_not_ready_and_sigterm_still_exits_0(
    daemon: tuple[subprocess.Popen[bytes], str, Path],
) -> None:
    process, url, log_path = daemon
    ready = httpx.get(f"{url}/readyz", timeout=5.0)
    assert ready.status_code == 503
    assert ready.json()["channels"] == {"web": "not_tried", "pos": "not_tried"}  # the first resolution is in flight
    assert ready.json()["store"] == "ok"

    process.send_signal(signal.SIGTERM)
    assert process.wait(GUARD_S) == 0
    names = [event["event"] for event in events(log_path)]
    assert "daemon.stopping" in names
    assert "daemon.stop_timeout" in names  # the resolution in flight was cancelled after --stop-timeout
    assert names[-1] == "daemon.stopped"


def test_a_second_signal_exits_at_once(daemon: tuple[subprocess.Popen[bytes], str, Path]) -> None:
    process, _, log_path = daemon
    process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + GUARD_S
    while "daemon.stopping" not in [event["event"] for event in events(log_path)]:
        assert time.monotonic() < deadline, "the first signal was never handled"
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    assert process.wait(GUARD_S) == 128 + signal.SIGTERM
    assert "daemon.exit_now" in [event["event"] for event in events(log_path)]
