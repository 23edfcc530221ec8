"""The harnesses' and benchmarks' process helper: start with the output in a log, wait for ``/readyz``."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from support import serve_in_thread

from omnibridge.sdk.emulator import free_port
from omnibridge.testing.processes import NotReady, run_command, start_process, wait_ready

GUARD_S = 30.0
"""Only a guard against hangs."""


@contextmanager
def sleeper(log: Path) -> Iterator[subprocess.Popen[bytes]]:
    process = start_process([sys.executable, "-c", "import time; time.sleep(60)"], log, log.parent)
    try:
        yield process
    finally:
        process.kill()
        process.wait(GUARD_S)


def ready(request: Request) -> Response:
    return Response("ok")


def test_ready_once_readyz_answers_200(tmp_path: Path) -> None:
    log = tmp_path / "p.log"
    with serve_in_thread(Starlette(routes=[Route("/readyz", ready)])) as [url], sleeper(log) as process:
        wait_ready(url, process, GUARD_S, log)
        assert process.poll() is None


def test_a_process_that_exits_fails_with_one_line_naming_its_log(tmp_path: Path) -> None:
    log = tmp_path / "p.log"
    log.write_text("before\n")
    process = start_process([sys.executable, "-c", "print('boom'); raise SystemExit(3)"], log, tmp_path)
    with pytest.raises(NotReady) as failure:
        wait_ready(f"http://127.0.0.1:{free_port()}", process, GUARD_S, log)
    message = str(failure.value)
    assert "\n" not in message
    assert "exited with code 3" in message
    assert message.endswith(f"see {log}")
    assert log.read_text().splitlines() == ["before", "boom"]  # the output is appended to the log


def test_a_process_never_ready_fails_after_the_guard_naming_its_log(tmp_path: Path) -> None:
    log = tmp_path / "p.log"
    url = f"http://127.0.0.1:{free_port()}"
    with sleeper(log) as process, pytest.raises(NotReady) as failure:
        wait_ready(url, process, 0.3, log)
    assert str(failure.value) == f"the process for {url} was not ready after 0.3 s; see {log}"


def test_the_command_is_omnibridge_run_on_a_local_port(tmp_path: Path) -> None:
    profile = tmp_path / "omnibridge.yaml"
    where = ["--profile", str(profile), "--host", "127.0.0.1", "--port", "8123"]
    command = run_command(profile, 8123, replica=True, log_level="INFO", extra=["--x"])
    assert command == [sys.executable, "-m", "omnibridge", "run", "--replica", *where, "--log-level", "INFO", "--x"]
    assert run_command(profile, 8123) == [sys.executable, "-m", "omnibridge", "run", *where, "--log-level", "WARNING"]
