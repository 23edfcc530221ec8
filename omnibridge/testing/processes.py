"""omnibridge as a real process, for test harnesses and benchmarks (``bench``), not for omnibridge itself.

* :func:`run_command` is ``omnibridge run`` on a profile and a local port, as a service manager would start it;
* :func:`start_process` starts a command with its output appended to a log file;
* :func:`cpu_seconds` is a process's CPU time so far;
* :func:`wait_ready` polls ``/readyz`` until it answers 200, and fails with one line naming the log file when the
  process exits first or the guard passes.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

__all__ = ["NotReady", "cpu_seconds", "run_command", "start_process", "wait_ready"]


class NotReady(RuntimeError):
    """A started process exited, or did not answer ``/readyz`` with 200 within the guard."""


def run_command(
    profile: Path, port: int, *, replica: bool = False, log_level: str = "WARNING", extra: Sequence[str] = ()
) -> list[str]:
    """``omnibridge run`` (``--replica`` when ``replica``) on ``profile``, listening on 127.0.0.1:``port``."""
    mode = ["--replica"] if replica else []
    where = ["--profile", str(profile), "--host", "127.0.0.1", "--port", str(port)]
    return [sys.executable, "-m", "omnibridge", "run", *mode, *where, "--log-level", log_level, *extra]


def start_process(command: Sequence[str], log_path: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """Start ``command`` in ``cwd``, its output and errors appended to ``log_path``."""
    with log_path.open("ab") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)  # noqa: S603 - our own


def wait_ready(
    url: str, process: subprocess.Popen[bytes], guard_s: float, log_path: Path, *, poll_s: float = 0.05
) -> None:
    """Wait until ``{url}/readyz`` answers 200; :class:`NotReady` when ``process`` exits first or after ``guard_s``
    seconds (only a guard against hangs)."""
    deadline = time.monotonic() + guard_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise NotReady(f"the process for {url} exited with code {process.returncode}; see {log_path}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/readyz", timeout=1.0).status_code == 200:
                return
        time.sleep(poll_s)
    raise NotReady(f"the process for {url} was not ready after {guard_s:g} s; see {log_path}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
