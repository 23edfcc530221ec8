"""The crash suite's world: omnibridge as a real process, the emulators in a thread that outlives its deaths.

* :class:`Daemon` starts ``omnibridge run --profile P --host H --port N``, waits for ``/readyz``, and kills it
  with SIGKILL or stops it with SIGTERM.
* :func:`make_stream` is a seeded stream of POS sales (Square) and web orders (Shopify) on a few hot SKUs,
  never more than a position holds (so the oversell resolver has nothing to decide and the expected ledger is
  plain arithmetic); :class:`Driver` plays it through the emulators' ``/_emulator/`` control routes and keeps
  what each emulator accepted.
* :func:`check_world` asserts the end state: every acknowledged delivery is in the inbox exactly once and done,
  every accepted order's movements exist exactly once, the ledger equals the expected result, no recorded push
  is left unfinished and no oversell was ever decided.
"""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from omnibridge.demo.catalog import POS_LOCATIONS, WEB_LOCATIONS, opening_stock
from omnibridge.models import MovementKind
from omnibridge.sdk.emulator import webhooks as emulator_webhooks
from omnibridge.store import InboxStatus, Store
from omnibridge.testing import processes
from omnibridge.testing.processes import run_command, start_process

from .harness import POS, SKUS, WEB, EmulatorThread, ledger_state, order_movements

HANG_GUARD_S = 60.0
"""Only a guard against hangs: no assertion depends on how long anything takes."""
HOT_SKUS = SKUS[:8]


@dataclass
class Daemon:
    """One omnibridge daemon at a time on ``port``; its output goes to ``log_path`` (appended across runs)."""

    profile: Path
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, wait_ready: bool = True) -> None:
        assert self.process is None or self.process.poll() is not None, "a daemon is already running"
        with self.log_path.open("ab") as out:
            out.write(f"--- start {self.starts + 1}\n".encode())
        self.process = start_process(run_command(self.profile, self.port), self.log_path, self.profile.parent)
        self.starts += 1
        if wait_ready:
            self.wait_ready()

    def wait_ready(self) -> None:
        assert self.process is not None
        processes.wait_ready(self.url, self.process, HANG_GUARD_S, self.log_path, poll_s=0.02)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(HANG_GUARD_S)

    def terminate(self) -> int:
        """SIGTERM and wait; returns the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(HANG_GUARD_S)

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(HANG_GUARD_S)


class _CappedSleeps:
    """``asyncio`` as the emulators' webhook sender sees it, with every sleep cut to ``cap`` seconds."""

    def __init__(self, cap: float) -> None:
        self.cap = cap

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(min(seconds, self.cap))


def cap_webhook_retry_waits(monkeypatch: pytest.MonkeyPatch, cap: float) -> None:
    """Make the emulators retry an unacknowledged webhook at least every ``cap`` seconds.

    The vendors' doubling backoff (hours, compressed to seconds by the sender) would otherwise leave a delivery
    that failed through several restarts waiting longer than the whole test. The sender has no knob for a
    ceiling, so its module's view of ``asyncio.sleep`` is capped instead (only the emulators use that module).
    """
    monkeypatch.setattr(emulator_webhooks, "asyncio", _CappedSleeps(cap))


# -- the stream ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sale:
    channel: str
    location_id: str
    sku: str
    quantity: int


def make_stream(seed: int, count: int) -> list[Sale]:
    """``count`` sales, half POS half web, on :data:`HOT_SKUS`, each leaving at least one unit where it sells."""
    rng = random.Random(seed)
    left = dict(opening_stock())
    stream: list[Sale] = []
    while len(stream) < count:
        channel = rng.choice((POS, WEB))
        location_id = rng.choice(POS_LOCATIONS if channel == POS else WEB_LOCATIONS)
        sku = rng.choice(HOT_SKUS)
        quantity = rng.randint(1, 2)
        if left[(sku, location_id)] - quantity < 1:
            continue
        left[(sku, location_id)] -= quantity
        stream.append(Sale(channel, location_id, sku, quantity))
    return stream


@dataclass
class AcceptedOrder:
    sale: Sale
    ref: str
    """The order as omnibridge names it: Square's order id, or Shopify's order gid."""
    lines: int


@dataclass
class Driver:
    """Plays sales through the emulators' control routes (the emulators run in ``emulators``' thread)."""

    emulators: EmulatorThread
    accepted: list[AcceptedOrder] = field(default_factory=list)

    def play(self, sale: Sale) -> None:
        lines = [{"sku": sale.sku, "quantity": sale.quantity}]
        if sale.channel == POS:
            location = self.emulators.emulators.square_location[sale.location_id]
            response = httpx.post(
                f"{self.emulators.square_url}/_emulator/pos-sale", json={"location_id": location, "lines": lines}
            )
            response.raise_for_status()
            order = response.json()["order"]
            self.accepted.append(AcceptedOrder(sale, str(order["id"]), len(order["line_items"])))
        else:
            location = self.emulators.emulators.shopify_location[sale.location_id]
            response = httpx.post(
                f"{self.emulators.shopify_url}/_emulator/orders", json={"location_id": location, "lines": lines}
            )
            response.raise_for_status()
            order = response.json()
            self.accepted.append(AcceptedOrder(sale, f"gid://shopify/Order/{order['id']}", len(order["line_items"])))

    def expected_ledger(self) -> dict[tuple[str, str], tuple[int, int]]:
        """(SKU, location) -> (on_hand, committed) after the opening stock and every accepted sale."""
        expected = {position: (quantity, 0) for position, quantity in opening_stock().items()}
        for order in self.accepted:
            sale = order.sale
            on_hand, committed = expected[(sale.sku, sale.location_id)]
            if sale.channel == POS:  # a completed in-store sale: the units left the shop
                expected[(sale.sku, sale.location_id)] = (on_hand - sale.quantity, committed)
            else:  # a web order not yet shipped: the units are committed
                expected[(sale.sku, sale.location_id)] = (on_hand, committed + sale.quantity)
        return expected


# -- waiting and checking --------------------------------------------------------------------------------------


def wait_settled(emulators: EmulatorThread, store: Store) -> None:
    """Wait until every webhook was delivered (or given up) and the daemon left nothing pending, twice running."""
    deadline = time.monotonic() + HANG_GUARD_S
    quiet = 0
    while quiet < 2:
        emulators.drain(timeout=HANG_GUARD_S)
        time.sleep(0.3)
        in_flight = [
            record
            for records in emulators.deliveries().values()
            for record in records
            if not (record["delivered"] or record["gave_up"])
        ]
        pending = store.inbox(status=InboxStatus.PENDING)
        quiet = 0 if in_flight or pending else quiet + 1
        assert time.monotonic() < deadline, (
            f"the inbox did not settle: {len(in_flight)} deliveries in flight, {len(pending)} entries pending "
            f"(oldest: {[(e.id, e.channel, e.delivery.topic, e.attempts) for e in pending[:3]]})"
        )


@dataclass
class Findings:
    acknowledged: dict[str, int]
    inbox: dict[str, Counter[str]]
    incidents: dict[str, int]


def check_world(emulators: EmulatorThread, store: Store, driver: Driver) -> Findings:
    """Assert the end state (see the module docstring); returns counts for the test's own assertions."""
    deliveries = emulators.deliveries()
    acknowledged: dict[str, int] = {}
    inbox_counts: dict[str, Counter[str]] = {}
    for channel, records in deliveries.items():
        entries = store.inbox(channel=channel, limit=1_000_000)
        keys = Counter(entry.delivery.event_id or entry.delivery.delivery_id for entry in entries)
        status = {entry.delivery.event_id or entry.delivery.delivery_id: entry.status for entry in entries}
        # a delivery whose body was already stored under another id is that entry (the inbox dedupes on the body)
        by_body = {entry.delivery.body_sha256: entry.status for entry in entries}
        acked = {record["key"]: record["sha256"] for record in records if record["delivered"]}
        for key, digest in acked.items():
            if key not in status and digest in by_body:
                status[key] = by_body[digest]
                keys[key] = 1
        acknowledged[channel] = len(acked)
        inbox_counts[channel] = Counter(entry.status.value for entry in entries)
        missing = sorted(set(acked) - set(keys))
        assert not missing, f"{channel}: {len(missing)} acknowledged deliveries are not in the inbox: {missing[:5]}"
        doubled = sorted(key for key in acked if keys[key] != 1)
        assert not doubled, f"{channel}: deliveries stored more than once: {doubled[:5]}"
        not_done = sorted(f"{key}: {status[key].value}" for key in acked if status[key] is not InboxStatus.DONE)
        assert not not_done, f"{channel}: acknowledged deliveries not applied: {not_done[:5]}"

    expected_kind = {POS: MovementKind.SALE, WEB: MovementKind.COMMITMENT}
    for channel in (POS, WEB):
        orders = [o for o in driver.accepted if o.sale.channel == channel]
        recorded = order_movements(store, channel, [o.ref for o in orders])
        for order in orders:
            movements = recorded.get(order.ref, [])
            made = [m.movement.idempotency_key for m in movements]
            assert len(made) == len(set(made)) == order.lines, f"{channel} order {order.ref}: movements {made}"
            assert {m.movement.kind for m in movements} == {expected_kind[channel]}, (order.ref, made)
            assert sum(m.movement.quantity for m in movements) == order.sale.quantity, (order.ref, made)

    expected = driver.expected_ledger()
    positions = ledger_state(store)
    wrong = {
        position: {"expected": want, "ledger": (positions[position].on_hand, positions[position].committed)}
        for position, want in expected.items()
        if (positions[position].on_hand, positions[position].committed) != want
    }
    assert not wrong, f"the ledger differs from the accepted sales at {len(wrong)} positions: {list(wrong.items())[:5]}"

    unfinished = store.pending_pushes()  # writes a killed process recorded were resumed and finished
    assert unfinished == [], unfinished[:5]
    incidents = store.incident_counts()
    assert "oversell" not in incidents, incidents  # the stream never sells more than a position holds
    return Findings(acknowledged, inbox_counts, incidents)


def describe(findings: Findings, daemon: Daemon, driver: Driver) -> dict[str, Any]:
    return {
        "starts": daemon.starts,
        "orders": len(driver.accepted),
        "acknowledged": findings.acknowledged,
        "inbox": {channel: dict(counts) for channel, counts in findings.inbox.items()},
        "incidents": findings.incidents,
    }
