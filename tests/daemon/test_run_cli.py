"""`omnibridge run` with bad input exits 1 with one clear line on stderr, never a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

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
