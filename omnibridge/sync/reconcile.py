"""Make a channel show what the availability policy says it should, writing only where it differs.

What a channel should show for a SKU at one of its locations — its target — comes from a :class:`TargetPlanner`
(the availability policy, :mod:`omnibridge.policy`) applied to the ledger's ``available`` per location. Without
a policy every channel sees the whole of each location's available, never below zero (:func:`projection`).

A reconcile reads the channel first and compares three numbers per position: what the channel shows now (S),
what we last knew it to show (K, from ``channel_levels``: our last write or read) and the target (T).

* S == K, or K unknown (first sight): the channel did not change by itself; write T where it differs from S.
  K follows the channel's own activity: when an event from the channel is applied (its sale, cancellation,
  return, count), the channel already changed its number by the same effect on available, so K moves with it
  (``Store.apply(shown_on=...)``) and the change is explained. Where K was just taken from a read in place of
  something else (first sight, a forgotten level, a raise to the target, a drift decision), the read already
  includes every sale the channel made before it, also those whose orders are still on their way: the read's
  time is kept as the level's *basis*, and an event well before it does not move K again; one about as old as
  the read forgets K, so a read settles it (:func:`omnibridge.store.propagation.shift_known_level`).
* S != K: the channel changed by itself since we last knew — a sale whose order we have not imported yet (the
  channel's committed count), a receipt or count made on the channel, or an edit in its admin. The change is
  *unexplained* from that moment (``unexplained_since``). A decrease gets a grace period for the channel's
  events to explain it, and meanwhile the engine never raises what the channel shows: it writes ``min(T, S)``
  (the units an unimported order took stay subtracted, so no oversell window opens). An increase on a channel
  where the ledger wins gets only a short grace (``increase_grace``, long enough for the pull its stock
  notification triggers to import a receipt made on the channel): showing more than the ledger has is the risk.
  On a channel that may win or that only alerts it is held as it is for the whole grace period. When the grace
  period ends and the ledger still does not explain S, it is drift, and the channel's drift policy decides
  (:mod:`omnibridge.sync.drift`): the ledger wins (T is written), the channel wins (the ledger records S - K as an
  adjustment dated when the change was first seen), or alert only (nothing is written). Each decision is an
  incident.

Every write is recorded in the outbox before it is sent and finished after (see
:mod:`omnibridge.store.propagation`); its batch key is sent as ``StockTarget.reference``, which connectors use to
derive their idempotency keys, so a call the HTTP client sends again is recognised by the vendor. The compare
value of every write is what the channel showed moments ago (compare-and-set where the channel supports it).

A write whose outcome is not known — the connector raised for the batch, or reported ``UNKNOWN`` for it — is
finished ``unknown`` and its position is forgotten: the next reconcile there reads before it writes, and takes
what it reads as what the channel is known to show (plus any decrease the channel made that was still
unexplained). So a write that landed without our knowing is never mistaken for a change made on the channel. A
write a stopped process left pending is never sent again (:func:`resume_pushes`): it is abandoned, its position
forgotten, and its SKU re-planned from the ledger as it is now.

A position the ledger has never counted or received into (:meth:`Store.known_positions`) is *unknown*, not zero:
no write whose target derives from it is ever planned (its available of 0 means "never counted", not "sold
out"), and the report names it (:attr:`ReconcileReport.never_counted`). What the channel shows there is still
read and remembered, so once a count arrives (``omnibridge onboard``) the next pass writes the target.

A ``gate`` (:class:`PushGate`, the mass-change guard of :mod:`omnibridge.sync.guard`) sees each batch before it
is recorded: a batch it holds is neither recorded nor sent, and its positions are listed in
:attr:`ReconcileReport.held`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import ParamSpec, Protocol, TypeVar

from omnibridge.sdk.channel import PushResult, PushStatus, StockLevel, StockTarget
from omnibridge.sdk.metadata import Capability
from omnibridge.store import KnownLevel, LevelNote, OutboxItem, Store
from omnibridge.sync.drift import DriftDecision, decide_drift
from omnibridge.sync.listed import report_unlisted, unlisted
from omnibridge.sync.runtime import ChannelRuntime

Position = tuple[str, str]
_P = ParamSpec("_P")
_T = TypeVar("_T")


class Offload(Protocol):
    """Runs a blocking store call off the event loop (the engine's store threads) and awaits its result."""

    def __call__(self, call: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> Awaitable[_T]: ...


async def inline(call: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """The :class:`Offload` that runs the call right here, on the caller's thread (tests, one-shot commands)."""
    return call(*args, **kwargs)


"""(master SKU, profile location id)."""

DEFAULT_DRIFT_GRACE = timedelta(seconds=60)
DEFAULT_INCREASE_GRACE = timedelta(seconds=3)
VERIFY_AFTER = timedelta(seconds=10)
"""An unexplained decrease a notification reported is checked by a read once it is this old."""


class PushGate(Protocol):
    """Decides whether a batch of planned writes to one channel is sent (see :mod:`omnibridge.sync.guard`)."""

    def admit(self, store: Store, channel: ChannelRuntime, plan: list[PlannedWrite]) -> bool:
        """True to record and send ``plan``; False to hold it (nothing is recorded or sent)."""
        ...


class TargetPlanner(Protocol):
    """What each channel should show (implemented by :class:`omnibridge.policy.AvailabilityPlanner`)."""

    def quantities(self, sku: str, available: Mapping[str, int]) -> dict[tuple[str, str], int]:
        """``(channel, location_id) -> quantity`` for ``sku`` given the ledger's available per location."""
        ...


@dataclass
class ReconcileReport:
    """The outcome of one reconcile of one channel."""

    channel: str
    checked: int = 0
    differing: int = 0
    results: list[PushResult] = field(default_factory=list)
    not_listed: list[str] = field(default_factory=list)
    """Master SKUs the channel's read returned nothing for: the channel does not list them (:mod:`.listed`)."""
    waiting: list[Position] = field(default_factory=list)
    """Positions with a change the ledger does not explain yet, inside the grace period."""
    drift: list[DriftDecision] = field(default_factory=list)
    settled: list[Position] = field(default_factory=list)
    """Positions whose unexplained level the read settled: what other channels should show there may change."""
    unknown: list[Position] = field(default_factory=list)
    """Positions written with an outcome that is not known (``UNKNOWN``): forgotten, to be re-read."""
    never_counted: list[Position] = field(default_factory=list)
    """Positions of this channel whose ledger position is unknown (never counted or received): not written."""
    held: list[Position] = field(default_factory=list)
    """Positions whose planned write the gate held (a mass change waiting for approval): not written."""
    grace_ends: list[tuple[Position, float]] = field(default_factory=list)
    """Positions left unread while waiting at their target, each with the seconds until its grace ends: its SKU is
    to be reconciled again then (the read decides drift if nothing explained the decrease by then)."""
    raced: list[Position] = field(default_factory=list)
    """Positions whose known level changed between this reconcile's read of it and its remembering (the channel's
    own events applied meanwhile): not remembered but forgotten, to be reconciled again (see :func:`_versions`)."""

    def skip_unknown(self, position: Position) -> None:
        if position not in self.never_counted:
            self.never_counted.append(position)

    def count(self, status: PushStatus) -> int:
        return sum(1 for result in self.results if result.status is status)

    @property
    def pushed(self) -> int:
        return self.count(PushStatus.APPLIED)


def projection(store: Store, sku: str, location_id: str) -> int:
    """The pool quantity for ``sku`` at ``location_id``: the ledger's available, never below zero."""
    return max(0, store.position(sku, location_id).available)


def available_by_location(store: Store, sku: str) -> dict[str, int]:
    """What the planner works from: the ledger's available per location, minus the units channels took by
    themselves that omnibridge has not imported yet (their committed counts: a channel shows fewer than it is
    known to show, and nothing explains it yet). An order is thereby reflected on every other channel as soon
    as its channel's stock notification arrives, before the order itself is fetched."""
    return available_by_locations(store, [sku])[sku]


def available_by_locations(store: Store, skus: Iterable[str]) -> dict[str, dict[str, int]]:
    """:func:`available_by_location` of every SKU of ``skus`` in two queries (not two per SKU)."""
    wanted = sorted(set(skus))
    if not wanted:
        return {}
    pending = store.pending_decreases(wanted)
    return {
        sku: {
            position.location_id: position.available - pending.get((sku, position.location_id), 0) for position in held
        }
        for sku, held in store.positions_of(wanted).items()
    }


def planned_quantities(
    store: Store, planner: TargetPlanner, skus: Iterable[str]
) -> dict[str, dict[tuple[str, str], int]]:
    """What every channel should show for each of ``skus``: ``sku -> (channel, location_id) -> quantity``."""
    return {sku: planner.quantities(sku, available) for sku, available in available_by_locations(store, skus).items()}


async def reconcile_channel(
    store: Store,
    channel: ChannelRuntime,
    skus: Iterable[str],
    planner: TargetPlanner,
    *,
    drift_grace: timedelta = DEFAULT_DRIFT_GRACE,
    increase_grace: timedelta = DEFAULT_INCREASE_GRACE,
    now: datetime | None = None,
    trust_known: bool = False,
    gate: PushGate | None = None,
    offload: Offload = inline,
) -> ReconcileReport:
    """Read ``skus`` on ``channel`` and write its target wherever the channel shows something else (see the
    module docstring for how changes made on the channel are treated).

    ``trust_known``: on a channel with compare-and-set, SKUs whose every position is known and explained are
    written without a read, with what the channel is known to show as the compare value; a refusal (the channel
    moved) sends that SKU through the read path at once. The read-back passes False: it always reads.

    ``offload`` runs the blocking store work (planning, remembering, recording writes) off the event loop; only
    the vendor calls are awaited on it. Inline by default.
    """
    report = ReconcileReport(channel.id)
    masters = sorted(set(skus))
    counted = await offload(store.known_positions, masters)
    if trust_known and masters and channel.can(Capability.INVENTORY_COMPARE_AND_SET):
        moment = now or datetime.now(UTC)
        horizon = (moment - drift_grace, moment - VERIFY_AFTER)
        masters = await _write_from_known(store, channel, masters, planner, report, horizon, counted, gate, offload)
    elif trust_known and masters:
        masters = await offload(_needing_a_read, store, channel, masters, planner, report, counted)
    if not masters:
        return report
    levels = await channel.connector.read_levels(channel.channel_skus(masters))
    graces = (drift_grace, increase_grace)
    moment = now or datetime.now(UTC)
    batch_key = uuid.uuid4().hex
    after_read = (store, channel, planner, masters, levels, counted, report, graces, moment, batch_key)
    plan, versions = await offload(_plan_after_read, *after_read)
    if plan and gate is not None and not await offload(gate.admit, store, channel, plan):
        report.held.extend(write.position for write in plan)
        plan = []
    if plan:
        results = await push_recorded(store, channel, plan, batch_key, expect=versions, report=report, offload=offload)
        report.results += results
        report.unknown += _unknown(plan, results)
    return report


def _plan_after_read(
    store: Store,
    channel: ChannelRuntime,
    planner: TargetPlanner,
    masters: list[str],
    levels: list[StockLevel],
    counted: set[Position],
    report: ReconcileReport,
    graces: tuple[timedelta, timedelta],
    moment: datetime,
    batch_key: str,
) -> tuple[list[PlannedWrite], dict[Position, int | None]]:
    """Everything a reconcile decides from its read, in the store: what each position is known to show now
    (remembered over the versions read; a raced position is left out of the plan), and the writes to make,
    with each position's version once remembered."""
    report.not_listed = unlisted(channel, masters, levels)
    report_unlisted(store, channel, report.not_listed)
    stored = store.known_levels(channel.id, masters)
    known = _trust_read(channel, levels, stored)
    # A read is fresher than any notification: where the channel shows what it is known to show, an earlier
    # unexplained level (a notification that arrived out of order) is settled before targets are planned.
    settled = _settled_by_read(channel, levels, known)
    if settled:
        report.settled.extend(settled)
        store.remember_levels(channel.id, settled)
        stored = store.known_levels(channel.id, masters)
        known = _trust_read(channel, levels, stored)
    targets_by_sku = planned_quantities(store, planner, masters)
    remember: dict[Position, LevelNote] = {}
    plan: list[PlannedWrite] = []
    for level in levels:
        location_id = channel.location_id(level.location_ref)
        if location_id is None:
            continue
        position = (channel.master_sku(level.sku), location_id)
        report.checked += 1
        if position not in counted:
            report.skip_unknown(position)
            basis = _basis(level, stored.get(position), level.available)
            remember[position] = LevelNote(level.available, "read", None, level.available, level.observed_at, basis)
            continue
        target = targets_by_sku.get(position[0], {}).get((channel.id, location_id), 0)
        decision = _decide(store, channel, report, position, level, known.get(position), target, graces, moment)
        basis = _basis(level, stored.get(position), decision.known)
        note = LevelNote(decision.known, "read", decision.since, level.available, level.observed_at, basis)
        remember[position] = note
        if decision.write is not None and decision.write != level.available:
            # what the channel is known to show once the write lands: the write, plus any decrease the channel
            # made that its events have not explained yet (they will move it back down when they arrive)
            pending = decision.known - level.available
            after = (decision.write + pending, decision.since)
            plan.append(PlannedWrite(position, _target(level, decision.write, batch_key), *after))
    report.differing += len(plan)
    read = _versions(stored, remember)
    raced = store.remember_levels(channel.id, remember, expect=read)
    if raced:
        report.raced.extend(sorted(raced))
        plan = [write for write in plan if write.position not in raced]
    # what the rows are now (the remember bumped each version by one, or inserted it at 0)
    versions: dict[Position, int | None] = {
        position: (0 if version is None else version + 1) for position, version in read.items()
    }
    return plan, versions


def _versions(stored: Mapping[Position, KnownLevel], positions: Iterable[Position]) -> dict[Position, int | None]:
    """The version of each position's known-level row as read (None: no row).

    The compare-and-set on what a channel is known to show uses a version column on its ``channel_levels`` row
    rather than the pending-work sequence: the work item of a SKU is marked again by *any* channel's activity on
    it (a sale elsewhere), which would discard nearly every write's memory on a busy SKU, while the row's version
    moves only when what *this* channel is known to show changes (its own events applied, another write or read
    remembered, a write of unknown outcome; not a level it reports). A reconcile reads the versions with the
    levels, and remembers its read and then its write only over them; a position that changed in between is
    forgotten (the next reconcile there reads first) and reported in :attr:`ReconcileReport.raced` for the engine
    to mark again."""
    return {position: (stored[position].version if position in stored else None) for position in positions}


def _basis(level: StockLevel, stored: KnownLevel | None, known: int) -> datetime | None:
    """The read's time when what the channel is known to show is taken from it in place of something else
    (nothing known, a forgotten level, or a different one: a raise to the target or a drift decision), else None
    (the row keeps its basis). The read includes every sale the channel made before it, also those whose orders
    are still on their way: those must not move the new known level again when they arrive
    (:func:`omnibridge.store.propagation.shift_known_level`). A read that agrees with a trusted level, or that
    keeps a decrease waiting for its events (known above shown), sets none: the events it waits for must move it.
    """
    if known != level.available:
        return None
    if stored is not None and stored.certain and stored.quantity == level.available:
        return None
    return level.observed_at


def _trust_read(
    channel: ChannelRuntime, levels: list[StockLevel], known: dict[Position, KnownLevel]
) -> dict[Position, KnownLevel]:
    """``known`` with every forgotten position (a write of unknown outcome since) replaced by what the read shows,
    plus the decrease the channel made there that nothing had explained yet (it still waits for its events)."""
    trusted = dict(known)
    for level in levels:
        location_id = channel.location_id(level.location_ref)
        if location_id is None:
            continue
        position = (channel.master_sku(level.sku), location_id)
        note = known.get(position)
        if note is None or note.certain:
            continue
        pending = note.pending_decrease
        trusted[position] = KnownLevel(
            level.available + pending,
            "read",
            note.updated_at,
            note.unexplained_since if pending else None,
            level.available,
            level.observed_at,
            note.vendor_seen_at,
        )
    return trusted


def _settled_by_read(
    channel: ChannelRuntime, levels: list[StockLevel], known: dict[Position, KnownLevel]
) -> dict[Position, LevelNote]:
    settled: dict[Position, LevelNote] = {}
    for level in levels:
        location_id = channel.location_id(level.location_ref)
        if location_id is None:
            continue
        position = (channel.master_sku(level.sku), location_id)
        note = known.get(position)
        if note is not None and note.unexplained_since is not None and note.quantity == level.available:
            settled[position] = LevelNote(note.quantity, "read", None, level.available, level.observed_at)
    return settled


def _decidable_unread(level: KnownLevel, expires: datetime, fresh_after: datetime) -> bool:
    """Whether a position can be written without a read: explained, or an unexplained decrease whose level the
    channel reported recently (``shown_at`` after ``fresh_after``: a notification of the same second may have
    arrived out of order, so an older one is checked by a read) and still inside its grace period
    (``unexplained_since`` after ``expires``). The write is then compared against that level. Drift is only ever
    decided on a read."""
    if level.unexplained_since is None:
        return True
    return (
        level.shown is not None
        and level.shown < level.quantity
        and level.unexplained_since > expires
        and level.shown_at is not None
        and level.shown_at > fresh_after
    )


def _waiting_at_target(level: KnownLevel, target: int, expires: datetime) -> bool:
    """An unexplained decrease (most often the channel's own sale whose order is still on its way), inside its
    grace period (``unexplained_since`` after ``expires``), whose target is not below what the channel was seen
    showing: nothing would be written there (a decrease is never written back up, the write would be
    ``min(target, shown)``), so it needs no read before the SKU's other positions are written. Its SKU is
    reconciled again when the grace ends (:attr:`ReconcileReport.grace_ends`); that reconcile reads it, and the
    read decides drift if nothing explained it by then.

    Only once a read or a compare-and-set write has confirmed that the channel shows it (:func:`_confirmed`): a
    decrease only a notification reported may be a near-tie that arrived out of order (the sale it shows already
    applied and restocked in the same second). Its own pending decrease keeps its target at what it shows, so
    without that first read it would wait, holding every channel's target one unit down there, until the
    read-back."""
    return (
        level.shown is not None
        and level.shown < level.quantity
        and target >= level.shown
        and level.unexplained_since is not None
        and level.unexplained_since > expires
        and _confirmed(level)
    )


def _confirmed(level: KnownLevel) -> bool:
    """Whether what the channel was last seen showing was seen after its latest notification (a read, or a
    compare-and-set write whose expected value it showed), or no notification was ever recorded."""
    if level.vendor_seen_at is None:
        return True
    return level.shown_at is not None and level.shown_at > level.vendor_seen_at


def _needing_a_read(
    store: Store,
    channel: ChannelRuntime,
    masters: list[str],
    planner: TargetPlanner,
    report: ReconcileReport,
    counted: set[Position],
) -> list[str]:
    """On a channel without compare-and-set, the SKUs worth a read: those where some target differs from what the
    channel is known to show, or where that is unknown or unexplained. A SKU whose every position is known,
    explained and already at its target is left alone (no read, no write): a change at a location this channel
    does not show, or one that leaves its quantity where it was, costs it no API call. A forgotten position (a
    write of unknown outcome since) counts as unknown. Drift is still found by the read-back, which always reads."""
    known = store.known_levels(channel.id, masters)
    shown_here = set(channel.location_ids.values())
    needs_read: list[str] = []
    planned = planned_quantities(store, planner, masters)
    for sku in masters:
        wanted = {
            location_id: quantity
            for (channel_id, location_id), quantity in planned[sku].items()
            if channel_id == channel.id and location_id in shown_here
        }
        if _drop_unknown(sku, wanted, counted, report):
            continue
        levels = {location_id: known.get((sku, location_id)) for location_id in wanted}
        if not wanted or any(
            level is None
            or not level.certain
            or level.unexplained_since is not None
            or level.quantity != wanted[location_id]
            for location_id, level in levels.items()
        ):
            needs_read.append(sku)
            continue
        report.checked += len(wanted)
    return needs_read


async def _write_from_known(
    store: Store,
    channel: ChannelRuntime,
    masters: list[str],
    planner: TargetPlanner,
    report: ReconcileReport,
    horizon: tuple[datetime, datetime],
    counted: set[Position],
    gate: PushGate | None,
    offload: Offload,
) -> list[str]:
    """Write, without reading, every target that differs from what the channel is known to show; the SKUs
    that need the read path (something unknown — never known, or forgotten after a write of unknown outcome — or
    unexplained, or a write the channel refused)."""
    planned = await offload(_plan_from_known, store, channel, masters, planner, report, horizon, counted)
    plan, expect, needs_read, batch_key = planned
    if plan and gate is not None and not await offload(gate.admit, store, channel, plan):
        report.held.extend(write.position for write in plan)
        plan = []
    if plan:
        results = await push_recorded(store, channel, plan, batch_key, expect=expect, report=report, offload=offload)
        report.results += [result for result in results if result.status is not PushStatus.STALE]
        report.unknown += _unknown(plan, results)
        refused = {
            write.position[0] for write, result in zip(plan, results, strict=True) if result.status is PushStatus.STALE
        }
        needs_read.extend(sorted(refused - set(needs_read)))
    return needs_read


def _plan_from_known(
    store: Store,
    channel: ChannelRuntime,
    masters: list[str],
    planner: TargetPlanner,
    report: ReconcileReport,
    horizon: tuple[datetime, datetime],
    counted: set[Position],
) -> tuple[list[PlannedWrite], dict[Position, int | None], list[str], str]:
    """The writes :func:`_write_from_known` makes (with each position's known-level version and their batch
    key) and the SKUs that need the read path."""
    known = store.known_levels(channel.id, masters)
    expect: dict[Position, int | None] = {}
    refs: dict[str, str] = {}
    for ref, location_id in channel.location_ids.items():
        refs.setdefault(location_id, ref)
    batch_key = uuid.uuid4().hex
    plan: list[PlannedWrite] = []
    needs_read: list[str] = []
    planned = planned_quantities(store, planner, masters)
    for sku, channel_sku in zip(masters, channel.channel_skus(masters), strict=True):
        wanted = {
            location_id: quantity
            for (channel_id, location_id), quantity in planned[sku].items()
            if channel_id == channel.id and location_id in refs
        }
        if _drop_unknown(sku, wanted, counted, report):
            continue
        levels = {location_id: known.get((sku, location_id)) for location_id in wanted}
        if not wanted or any(
            level is None
            or not level.certain
            or not (_decidable_unread(level, *horizon) or _waiting_at_target(level, wanted[location_id], horizon[0]))
            for location_id, level in levels.items()
        ):
            needs_read.append(sku)
            continue
        report.checked += len(wanted)
        for location_id, quantity in wanted.items():
            level = known[(sku, location_id)]
            if not _decidable_unread(level, *horizon):
                # waiting at its target: nothing to write there until its grace ends
                assert level.unexplained_since is not None
                report.grace_ends.append(((sku, location_id), (level.unexplained_since - horizon[0]).total_seconds()))
                continue
            if level.unexplained_since is None:
                shown, write, after = level.quantity, quantity, quantity
            else:
                # a decrease its notification reported and nothing has explained yet: never written back up
                assert level.shown is not None
                shown, write = level.shown, min(quantity, max(level.shown, 0))
                after = write + level.quantity - level.shown
                report.waiting.append((sku, location_id))
            if write == shown:
                continue
            target = StockTarget(
                sku=channel_sku,
                location_ref=refs[location_id],
                quantity=write,
                expected=shown,
                reference=batch_key,
                retry_stale=False,
            )
            plan.append(PlannedWrite((sku, location_id), target, after, level.unexplained_since))
            expect[(sku, location_id)] = level.version
    report.differing += len(plan)
    return plan, expect, needs_read, batch_key


def _drop_unknown(sku: str, wanted: dict[str, int], counted: set[Position], report: ReconcileReport) -> bool:
    """Remove the never-counted locations from ``wanted`` (reported); True when nothing is left to write and
    there was something (the SKU needs no read: every target there derives from an unknown position)."""
    unknown = [location_id for location_id in wanted if (sku, location_id) not in counted]
    for location_id in unknown:
        report.skip_unknown((sku, location_id))
        del wanted[location_id]
    return bool(unknown) and not wanted


@dataclass(frozen=True)
class Decision:
    write: int | None
    """The quantity to write (None: write nothing)."""
    known: int
    """What the channel is known (expected) to show, before any write."""
    since: datetime | None
    """When its unexplained change began (None: nothing unexplained)."""


@dataclass(frozen=True)
class PlannedWrite:
    position: Position
    target: StockTarget
    known_after: int
    since: datetime | None


def _decide(
    store: Store,
    channel: ChannelRuntime,
    report: ReconcileReport,
    position: Position,
    level: StockLevel,
    known: KnownLevel | None,
    target: int,
    graces: tuple[timedelta, timedelta],
    now: datetime,
) -> Decision:
    """What to do at ``position`` (see the module docstring)."""
    shown = level.available
    if known is None or shown == known.quantity or (shown == target and shown > known.quantity):
        return Decision(target, shown, None)
    since = known.unexplained_since or now
    raised = shown > known.quantity
    grace = graces[1] if raised and channel.channel.drift == "ledger" else graces[0]
    if now - since < grace:
        report.waiting.append(position)
        # never raise what the channel shows while we wait; for a channel that may win, hold an increase as is
        return Decision(None if raised else min(target, max(shown, 0)), known.quantity, since)
    drift = decide_drift(
        store, channel, position, shown=shown, last_known=known.quantity, target=target, since=since, now=now
    )
    report.drift.append(drift)
    if drift.still_unexplained_since is not None:  # alert only: keep expecting what we knew
        return Decision(drift.write, known.quantity, drift.still_unexplained_since)
    return Decision(drift.write, shown, None)


def _unknown(plan: list[PlannedWrite], results: list[PushResult]) -> list[Position]:
    return [write.position for write, result in zip(plan, results, strict=True) if result.status is PushStatus.UNKNOWN]


def _target(level: StockLevel, quantity: int, batch_key: str) -> StockTarget:
    """The write of ``quantity`` where the channel was read showing ``level``. A refusal is never retried by the
    connector with a fresh compare value: the channel moved since the read, most often a sale whose order is not
    imported yet, and writing over it would lose that sale on the channel while its order, applied later, moves
    what the channel is known to show once more. The engine reconciles the SKU again, after a read."""
    return StockTarget(
        sku=level.sku,
        location_ref=level.location_ref,
        quantity=quantity,
        expected=level.available,
        expected_at=level.observed_at,
        reference=batch_key,
        retry_stale=False,
    )


async def push_recorded(
    store: Store,
    channel: ChannelRuntime,
    plan: list[PlannedWrite],
    batch_key: str,
    *,
    expect: Mapping[Position, int | None] | None = None,
    report: ReconcileReport | None = None,
    offload: Offload = inline,
) -> list[PushResult]:
    """Record ``plan`` in the outbox, send it, then record each outcome and what the channel now shows (the store
    calls through ``offload``).

    With ``expect`` (each position's known-level version before the send) what the channel shows is remembered
    only where the row did not change while the write was in flight; the positions that did are forgotten and
    added to ``report.raced``.

    A write whose outcome is not known — every write of the batch when ``push_levels`` raises, and each result
    ``UNKNOWN`` — is finished ``unknown`` and its position forgotten (the next reconcile there reads first); the
    error is then raised again, for the caller to back the channel off.
    """
    ids = await offload(
        store.record_pushes,
        [
            OutboxItem(
                id=0,
                channel=channel.id,
                batch_key=batch_key,
                sku=write.position[0],
                channel_sku=write.target.sku,
                location_id=write.position[1],
                location_ref=write.target.location_ref,
                quantity=write.target.quantity,
                expected=write.target.expected,
                expected_at=write.target.expected_at,
                status="pending",
            )
            for write in plan
        ],
    )
    sent_at = store.now()  # the channel cannot have applied these writes before: they show from here on
    try:
        results = await channel.connector.push_levels([write.target for write in plan])
    except Exception as exc:
        outcome = (PushStatus.UNKNOWN.value, f"the batch failed, part of it may have landed: {exc}")
        forget = [write.position for write in plan]
        await offload(store.settle_pushes, channel.id, dict.fromkeys(ids, outcome), forget=forget)
        raise
    outcomes: dict[int, tuple[str, str | None]] = {}
    shown: dict[Position, LevelNote] = {}
    unknown: list[Position] = []
    for outbox_id, write, result in zip(ids, plan, results, strict=True):
        outcomes[outbox_id] = (result.status.value, result.message or None)
        if result.status in (PushStatus.APPLIED, PushStatus.UNCHANGED):
            landed = result.shown if result.shown is not None else write.target.quantity
            known = landed + write.known_after - write.target.quantity
            shown[write.position] = LevelNote(known, "pushed", write.since, landed, sent_at)
        elif result.status is PushStatus.UNKNOWN:
            unknown.append(write.position)
    guard = {position: version for position, version in (expect or {}).items() if position in shown}
    raced = await offload(
        store.settle_pushes, channel.id, outcomes, remember=shown, forget=unknown, expect=guard or None
    )
    if raced and report is not None:
        report.raced.extend(sorted(raced))
    return results


def resume_pushes(store: Store, channel: ChannelRuntime) -> list[OutboxItem]:
    """Re-plan, never replay, the writes a previous process recorded but never finished: each is finished
    ``abandoned`` (not sent: an absolute quantity recorded before a stop may be wrong by now) and its position
    forgotten, so the next reconcile there reads first. Returns them; their SKUs (``OutboxItem.sku``, master SKUs)
    are to be reconciled from the ledger as it is now."""
    return store.abandon_pushes(channel.id)
