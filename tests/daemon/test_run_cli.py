"""`omnibridge run` with bad input exits 1 with one clear line on stderr, never a traceback."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from omnibridge.demo import world
from omnibridge.sdk.emulator import free_port

GUARD_S = 60.0


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "omnibridge", "run", "--log-format", "json", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=GUARD_S,
        check=False,
    )


def test_an_invalid_profile_exits_1_naming_the_problem(tmp_path: Path) -> None:
    profile = tmp_path / "omnibridge.yaml"
    profile.write_text(
        "version: 1\nmerchant: {name: T, currency: USD, timezone: UTC}\nlocations: [{id: wh, type: warehouse}]\n",
        encoding="utf-8",
    )
    result = run("--profile", str(profile), "--port", str(free_port()), cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")
    assert "omnibridge.yaml" in result.stderr
    assert "name" in result.stderr  # the missing field


def test_a_missing_profile_and_a_profile_without_channels_exit_1(tmp_path: Path) -> None:
    missing = run("--profile", str(tmp_path / "nope.yaml"), cwd=tmp_path)
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: ")
    assert "nope.yaml" in missing.stderr
    assert "Traceback" not in missing.stderr

    profile = tmp_path / "omnibridge.yaml"
    profile.write_text(
        "version: 1\nmerchant: {name: T, currency: USD, timezone: UTC}\n"
        "locations: [{id: wh, name: W, type: warehouse}]\n",
        encoding="utf-8",
    )
    empty = run("--profile", str(profile), "--port", str(free_port()), cwd=tmp_path)
    assert empty.returncode == 1
    assert "no enabled sales channel" in empty.stderr
    assert "Traceback" not in empty.stderr


def test_a_port_in_use_exits_1_with_a_clear_message(tmp_path: Path) -> None:
    profile = world.write_profile(
        tmp_path,
        shopify_url="http://127.0.0.1:9",
        square_url="http://127.0.0.1:9",
        receiver_url="http://127.0.0.1:9",
        settings=world.DemoSettings(),
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("--profile", str(profile), "--port", str(port), cwd=tmp_path)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_log_level_exits_1(tmp_path: Path) -> None:
    level = run("--profile", str(tmp_path / "x.yaml"), "--log-level", "LOUD", cwd=tmp_path)
    assert level.returncode == 1
    assert "--log-level" in level.stderr
    assert "Traceback" not in level.stderr


@pytest.mark.slow
def test_a_second_daemon_on_the_same_store_is_refused(tmp_path: Path) -> None:
    nowhere = "http://127.0.0.1:9"
    profile = world.write_profile(
        tmp_path, shopify_url=nowhere, square_url=nowhere, receiver_url=nowhere, settings=world.DemoSettings()
    )
    port = free_port()
    with (tmp_path / "first.log").open("wb") as log_file:
        first = subprocess.Popen(
            [sys.executable, "-m", "omnibridge", "run", "--profile", str(profile), "--port", str(port),
             "--stop-timeout", "0.5", "--log-format", "json"],
            stdout=log_file, stderr=log_file, cwd=tmp_path,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + GUARD_S
            while True:
                assert first.poll() is None, (tmp_path / "first.log").read_text()
                assert time.monotonic() < deadline, "the first daemon never answered /healthz"
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            second = run("--profile", str(profile), "--port", str(free_port()), cwd=tmp_path)
            assert second.returncode == 1
            assert "Traceback" not in second.stderr
            [line] = second.stderr.splitlines()
            assert line.startswith("error: another omnibridge daemon is already running on the store sqlite:///")
            assert f"omnibridge.db (pid {first.pid} on {socket.gethostname()}" in line
            assert first.poll() is None  # the first one goes on
        finally:
            first.send_signal(signal.SIGTERM)
            assert first.wait(GUARD_S) == 0


def test_replica_mode_on_sqlite_exits_1_naming_what_it_needs(tmp_path: Path) -> None:
    nowhere = "http://127.0.0.1:9"
    settings = world.DemoSettings()
    profile = world.write_profile(
        tmp_path, shopify_url=nowhere, square_url=nowhere, receiver_url=nowhere, settings=settings
    )
    result = run("--profile", str(profile), "--port", str(free_port()), "--replica", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ")
    assert "--replica needs a PostgreSQL store" in line
    assert "postgresql+psycopg://" in line
    assert not (tmp_path / "omnibridge.db").exists()  # refused before the store is opened
