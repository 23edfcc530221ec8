"""Propagation state: what each channel shows, the push outbox and the incident log.

* ``channel_levels`` is the engine's memory of each channel: the quantity it was last seen showing (``read``) or
  made to show (``pushed``). A read that differs from it is a change the channel made by itself. After a write
  whose outcome is not known (a batch that failed halfway, a write a stopped process left pending) the position
  is *forgotten* (source ``unknown``, :func:`forget_levels`): its numbers are kept — an unexplained decrease
  the channel made before still counts in :func:`pending_decreases` — but they are not trusted until a read.
  ``vendor_seen_at`` is the latest time the *vendor* stamped on a level it reported there (stock
  notifications); ``shown_at`` may be our own clock (a write, when it was sent; a read), so only
  ``vendor_seen_at`` decides that a notification is older than what is known (:func:`observe_level`), except an
  increase stamped well before ``shown_at``: the echo of an earlier write of ours. ``basis_at`` is the time of the
  read a known level was last taken from in place of something else: the channel's own events before it are
  already in it, so they do not move it when they arrive (:func:`shift_known_level`).
* ``push_outbox`` records every write (``pending``) in its own transaction *before* it is sent, with the batch key
  it is sent under (connectors derive their vendor idempotency keys from it, so the HTTP client's retries of a
  call are recognised); the outcome is recorded after: ``applied``, ``unchanged``, ``stale``, ``unknown_sku``,
  ``failed``, ``unknown`` (it may or may not have landed) or ``abandoned``. A process that stops in between
  leaves it ``pending``; the next process never sends it again (an absolute quantity recorded minutes ago may be
  wrong now): :func:`abandon_pushes` finishes it ``abandoned`` and forgets its position, and the engine
  re-plans that SKU from the ledger after a read.
* ``incidents`` records every decision of the conflict resolver, once (unique ``dedupe_key``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from omnibridge.store.sql import insert_ignore
from omnibridge.store.tables import CHANNEL_LEVELS, INCIDENTS, OUTBOX

LevelKey = tuple[str, str]
"""(master SKU, profile location id)."""

UNKNOWN_SOURCE = "unknown"
"""The ``source`` of a known level that is not trusted until a read (see :func:`forget_levels`)."""
VENDOR_TIE = timedelta(seconds=2)
"""Two vendor times closer than this are a near-tie: which level came last is not known (second-precision
stamps, several vendor servers), so neither supersedes the other."""


@dataclass(frozen=True, slots=True)
class KnownLevel:
    """What a channel is known (expected) to show at one position, and what it was last seen showing."""

    quantity: int
    source: str
    updated_at: datetime
    unexplained_since: datetime | None = None
    shown: int | None = None
    shown_at: datetime | None = None
    vendor_seen_at: datetime | None = None
    """The latest vendor time of a level the channel reported here (None: none reported)."""
    version: int = 0
    """Bumped whenever what the channel is known to show changes (its own events applied, a write or read
    remembered, a position forgotten), not by a level it reports (:func:`observe_level`): see
    :func:`remember_levels`' ``expect``."""
    basis_at: datetime | None = None
    """``quantity`` already includes the channel's own events up to this time (None: not known to): see
    :func:`shift_known_level`."""

    @property
    def certain(self) -> bool:
        """False once forgotten (a write of unknown outcome since): only a read says what the channel shows."""
        return self.source != UNKNOWN_SOURCE

    @property
    def pending_decrease(self) -> int:
        """Units the channel took by itself that nothing explains yet (``quantity - shown`` while unexplained)."""
        if self.unexplained_since is None or self.shown is None or self.shown >= self.quantity:
            return 0
        return self.quantity - self.shown


@dataclass(frozen=True, slots=True)
class LevelNote:
    """What to remember of one position: the expected quantity, where it came from, since when a difference is
    unexplained, and what the channel was seen showing."""

    known: int
    source: str
    unexplained_since: datetime | None
    shown: int
    shown_at: datetime | None = None
    """When the channel showed it (None: now)."""
    basis_at: datetime | None = None
    """Set when ``known`` is taken from a read that replaced what was known: the channel's own events up to this
    time are in it (None: keep the row's, see :func:`shift_known_level`)."""


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One recorded stock write."""

    id: int
    channel: str
    batch_key: str
    sku: str
    channel_sku: str
    location_id: str
    location_ref: str
    quantity: int
    expected: int | None
    expected_at: datetime | None
    status: str
    message: str | None = None


@dataclass(frozen=True, slots=True)
class Incident:
    """One decision of the conflict resolver."""

    kind: str
    decision: str
    summary: str
    dedupe_key: str
    channel: str | None = None
    sku: str | None = None
    location_id: str | None = None
    order_id: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    id: int | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: str | None = None


# -- channel levels -------------------------------------------------------------------------------------------


def known_levels(session: Session, channel: str, skus: Iterable[str]) -> dict[LevelKey, KnownLevel]:
    wanted = sorted(set(skus))
    found: dict[LevelKey, KnownLevel] = {}
    for start in range(0, len(wanted), 500):
        rows = session.execute(
            sa.select(CHANNEL_LEVELS).where(
                CHANNEL_LEVELS.c.channel == channel, CHANNEL_LEVELS.c.sku.in_(wanted[start : start + 500])
            )
        ).mappings()
        for row in rows:
            found[(row["sku"], row["location_id"])] = KnownLevel(
                row["quantity"],
                row["source"],
                row["updated_at"],
                row["unexplained_since"],
                row["shown"],
                row["shown_at"],
                row["vendor_seen_at"],
                row["version"],
                row["basis_at"],
            )
    return found


def stocked_positions(session: Session, channel: str) -> int:
    """How many positions ``channel`` was last seen showing above 0 (what it is known to show where never seen)."""
    shown = sa.func.coalesce(CHANNEL_LEVELS.c.shown, CHANNEL_LEVELS.c.quantity)
    query = sa.select(sa.func.count()).where(CHANNEL_LEVELS.c.channel == channel, shown > 0)
    return int(session.execute(query).scalar_one())


def remember_levels(
    session: Session,
    channel: str,
    levels: Mapping[LevelKey, LevelNote],
    now: datetime,
    *,
    expect: Mapping[LevelKey, int | None] | None = None,
) -> set[LevelKey]:
    """Upsert what ``channel`` is known to show and was seen showing at each position.

    ``expect`` makes it a compare-and-set per position: ``key -> version`` read before (None: there was no row).
    A position whose known level changed since (the channel's own events applied meanwhile,
    :func:`shift_known_level`; another write or a forget) is not written over but forgotten (read before it is
    trusted again); those positions are returned, for the caller to reconcile them again. A level the channel
    reported meanwhile (:func:`observe_level`) does not count: most often it is the echo of this very write, and
    the write's outcome, remembered over it, is what settles it (as when the echo arrives after)."""
    if not levels:
        return set()
    raced: set[LevelKey] = set()
    if expect:
        raced = _compare_and_set(session, channel, {key: levels[key] for key in expect if key in levels}, expect, now)
        levels = {key: note for key, note in levels.items() if key not in expect}
        forget_levels(session, channel, raced, now)
        if not levels:
            return raced
    keys = list(levels)
    existing = {
        (row.sku, row.location_id)
        for row in session.execute(
            sa.select(CHANNEL_LEVELS.c.sku, CHANNEL_LEVELS.c.location_id).where(
                CHANNEL_LEVELS.c.channel == channel, CHANNEL_LEVELS.c.sku.in_({sku for sku, _ in keys})
            )
        )
    }
    inserts = [_level_row(channel, key, note, now) for key, note in levels.items() if key not in existing]
    if inserts:
        session.execute(sa.insert(CHANNEL_LEVELS), inserts)
    updates = [_set_values(_level_row(channel, key, note, now)) for key, note in levels.items() if key in existing]
    if updates:
        session.connection().execute(_SET_LEVEL, updates)
    return raced


def _compare_and_set(
    session: Session,
    channel: str,
    levels: Mapping[LevelKey, LevelNote],
    expect: Mapping[LevelKey, int | None],
    now: datetime,
) -> set[LevelKey]:
    """Write each of ``levels`` only over the version of its row in ``expect``; the positions that changed."""
    raced: set[LevelKey] = set()
    for key, note in sorted(levels.items()):
        row = _level_row(channel, key, note, now)
        version = expect[key]
        if version is None:
            if insert_ignore(session, CHANNEL_LEVELS, row):
                continue
            raced.add(key)
            continue
        result = session.connection().execute(_SET_OVER_VERSION, _set_values(row) | {"c_version": version})
        if getattr(result, "rowcount", 0) != 1:
            raced.add(key)
    return raced


def _keep_basis(new: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """A remembered level's basis: the note's, else the row's (a write or a confirming read keeps it)."""
    return sa.func.coalesce(new, CHANNEL_LEVELS.c.basis_at)


def _typed(column: sa.Column[Any]) -> sa.BindParameter[Any]:
    return sa.bindparam(f"c_{column.name}", type_=column.type)


def _set_values(row: Mapping[str, Any]) -> dict[str, Any]:
    """A :func:`_level_row` as the parameters of :data:`_SET_LEVEL`."""
    return {f"c_{name}": value for name, value in row.items()}


# One position of CHANNEL_LEVELS, as bind parameters named like _set_values names a row's columns; every statement
# built once below filters on it (_position_parameters gives its values).
_AT_POSITION = (
    CHANNEL_LEVELS.c.channel == sa.bindparam("c_channel"),
    CHANNEL_LEVELS.c.sku == sa.bindparam("c_sku"),
    CHANNEL_LEVELS.c.location_id == sa.bindparam("c_location_id"),
)


def _position_parameters(channel: str, key: LevelKey) -> dict[str, str]:
    return {"c_channel": channel, "c_sku": key[0], "c_location_id": key[1]}


# remember_levels writes one row per position of every write and read: the statements are built once. A level
# remembered keeps the row's basis unless it brings one (a write or a confirming read keeps it).
_SET_LEVEL = (
    sa.update(CHANNEL_LEVELS)
    .where(*_AT_POSITION)
    .values(
        {
            **{
                name: _typed(CHANNEL_LEVELS.c[name])
                for name in ("quantity", "source", "updated_at", "shown", "shown_at", "unexplained_since")
            },
            "basis_at": _keep_basis(_typed(CHANNEL_LEVELS.c.basis_at)),
            "version": CHANNEL_LEVELS.c.version + 1,
        }
    )
)
_SET_OVER_VERSION = _SET_LEVEL.where(CHANNEL_LEVELS.c.version == sa.bindparam("c_version"))


def observe_level(
    session: Session,
    channel: str,
    key: LevelKey,
    shown: int,
    observed_at: datetime,
    now: datetime,
    *,
    tie: timedelta = VENDOR_TIE,
) -> bool:
    """Record that ``channel`` showed ``shown`` at ``key`` at ``observed_at`` (the vendor's time of a stock
    notification); True when that is what it is known to show (or nothing was known: first sight), False when
    the difference is unexplained (from now, if not already).

    ``observed_at`` is compared only with vendor times (``vendor_seen_at``), never with our clock: a notification
    stamped more than ``tie`` before the latest vendor time recorded is superseded (True, nothing changes). One
    within ``tie`` of it either way is a near-tie — which came last is not known — and is never trusted as
    explained: unless it and the row both agree with what the channel is known to show, the position is marked
    unexplained (False) so that a read settles it. A position forgotten after a write of unknown outcome is not
    compared at all: False, a read settles it.

    An *increase* stamped more than ``tie`` before ``shown_at`` — when our acknowledged write was sent, or the
    read the level came from was made — is superseded too (True, nothing changes): the channel showed what it is
    known to show after it. Most often it is the echo of an earlier write of ours arriving after a later one
    (990 written, a sale, 989 written, then the 990 echo); counted, it sent the position through the read path.
    A later increase (a restock on the channel after our write) is stamped after it, or within ``tie``: compared
    with K as before.
    """
    connection = session.connection()
    at = _position_parameters(channel, key)
    row = connection.execute(_LEVEL_OBSERVED, {**at, "o_shown": shown}).first()
    if row is None:
        note = LevelNote(shown, "read", None, shown, observed_at, basis_at=observed_at)
        session.execute(
            sa.insert(CHANNEL_LEVELS), [{**_level_row(channel, key, note, now), "vendor_seen_at": observed_at}]
        )
        return True
    if row.source == UNKNOWN_SOURCE:
        return False
    seen = _aware(row.vendor_seen_at) if row.vendor_seen_at is not None else None
    if seen is not None and observed_at < seen - tie:
        return True  # superseded: the vendor itself reported a later level
    explained = bool(row.echo) if row.in_flight else bool(row.quantity == shown)
    if not explained and shown > row.quantity and row.shown_at is not None and observed_at < _aware(row.shown_at) - tie:
        return True  # an increase older than what we know the channel showed since: superseded
    seen_now = {**at, "o_shown": shown, "o_at": observed_at, "o_now": now}
    if seen is not None and abs(observed_at - seen) <= tie:
        if explained and row.unexplained_since is None:
            return True
        connection.execute(_SEEN_UNEXPLAINED if observed_at >= seen else _TIE_UNEXPLAINED, seen_now)
        return False
    connection.execute(_SEEN_EXPLAINED if explained else _SEEN_UNEXPLAINED, seen_now)
    return explained


# observe_level runs for every stock notification: its statements are built once (SQLAlchemy compiles each once).
_L = CHANNEL_LEVELS.c
# While a write to the position is in flight (recorded, outcome not yet remembered), a notification is explained only
# when it shows what such a write set: the vendor's echo of our own write, arriving before the write's outcome is
# remembered (were it compared with the level known before the write, the echo of a decrease would read as units the
# channel took by itself, and every other channel would be written that many units lower). Any other level, even the
# one known before the write, is unexplained: it may be a change made on the channel just after our write landed,
# which the write's outcome, remembered over it, would otherwise hide until the next read-back.
_IN_FLIGHT = sa.select(OUTBOX.c.id).where(
    OUTBOX.c.channel == sa.bindparam("c_channel"),
    OUTBOX.c.sku == sa.bindparam("c_sku"),
    OUTBOX.c.location_id == sa.bindparam("c_location_id"),
    OUTBOX.c.status == "pending",
)
_LEVEL_OBSERVED = sa.select(
    _L.quantity,
    _L.source,
    _L.unexplained_since,
    _L.vendor_seen_at,
    _L.shown_at,
    _IN_FLIGHT.exists().label("in_flight"),
    _IN_FLIGHT.where(OUTBOX.c.quantity == sa.bindparam("o_shown")).exists().label("echo"),
).where(*_AT_POSITION)
_UNEXPLAINED_FROM_NOW = sa.func.coalesce(_L.unexplained_since, sa.bindparam("o_now", type_=_L.unexplained_since.type))
_OBSERVED_AT = sa.bindparam("o_at", type_=_L.shown_at.type)
_SHOWN_NOW = {
    "shown": sa.bindparam("o_shown", type_=_L.shown.type),
    "shown_at": _OBSERVED_AT,
    "vendor_seen_at": _OBSERVED_AT,
}
_TIE_UNEXPLAINED = sa.update(CHANNEL_LEVELS).where(*_AT_POSITION).values(unexplained_since=_UNEXPLAINED_FROM_NOW)
_SEEN_EXPLAINED = sa.update(CHANNEL_LEVELS).where(*_AT_POSITION).values(**_SHOWN_NOW, unexplained_since=sa.null())
_SEEN_UNEXPLAINED = _TIE_UNEXPLAINED.values(**_SHOWN_NOW)


def forget_levels(session: Session, channel: str, keys: Iterable[LevelKey], now: datetime) -> None:
    """Stop trusting what ``channel`` is known to show at ``keys`` (a write there may or may not have landed):
    their rows keep their numbers but read as not :attr:`KnownLevel.certain` until the next read replaces them.
    A position with no row is unknown already."""
    by_sku: dict[str, set[str]] = {}
    for sku, location_id in keys:
        by_sku.setdefault(sku, set()).add(location_id)
    for sku, location_ids in sorted(by_sku.items()):
        session.execute(
            sa.update(CHANNEL_LEVELS)
            .where(
                CHANNEL_LEVELS.c.channel == channel,
                CHANNEL_LEVELS.c.sku == sku,
                CHANNEL_LEVELS.c.location_id.in_(sorted(location_ids)),
            )
            .values(source=UNKNOWN_SOURCE, updated_at=now, version=CHANNEL_LEVELS.c.version + 1)
        )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def pending_decreases(session: Session, skus: Iterable[str]) -> dict[LevelKey, int]:
    """Units channels took by themselves and omnibridge has not imported yet (their committed counts), per
    position: what each channel is known to show minus the lower number it was seen showing, summed."""
    wanted = sorted(set(skus))
    found: dict[LevelKey, int] = {}
    for start in range(0, len(wanted), 500):
        rows = session.execute(
            sa.select(
                CHANNEL_LEVELS.c.sku,
                CHANNEL_LEVELS.c.location_id,
                sa.func.sum(CHANNEL_LEVELS.c.quantity - CHANNEL_LEVELS.c.shown),
            )
            .where(
                CHANNEL_LEVELS.c.sku.in_(wanted[start : start + 500]),
                CHANNEL_LEVELS.c.unexplained_since.is_not(None),
                CHANNEL_LEVELS.c.shown < CHANNEL_LEVELS.c.quantity,
            )
            .group_by(CHANNEL_LEVELS.c.sku, CHANNEL_LEVELS.c.location_id)
        )
        for sku, location_id, units in rows:
            found[(sku, location_id)] = int(units)
    return found


def shift_known_level(
    session: Session,
    channel: str,
    key: LevelKey,
    delta: int,
    now: datetime,
    *,
    occurred_at: datetime | None = None,
    tie: timedelta = VENDOR_TIE,
) -> None:
    """Move what ``channel`` is known to show at ``key`` by ``delta``: the channel's own event (a sale, a
    cancellation, a count) that happened at ``occurred_at`` (the vendor's time) was applied. No row: nothing is
    known, nothing moves.

    A known level taken from a read (``basis_at``, see :class:`LevelNote`) already includes what the channel did
    before that read, whether or not its events had arrived: an event that happened more than ``tie`` before the
    basis does not move it again (it would count one sale twice: the channel would show more than is known). One
    within ``tie`` of it either way may or may not be in the read: it moves the level and forgets it (source
    ``unknown``), so the next reconcile there reads before it trusts or writes, and takes what it reads as it is:
    an unexplained decrease recorded there is dropped with it (a notification stamped before a write of ours can
    arrive after it; kept, it would be added on top of that read and hold every channel's target down at that
    location for the whole drift grace). An event without a time always moves it."""
    if not delta:
        return
    parameters: dict[str, Any] = {
        "p_channel": channel,
        "p_sku": key[0],
        "p_location": key[1],
        "p_delta": delta,
        "p_now": now,
        # never before a basis when no time is given: the tie window then matches nothing
        "p_late": None if occurred_at is None else occurred_at + tie,
        "p_early": None if occurred_at is None else occurred_at - tie,
    }
    session.connection().execute(_SHIFT_KNOWN, parameters)


_LEVEL = CHANNEL_LEVELS.c
_LATE = sa.bindparam("p_late", type_=_LEVEL.basis_at.type)
_EARLY = sa.bindparam("p_early", type_=_LEVEL.basis_at.type)
_NEAR_BASIS = sa.and_(_LEVEL.basis_at.is_not(None), _EARLY.is_not(None), _LEVEL.basis_at >= _EARLY)
_SHIFT_KNOWN = (
    sa.update(CHANNEL_LEVELS)
    .where(
        _LEVEL.channel == sa.bindparam("p_channel"),
        _LEVEL.sku == sa.bindparam("p_sku"),
        _LEVEL.location_id == sa.bindparam("p_location"),
        # an event well before the read the level was taken from is already in it
        sa.not_(sa.and_(_LEVEL.basis_at.is_not(None), _LATE.is_not(None), _LEVEL.basis_at > _LATE)),
    )
    .values(
        quantity=_LEVEL.quantity + sa.bindparam("p_delta"),
        version=_LEVEL.version + 1,
        updated_at=sa.bindparam("p_now", type_=_LEVEL.updated_at.type),
        # the channel's own activity arriving explains what it was seen showing; a level forgotten near its basis
        # keeps no unexplained decrease either (see shift_known_level)
        unexplained_since=sa.case(
            (_LEVEL.quantity + sa.bindparam("p_delta") == _LEVEL.shown, None),
            (_NEAR_BASIS, None),
            else_=_LEVEL.unexplained_since,
        ),
        source=sa.case((_NEAR_BASIS, UNKNOWN_SOURCE), else_=_LEVEL.source),
    )
)
"""Built once with bind parameters, like the ledger's hot statements."""


def _level_row(channel: str, key: LevelKey, note: LevelNote, now: datetime) -> dict[str, Any]:
    return {
        "channel": channel,
        "sku": key[0],
        "location_id": key[1],
        "quantity": note.known,
        "source": note.source,
        "updated_at": now,
        "shown": note.shown,
        "shown_at": note.shown_at or now,
        "unexplained_since": note.unexplained_since,
        "basis_at": note.basis_at,
    }


# -- outbox ---------------------------------------------------------------------------------------------------


def record_pushes(session: Session, items: Sequence[OutboxItem], now: datetime) -> list[int]:
    """Insert ``items`` as pending; their ids, in order."""
    if not items:
        return []
    rows = [
        {
            "channel": item.channel,
            "batch_key": item.batch_key,
            "sku": item.sku,
            "channel_sku": item.channel_sku,
            "location_id": item.location_id,
            "location_ref": item.location_ref,
            "quantity": item.quantity,
            "expected": item.expected,
            "expected_at": item.expected_at,
            "status": "pending",
            "created_at": now,
        }
        for item in items
    ]
    return [int(outbox_id) for outbox_id in session.connection().execute(_RECORD_PUSHES, rows).scalars()]


def finish_pushes(session: Session, outcomes: Mapping[int, tuple[str, str | None]], now: datetime) -> None:
    """Record each pushed item's outcome: ``id -> (status, message)``."""
    if not outcomes:
        return
    session.connection().execute(
        _FINISH_PUSH,
        [
            {"k_id": key, "k_status": status, "k_message": message, "k_now": now}
            for key, (status, message) in outcomes.items()
        ],
    )


# Every write is recorded before it is sent and finished after: both statements are built once.
_RECORD_PUSHES = sa.insert(OUTBOX).returning(OUTBOX.c.id, sort_by_parameter_order=True)
_FINISH_PUSH = (
    sa.update(OUTBOX)
    .where(OUTBOX.c.id == sa.bindparam("k_id"))
    .values(
        status=sa.bindparam("k_status"),
        message=sa.bindparam("k_message"),
        finished_at=sa.bindparam("k_now", type_=OUTBOX.c.finished_at.type),
    )
)


def abandon_pushes(session: Session, channel: str, now: datetime) -> list[OutboxItem]:
    """Finish every ``pending`` write of ``channel`` as ``abandoned`` (never to be sent again) and forget what the
    channel is known to show at their positions; the writes, as they were recorded."""
    items = pending_pushes(session, channel)
    if items:
        message = "left pending by a process that stopped; not sent again: the position is re-read and re-planned"
        finish_pushes(session, {item.id: ("abandoned", message) for item in items}, now)
        forget_levels(session, channel, {(item.sku, item.location_id) for item in items}, now)
    return items


def pending_pushes(session: Session, channel: str | None = None) -> list[OutboxItem]:
    query = sa.select(OUTBOX).where(OUTBOX.c.status == "pending").order_by(OUTBOX.c.id)
    if channel is not None:
        query = query.where(OUTBOX.c.channel == channel)
    return [
        OutboxItem(
            id=row["id"],
            channel=row["channel"],
            batch_key=row["batch_key"],
            sku=row["sku"],
            channel_sku=row["channel_sku"],
            location_id=row["location_id"],
            location_ref=row["location_ref"],
            quantity=row["quantity"],
            expected=row["expected"],
            expected_at=row["expected_at"],
            status=row["status"],
            message=row["message"],
        )
        for row in session.execute(query).mappings()
    ]


def push_counts(session: Session) -> dict[tuple[str, str], int]:
    """``(channel, status) -> count`` over the whole outbox."""
    rows = session.execute(
        sa.select(OUTBOX.c.channel, OUTBOX.c.status, sa.func.count()).group_by(OUTBOX.c.channel, OUTBOX.c.status)
    )
    return {(channel, status): count for channel, status, count in rows}


# -- incidents ------------------------------------------------------------------------------------------------


def add_incident(session: Session, incident: Incident, now: datetime) -> bool:
    """Record ``incident`` unless one with its ``dedupe_key`` exists; True if it was new."""
    return insert_ignore(
        session,
        INCIDENTS,
        {
            "dedupe_key": incident.dedupe_key,
            "kind": incident.kind,
            "decision": incident.decision,
            "channel": incident.channel,
            "sku": incident.sku,
            "location_id": incident.location_id,
            "order_id": incident.order_id,
            "summary": incident.summary,
            "data": dict(incident.data),
            "created_at": now,
        },
    )


def incidents(
    session: Session,
    *,
    kind: str | None = None,
    sku: str | None = None,
    order_id: str | None = None,
    limit: int = 500,
    resolved: bool | None = None,
) -> list[Incident]:
    query = sa.select(INCIDENTS).order_by(INCIDENTS.c.id).limit(limit)
    if resolved is not None:
        query = query.where(INCIDENTS.c.resolved_at.is_not(None) if resolved else INCIDENTS.c.resolved_at.is_(None))
    if order_id is not None:
        query = query.where(INCIDENTS.c.order_id == order_id)
    if kind is not None:
        query = query.where(INCIDENTS.c.kind == kind)
    if sku is not None:
        query = query.where(INCIDENTS.c.sku == sku)
    return [
        Incident(
            kind=row["kind"],
            decision=row["decision"],
            summary=row["summary"],
            dedupe_key=row["dedupe_key"],
            channel=row["channel"],
            sku=row["sku"],
            location_id=row["location_id"],
            order_id=row["order_id"],
            data=row["data"],
            created_at=row["created_at"],
            id=row["id"],
            resolved_at=row["resolved_at"],
            resolved_by=row["resolved_by"],
            resolution=row["resolution"],
        )
        for row in session.execute(query).mappings()
    ]


def incident_counts(session: Session) -> dict[str, int]:
    rows = session.execute(sa.select(INCIDENTS.c.kind, sa.func.count()).group_by(INCIDENTS.c.kind))
    return {kind: count for kind, count in rows}
