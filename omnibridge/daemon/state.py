"""What the daemon knows about itself: channel readiness, last successful syncs, whether it is stopping."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from omnibridge.errors import OmnibridgeError
from omnibridge.store import Store
from omnibridge.store.engine import read_session

Monotonic = Callable[[], float]


@dataclass
class DaemonState:
    """Shared by the HTTP endpoints, the worker and the metrics; only touched from the daemon's event loop.

    ``unresolved`` maps a channel id to why its locations are not resolved (every channel until the first
    resolution; empty when all are).
    ``last_sync`` holds, per channel, the monotonic time of the last pull or read-back that succeeded.
    """

    channels: tuple[str, ...]
    clock: Monotonic = time.monotonic
    started_at: float = 0.0
    unresolved: dict[str, str] = field(default_factory=dict)
    last_sync: dict[str, float] = field(default_factory=dict)
    catch_up_done: bool = False
    stopping: bool = False

    def __post_init__(self) -> None:
        self.started_at = self.clock()
        self.unresolved = {channel: "not resolved yet" for channel in self.channels}

    def resolved(self, failures: dict[str, str]) -> None:
        """Record the result of a location resolution: ``failures`` is the complete set still failing."""
        self.unresolved = {channel: reason for channel, reason in failures.items() if channel in self.channels}

    def synced(self, channels: Iterable[str]) -> None:
        now = self.clock()
        for channel in channels:
            self.last_sync[channel] = now

    def last_sync_age(self, channel: str) -> float:
        """Seconds since ``channel`` last synced successfully, or since start-up when it never did."""
        return max(0.0, self.clock() - self.last_sync.get(channel, self.started_at))


def store_answers(store: Store) -> str | None:
    """None when the store answers a trivial query, else the reason it does not."""
    try:
        with read_session(store.engine) as session:
            session.execute(sa.select(sa.literal(1))).scalar_one()
    except OmnibridgeError as exc:
        return str(exc)
    except Exception as exc:  # a driver error not mapped to StoreError still means "not ready"
        return f"{type(exc).__name__}: {exc}"
    return None


def readiness(state: DaemonState, store: Store) -> tuple[bool, dict[str, object]]:
    """Whether the daemon is ready to take traffic, and the JSON body that says why (not)."""
    reasons: list[str] = []
    if state.stopping:
        reasons.append("shutting down")
    store_error = store_answers(store)
    if store_error is not None:
        reasons.append(f"store: {store_error}")
    for channel, reason in sorted(state.unresolved.items()):
        reasons.append(f"channel {channel}: locations not resolved: {reason}")
    body: dict[str, object] = {
        "status": "ready" if not reasons else "not_ready",
        "store": "ok" if store_error is None else "unavailable",
        "channels": {channel: ("not_resolved" if channel in state.unresolved else "ok") for channel in state.channels},
        "catch_up_done": state.catch_up_done,
    }
    if reasons:
        body["reasons"] = reasons
    return not reasons, body
