"""The daemon's schedule: APScheduler ticks that only *enqueue* work for the single consumer.

The sync engine runs in one event loop and is not re-entrant, so a scheduled job never touches it: each tick
puts a :class:`Job` in the :class:`JobQueue`, and the daemon's worker (:mod:`omnibridge.daemon.worker`) runs
queued jobs one at a time, between inbox passes. The queue holds at most one item per job key: a tick that
finds its job still queued (the worker is busy with a long read-back) is coalesced into it, so a slow pass never
builds a backlog of identical work.

Jobs (see docs/operations.md):

* ``readback`` every ``readback_minutes`` — ``engine.sync_once()``: pull every channel, reconcile every SKU;
* ``poll`` every ``poll_seconds``, one per channel *without* the ``webhooks`` capability — pull it, then flush
  (a file feed's inbox folder is read this way);
* ``export`` every ``poll_seconds``, one per channel that takes export files (a file feed) — write the orders and
  shipments changed since its last export (:mod:`omnibridge.sync.file_exports`);
* ``expire_reservations`` every minute — release pickup holds whose time ran out, through the ledger, once each
  (:mod:`omnibridge.pickup.expiry`; :func:`omnibridge.daemon.jobs.expire_reservations`);
* ``verify`` every ``verify_minutes`` — the ledger's consistency check (:mod:`omnibridge.ledger.verify`); each
  inconsistency is logged and recorded once as an incident (kind ``verify``);
* ``fulfilment`` every ``fulfilment_seconds`` (when the daemon has a dispatcher) — one pass of the fulfilment
  dispatcher (:meth:`omnibridge.fulfilment.dispatcher.Dispatcher.run_once`): assign, submit, confirm, re-route;
* ``privacy_purge`` every ``purge_minutes`` — remove raw webhook bodies and personal data past the profile's
  retention (:mod:`omnibridge.store.retention`);
* ``tracking_refresh`` every ``tracking_minutes``, one per carrier channel — refresh the tracking of its shipments
  not yet delivered or cancelled (:meth:`omnibridge.shipping.runtime.CarrierRuntime.refresh_tracking`);
* ``privacy_requests`` every ``privacy_minutes`` (when set) — act on open data-subject requests forwarded by
  channels (:mod:`omnibridge.customers.requests`);
* ``warehouse_export`` every ``warehouse_minutes`` (when the profile's ``warehouse:`` names a folder) — write the
  rows changed since the last export as Parquet (:mod:`omnibridge.warehouse.export`).

APScheduler 3.x (``AsyncIOScheduler``) drives the ticks with ``coalesce=True`` (missed ticks run once) and
``max_instances=1``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from omnibridge.sdk.metadata import Capability

if TYPE_CHECKING:
    from omnibridge.sync import ChannelRuntime

__all__ = [
    "EXPIRE_RESERVATIONS",
    "EXPORT",
    "FULFILMENT",
    "POLL",
    "PRIVACY",
    "PRIVACY_PURGE",
    "READBACK",
    "RESOLVE_LOCATIONS",
    "TRACKING_REFRESH",
    "VERIFY",
    "WAREHOUSE_EXPORT",
    "Job",
    "JobQueue",
    "ScheduleOptions",
    "build_scheduler",
    "exported_channels",
    "job_intervals",
    "polled_channels",
]

READBACK = "readback"
POLL = "poll"
EXPIRE_RESERVATIONS = "expire_reservations"
PRIVACY_PURGE = "privacy_purge"
RESOLVE_LOCATIONS = "resolve_locations"
TRACKING_REFRESH = "tracking_refresh"
EXPORT = "export"
VERIFY = "verify"
FULFILMENT = "fulfilment"
PRIVACY = "privacy_requests"
WAREHOUSE_EXPORT = "warehouse_export"


@dataclass(frozen=True)
class Job:
    """One unit of queued work: a job kind and, for per-channel jobs, the channel id."""

    kind: str
    channel: str | None = None

    @property
    def key(self) -> str:
        return self.kind if self.channel is None else f"{self.kind}:{self.channel}"


class JobQueue:
    """FIFO of jobs, at most one per :attr:`Job.key`.

    ``on_enqueue`` is called after a job is added (the worker uses it to wake up); ``on_coalesced`` after a
    job was refused because the same key was already queued.
    """

    def __init__(
        self,
        *,
        on_enqueue: Callable[[Job], None] | None = None,
        on_coalesced: Callable[[Job], None] | None = None,
    ) -> None:
        self._items: OrderedDict[str, Job] = OrderedDict()
        self._on_enqueue = on_enqueue
        self._on_coalesced = on_coalesced

    def enqueue(self, job: Job) -> bool:
        """Queue ``job``; False (and nothing queued) when a job with the same key is already waiting."""
        if job.key in self._items:
            if self._on_coalesced is not None:
                self._on_coalesced(job)
            return False
        self._items[job.key] = job
        if self._on_enqueue is not None:
            self._on_enqueue(job)
        return True

    def pop(self) -> Job | None:
        """The oldest queued job, removed from the queue; None when empty."""
        if not self._items:
            return None
        _, job = self._items.popitem(last=False)
        return job

    def __len__(self) -> int:
        return len(self._items)

    def waiting(self) -> list[str]:
        """The keys of the queued jobs, oldest first."""
        return list(self._items)


@dataclass(frozen=True)
class ScheduleOptions:
    poll_seconds: float = 60.0
    readback_minutes: float = 15.0
    expire_seconds: float = 60.0
    tracking_minutes: float = 30.0
    verify_minutes: float = 60.0
    fulfilment_seconds: float = 5.0
    purge_minutes: float = 60.0
    privacy_minutes: float | None = None
    """Act on open privacy requests this often (None: not scheduled)."""
    warehouse_minutes: float | None = None
    """Export to the warehouse folder this often (None: not scheduled)."""


def polled_channels(channels: Iterable[ChannelRuntime]) -> list[str]:
    """Ids of the channels that do not push webhooks and therefore are polled."""
    return sorted(channel.id for channel in channels if not channel.can(Capability.WEBHOOKS))


def exported_channels(channels: Iterable[ChannelRuntime]) -> list[str]:
    """Ids of the stock-source channels whose connector takes export files (a file feed's outbox)."""
    from omnibridge.sync.file_exports import ExportSink  # the sync package is loaded by the daemon, not here

    return sorted(
        channel.id for channel in channels if channel.stock_source and isinstance(channel.connector, ExportSink)
    )


def job_intervals(
    channels: Iterable[ChannelRuntime],
    options: ScheduleOptions,
    *,
    carriers: Iterable[str] = (),
    fulfilment: bool = False,
) -> dict[Job, float]:
    """Every scheduled job (see the module docstring) with its interval in seconds, in the schedule's order: a poll
    and an export per channel that needs one, a ``tracking_refresh`` per channel of ``carriers``, ``fulfilment`` when
    ``fulfilment``, the privacy and warehouse jobs when their options are set. The single daemon's
    :func:`build_scheduler` and the replicas' periodic ticks (:mod:`omnibridge.replicas.tasks`) both run these."""
    jobs: dict[Job, float] = {Job(READBACK): timedelta(minutes=options.readback_minutes).total_seconds()}
    live = list(channels)
    jobs.update({Job(POLL, channel_id): options.poll_seconds for channel_id in polled_channels(live)})
    jobs.update({Job(EXPORT, channel_id): options.poll_seconds for channel_id in exported_channels(live)})
    jobs[Job(EXPIRE_RESERVATIONS)] = options.expire_seconds
    jobs[Job(VERIFY)] = timedelta(minutes=options.verify_minutes).total_seconds()
    jobs[Job(PRIVACY_PURGE)] = timedelta(minutes=options.purge_minutes).total_seconds()
    tracking = timedelta(minutes=options.tracking_minutes).total_seconds()
    jobs.update({Job(TRACKING_REFRESH, channel_id): tracking for channel_id in sorted(carriers)})
    if fulfilment:
        jobs[Job(FULFILMENT)] = options.fulfilment_seconds
    if options.privacy_minutes:
        jobs[Job(PRIVACY)] = timedelta(minutes=options.privacy_minutes).total_seconds()
    if options.warehouse_minutes:
        jobs[Job(WAREHOUSE_EXPORT)] = timedelta(minutes=options.warehouse_minutes).total_seconds()
    return jobs


async def _enqueue(queue: JobQueue, kind: str, channel: str | None) -> None:
    queue.enqueue(Job(kind, channel))


def build_scheduler(
    queue: JobQueue,
    channels: Iterable[ChannelRuntime],
    options: ScheduleOptions,
    *,
    carriers: Iterable[str] = (),
    fulfilment: bool = False,
    **scheduler_kwargs: Any,
) -> AsyncIOScheduler:
    """An (unstarted) scheduler whose jobs (:func:`job_intervals`) put :class:`Job` items in ``queue`` and do nothing
    else.

    Job ids are the job keys (``readback``, ``poll:<channel>``, ``export:<channel>``, ``expire_reservations``,
    ``tracking_refresh:<carrier channel>`` for each of ``carriers``, ``fulfilment`` when ``fulfilment``). The first
    tick of each job comes one interval after :meth:`AsyncIOScheduler.start` (the daemon runs its own catch-up
    read-back at start-up). ``scheduler_kwargs`` go to the scheduler (``event_loop``, ``timezone``, default UTC).
    """
    scheduler_kwargs.setdefault("timezone", UTC)
    scheduler = AsyncIOScheduler(**scheduler_kwargs)
    for job, seconds in job_intervals(channels, options, carriers=carriers, fulfilment=fulfilment).items():
        scheduler.add_job(
            _enqueue,
            "interval",
            args=(queue, job.kind, job.channel),
            seconds=seconds,
            id=job.key,
            name=job.key,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
    return scheduler
