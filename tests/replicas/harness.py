"""Replicas as real processes on one PostgreSQL, behind a round-robin load balancer, with the local emulators.

* :class:`Replica` starts ``omnibridge run --replica`` on its own port and kills it with SIGKILL;
* :func:`balancer` is the load balancer the emulators send webhooks to: each request goes to the next live replica
  (a dead one's turn goes to the next), so every replica receives deliveries;
* :func:`replica_world` writes the demo's profile on a fresh PostgreSQL schema, seeds its ledger and runs the
  emulators in a thread (tests/reliability/harness.py) that outlives any replica.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import signal
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from reliability.crash_harness import HANG_GUARD_S, cap_webhook_retry_waits
from reliability.harness import EmulatorThread, Knobs, emulator_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from support import postgres_schema_url, serve_in_thread

from omnibridge.config import load_profile
from omnibridge.demo import world
from omnibridge.sdk.emulator import free_port
from omnibridge.store import Store, open_store
from omnibridge.testing import processes
from omnibridge.testing.processes import run_command, start_process


@dataclass
class Replica:
    """One ``omnibridge run --replica`` process on ``port`` (restartable); output appended to ``log_path``."""

    profile: Path
    port: int
    log_path: Path
    extra: Sequence[str] = ()
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        assert not self.alive
        command = run_command(self.profile, self.port, replica=True, log_level="INFO", extra=self.extra)
        self.process = start_process(command, self.log_path, self.profile.parent)

    def wait_ready(self) -> None:
        assert self.process is not None
        processes.wait_ready(self.url, self.process, HANG_GUARD_S, self.log_path)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(HANG_GUARD_S)

    def terminate(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(HANG_GUARD_S)

    def close(self) -> None:
        if self.alive:
            assert self.process is not None
            self.process.kill()
            self.process.wait(HANG_GUARD_S)


@dataclass
class Balancer:
    """Round-robin over the replicas that are alive; a refused connection goes to the next one."""

    replicas: list[Replica]
    forwarded: dict[int, int] = field(default_factory=dict)
    """Port -> webhooks that replica answered."""

    def __post_init__(self) -> None:
        self._turn = itertools.count()
        self._client: httpx.AsyncClient | None = None

    async def forward(self, request: Request) -> Response:
        body = await request.body()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in {"host", "content-length"}}
        start = next(self._turn)
        if self._client is None:  # one client (and connection pool) for the balancer's life, on its loop
            self._client = httpx.AsyncClient(timeout=10.0)
        for step in range(len(self.replicas)):
            replica = self.replicas[(start + step) % len(self.replicas)]
            if not replica.alive:
                continue
            try:
                answer = await self._client.post(f"{replica.url}{request.url.path}", content=body, headers=headers)
            except httpx.TransportError:
                continue
            self.forwarded[replica.port] = self.forwarded.get(replica.port, 0) + 1
            return Response(answer.content, status_code=answer.status_code)
        return Response(b"no replica", status_code=502)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/webhooks/{channel}", self.forward, methods=["POST"])])


@dataclass
class ReplicaWorld:
    emulators: EmulatorThread
    replicas: list[Replica]
    balancer: Balancer
    profile: Path
    store: Store
    store_url: str

    def start_all(self) -> None:
        for replica in self.replicas:
            replica.start()
        for replica in self.replicas:
            replica.wait_ready()


def use_store(profile: Path, url: str) -> None:
    """Point ``profile``'s store at ``url``."""
    text = profile.read_text(encoding="utf-8")
    profile.write_text(re.sub(r"(?m)^  url: sqlite:.*$", f"  url: '{url}'", text, count=1), encoding="utf-8")


@contextlib.contextmanager
def replica_world(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    count: int,
    *,
    knobs: Knobs | None = None,
    extra: Sequence[str] = (),
) -> Iterator[ReplicaWorld]:
    """``count`` replicas (not started) of the demo's profile on a fresh PostgreSQL schema, the emulators and the
    balancer running."""
    knobs = knobs or Knobs(webhook_retry_backoff_s=0.05, webhook_max_attempts=400)
    cap_webhook_retry_waits(monkeypatch, 0.25)
    lb_port = free_port()
    with postgres_schema_url() as url, emulator_thread(f"http://127.0.0.1:{lb_port}", knobs) as emulators:
        profile = world.write_profile(
            tmp_path,
            shopify_url=emulators.shopify_url,
            square_url=emulators.square_url,
            receiver_url=f"http://127.0.0.1:{lb_port}",
            settings=world.DemoSettings(),
        )
        use_store(profile, url)
        assert load_profile(profile).store_url == url
        replicas = [Replica(profile, free_port(), tmp_path / f"replica-{index}.log", extra) for index in range(count)]
        balancer = Balancer(replicas)
        with open_store(url) as store, serve_in_thread(balancer.app(), ports=[lb_port]):
            world.seed_ledger(store)
            try:
                yield ReplicaWorld(emulators, replicas, balancer, profile, store, url)
            finally:
                for replica in replicas:
                    replica.close()
