"""One daemon per store, on each backend: a second holder is refused naming the store and the holder, another store
is not affected, and a holder killed with SIGKILL leaves nothing stuck."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import postgres_schema_url

from omnibridge.errors import StoreInUseError
from omnibridge.store.daemon_lock import daemon_lock, lock_path
from omnibridge.store.engine import parse_url, safe_url

GUARD_S = 60.0
"""Only a guard against hangs; nothing asserts on time."""

HOLD = """
import sys, time
from omnibridge.store.daemon_lock import daemon_lock
with daemon_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(3600)
"""


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """URLs of two different stores on one backend (two files; two schemas of one PostgreSQL database)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'a' / 'omnibridge.db'}", f"sqlite:///{tmp_path / 'b' / 'omnibridge.db'}"
        return
    with postgres_schema_url() as first, postgres_schema_url() as second:
        yield first, second


@pytest.fixture(autouse=True)
def _directories(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()


def test_a_second_holder_is_refused_naming_the_store_and_the_holder(two_stores: tuple[str, str]) -> None:
    url, _ = two_stores
    with daemon_lock(url):
        with pytest.raises(StoreInUseError) as refused, daemon_lock(url):
            pytest.fail("a second holder got the lock")
        message = str(refused.value)
        assert "\n" not in message
        assert f"store {safe_url(parse_url(url))}" in message
        assert f"pid {os.getpid()} on {socket.gethostname()}" in message
    with daemon_lock(url):  # released when the block ended
        pass


def test_another_store_has_its_own_lock(two_stores: tuple[str, str]) -> None:
    first, second = two_stores
    with daemon_lock(first), daemon_lock(second):
        pass


def test_the_same_sqlite_file_spelled_differently_is_one_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with (
        daemon_lock(f"sqlite:///{tmp_path / 'a' / 'omnibridge.db'}"),
        pytest.raises(StoreInUseError),
        daemon_lock("sqlite:///b/../a/omnibridge.db"),
    ):
        pytest.fail("a second holder got the lock")
    assert lock_path("a/omnibridge.db") == tmp_path / "a" / "omnibridge.db-daemon.lock"


@pytest.mark.crash
def test_a_holder_killed_with_sigkill_leaves_the_lock_free(two_stores: tuple[str, str]) -> None:
    url, _ = two_stores
    holder = subprocess.Popen([sys.executable, "-c", HOLD, url], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreInUseError, match=f"pid {holder.pid} "), daemon_lock(url):
            pytest.fail("the lock was taken while another process held it")
        holder.send_signal(signal.SIGKILL)
        assert holder.wait(GUARD_S) == -signal.SIGKILL
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(GUARD_S)
    # The kernel releases a file lock with the process; PostgreSQL ends the session when it sees the client gone,
    # which may take a moment after the kill.
    deadline = time.monotonic() + GUARD_S
    while True:
        try:
            with daemon_lock(url):
                return
        except StoreInUseError:
            assert time.monotonic() < deadline, "the lock of a killed process was never released"
            time.sleep(0.05)
