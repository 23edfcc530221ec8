"""The engine of a propagation run in a process of its own: ``omnibridge run`` (the daemon, as operations run it)
on the demo world's profile, listening on the receiver's port.

The benchmark's process keeps the emulators, the sales and the watcher. With remote vendors the engine has its
machine's cores to itself; here it gets one of the two, instead of sharing one event loop with five emulators.
The daemon dies with the benchmark's process (``PR_SET_PDEATHSIG``), also when that process ends with
``os._exit`` right after printing its figures.
"""

from __future__ import annotations

import asyncio
import ctypes
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from omnibridge.testing.processes import cpu_seconds, run_command

PR_SET_PDEATHSIG = 1
STOP_S = 10.0
"""How long a stopped daemon may take to finish its pass in flight before it is killed."""


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the benchmark's process ends (Linux)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class EngineProcess:
    """``omnibridge run`` on ``profile`` at ``url`` (the receiver URL the emulators notify), logging to ``log``."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    @classmethod
    def start(cls, profile: Path, receiver_url: str) -> EngineProcess:
        """Start the daemon (call it on the thread that lives as long as the run: the death signal follows it)."""
        port = int(receiver_url.rsplit(":", 1)[1])
        log = profile.parent / "engine.log"
        with log.open("ab") as out:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter running omnibridge
                run_command(profile, port),
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=profile.parent,
                preexec_fn=_die_with_parent,
            )
        return cls(process, receiver_url, log)

    async def caught_up(self, guard_s: float) -> None:
        """Wait until ``/readyz`` answers 200 with its start-up read-back done (``catch_up_done``); a
        RuntimeError naming the log when the daemon exits first or after ``guard_s`` (only a guard)."""
        deadline = time.monotonic() + guard_s
        async with httpx.AsyncClient(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    code = self.process.returncode
                    raise RuntimeError(f"the engine's daemon exited with code {code}: {self._tail()}")
                try:
                    answer = await client.get(f"{self.url}/readyz")
                    if answer.status_code == 200 and answer.json().get("catch_up_done"):
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"the engine's daemon had not caught up after {guard_s:g} s: {self._tail()}")

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)

    def store_writing_seconds(self) -> float | None:
        """``omnibridge_store_write_hold_seconds_total`` from the daemon's ``/metrics`` (how long it has been
        writing its SQLite store); None when it does not answer or exports none (PostgreSQL)."""
        try:
            text = httpx.get(f"{self.url}/metrics", timeout=10).text
        except httpx.HTTPError:
            return None
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "omnibridge_store_write_hold_seconds_total":
                    return float(sample.value)
        return None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after ``STOP_S`` (a backlog left by an overrun is not waited for)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_S)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(STOP_S)

    def _tail(self) -> str:
        lines = self.log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        return f"see {self.log}" + (f" (last line: {lines[-1]})" if lines else "")
