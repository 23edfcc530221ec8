"""What the daemon knows about itself: channel readiness (locations, webhooks rejected), last successful syncs,
whether it is stopping."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from omnibridge.errors import OmnibridgeError
from omnibridge.store import Store
from omnibridge.store.engine import read_session

Monotonic = Callable[[], float]


WEBHOOK_REJECT_LIMIT = 5
"""A channel whose last this many webhook deliveries were all rejected (and none accepted since) gets a warning:
its vendor may be signing with another secret than the profile's. It is a warning, never unreadiness: anyone on
the internet can send deliveries that fail their signature, and a forged request is the sender's fault, so it must
not take the daemon out of its load balancer."""

ACCEPTED = frozenset({"stored", "duplicate"})


@dataclass
class WebhookRejections:
    """A channel's run of rejected webhook deliveries since its last accepted one."""

    count: int = 0
    last_reason: str = ""


@dataclass
class DaemonState:
    """Shared by the HTTP endpoints, the worker and the metrics; only touched from the daemon's event loop.

    ``unresolved`` maps a channel id to why its locations are not resolved (every channel until the first
    resolution; empty when all are); ``tried`` holds the channels whose resolution has been attempted at least
    once (a channel not in it has not failed: it was not tried yet).
    ``last_sync`` holds, per channel, the monotonic time of the last pull or read-back that succeeded.
    ``rejections`` holds, per channel (sales and ``carriers``), the webhook deliveries rejected since the last
    accepted one (see :meth:`webhook_answered`).
    """

    channels: tuple[str, ...]
    clock: Monotonic = time.monotonic
    carriers: tuple[str, ...] = ()
    webhook_reject_limit: int = WEBHOOK_REJECT_LIMIT
    started_at: float = 0.0
    unresolved: dict[str, str] = field(default_factory=dict)
    tried: set[str] = field(default_factory=set)
    last_sync: dict[str, float] = field(default_factory=dict)
    rejections: dict[str, WebhookRejections] = field(default_factory=dict)
    catch_up_done: bool = False
    stopping: bool = False

    def __post_init__(self) -> None:
        self.started_at = self.clock()
        self.unresolved = {channel: "not resolved yet" for channel in self.channels}

    def resolved(self, failures: dict[str, str]) -> None:
        """Record the result of a location resolution: ``failures`` is the complete set still failing."""
        self.tried.update(self.channels)
        self.unresolved = {channel: reason for channel, reason in failures.items() if channel in self.channels}

    def synced(self, channels: Iterable[str]) -> None:
        now = self.clock()
        for channel in channels:
            self.last_sync[channel] = now

    def last_sync_age(self, channel: str) -> float:
        """Seconds since ``channel`` last synced successfully, or since start-up when it never did."""
        return max(0.0, self.clock() - self.last_sync.get(channel, self.started_at))

    def webhook_answered(self, channel: str, status: str, message: str = "") -> None:
        """Record the receiver's answer to one delivery for ``channel``: an accepted one (``stored``,
        ``duplicate``) ends its run of rejections, a ``rejected`` one extends it; other answers (store
        unavailable, acknowledged without a notification) say nothing about the signing secret."""
        if channel not in self.channels and channel not in self.carriers:
            return
        if status in ACCEPTED:
            self.rejections.pop(channel, None)
        elif status == "rejected":
            run = self.rejections.setdefault(channel, WebhookRejections())
            run.count += 1
            run.last_reason = message

    def webhooks_failing(self, channel: str) -> WebhookRejections | None:
        """The channel's run of rejections when it reached the limit, else None."""
        run = self.rejections.get(channel)
        return run if run is not None and run.count >= self.webhook_reject_limit else None

    def channel_failures(self, channel: str) -> list[str]:
        """Why ``channel`` failed, one phrase each (empty when nothing tried has failed)."""
        if channel in self.unresolved and channel in self.tried:
            return [f"locations not resolved: {self.unresolved[channel]}"]
        return []

    def channel_warnings(self, channel: str) -> list[str]:
        """What an operator should look at on ``channel`` that does not make the daemon unready (its webhook
        deliveries all rejected: see :data:`WEBHOOK_REJECT_LIMIT`), one phrase each."""
        rejected = self.webhooks_failing(channel)
        if rejected is None:
            return []
        return [
            f"webhooks rejected: the last {rejected.count} deliveries, none accepted since"
            f" ({rejected.last_reason or 'rejected'}); check the channel's webhook signing secret"
        ]

    def channel_problems(self, channel: str) -> list[str]:
        """Why ``channel`` is not ready, one phrase each (empty when it is): not tried yet, or its failures."""
        untried = channel in self.unresolved and channel not in self.tried
        return (["not tried yet: locations not resolved"] if untried else []) + self.channel_failures(channel)

    def channel_status(self, channel: str) -> str:
        """``failed: <why>``, else ``not_tried`` (its locations not resolved yet, nothing failed), else ``ok``."""
        failures = self.channel_failures(channel)
        if failures:
            return "failed: " + "; ".join(failures)
        return "not_tried" if channel in self.unresolved else "ok"


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
    return readiness_given(state, store_answers(store))


def readiness_given(state: DaemonState, store_error: str | None) -> tuple[bool, dict[str, object]]:
    """:func:`readiness` once the store was asked (:func:`store_answers`: ``store_error``), without a store call."""
    reasons: list[str] = []
    if state.stopping:
        reasons.append("shutting down")
    if store_error is not None:
        reasons.append(f"store: {store_error}")
    names = (*state.channels, *state.carriers)
    for channel in sorted(names):
        reasons += [f"channel {channel}: {problem}" for problem in state.channel_problems(channel)]
    body: dict[str, object] = {
        "status": "ready" if not reasons else "not_ready",
        "store": "ok" if store_error is None else "unavailable",
        "channels": {channel: state.channel_status(channel) for channel in names},
        "catch_up_done": state.catch_up_done,
    }
    if reasons:
        body["reasons"] = reasons
    warnings = [
        f"channel {channel}: {warning}" for channel in sorted(names) for warning in state.channel_warnings(channel)
    ]
    if warnings:
        body["warnings"] = warnings
    return not reasons, body


PUBLIC_STATES = frozenset({"ok", "not_tried", "failed"})


def public_readiness(body: dict[str, object]) -> dict[str, object]:
    """The part of :func:`readiness`'s body anyone may see: states only (``ready``/``not_ready``, the store
    ``ok``/``unavailable``, each channel ``ok``, ``not_tried`` or ``failed``), never the reasons, which name the
    database host, port and name and quote vendors' error text."""
    channels = body.get("channels")
    states = {
        str(name): str(state).split(":", 1)[0]
        for name, state in (channels.items() if isinstance(channels, dict) else ())
    }
    return {
        "status": body.get("status"),
        "store": body.get("store"),
        "channels": {name: state if state in PUBLIC_STATES else "failed" for name, state in states.items()},
        "catch_up_done": body.get("catch_up_done"),
        "detail": "reasons are shown to operators only (Authorization: Bearer <operator token>)",
    }
