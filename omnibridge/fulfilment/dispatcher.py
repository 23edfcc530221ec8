"""The fulfilment dispatcher: takes due fulfilment tasks, makes the vendor call, records the outcome.

One pass (:meth:`Dispatcher.run_once`) claims every due pending task (:mod:`omnibridge.fulfilment.queue`: never
one task in two dispatchers), resolves its channel's connector and calls it outside any transaction; then one
unit of work records what happened:

==============================  ============================================================================
what happened                   recorded
==============================  ============================================================================
the vendor did it               ``done`` with its answer in ``result`` (``duplicate`` when it had it already)
channel lacks the capability    ``assign``/``confirm``/``pickup``: ``done``, result ``skipped`` ("channel
                                cannot ...": an Amazon or Square order needs no line assignment);
                                ``submit``: ``failed``
the vendor said no              ``refused``; ``assign``/``submit``: ``reroute`` task(s) enqueued in the same
                                unit (routing re-routes without that location); ``confirm``, ``pickup``,
                                ``return``: an incident
retriable error (429, 5xx)      ``attempts`` + 1, due again after :class:`~omnibridge.fulfilment.retry.TaskRetry`
                                (exponential, jittered, capped, never before the vendor's ``retry_after``)
fatal error, bad task, retries  ``failed`` with an incident; kept for an operator (``omnibridge fulfilment
exhausted, a bug                retry ID`` puts it back)
==============================  ============================================================================

Every refusal and give-up is logged (``omnibridge.fulfilment``), counted (``omnibridge_fulfilment_tasks_total``
by kind and outcome) and, except a re-routed refusal, recorded as an incident (kind ``fulfilment``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from structlog.stdlib import BoundLogger

from omnibridge.daemon.metrics import Counter, Registry
from omnibridge.errors import (
    ConnectorError,
    FatalConnectorError,
    OmnibridgeError,
    RetriableConnectorError,
    StoreError,
)
from omnibridge.fulfilment import assignments, queue, requests
from omnibridge.fulfilment.queue import ClaimedTask
from omnibridge.fulfilment.requests import TaskError
from omnibridge.fulfilment.reroute import Rerouter
from omnibridge.fulfilment.retry import TaskRetry
from omnibridge.fulfilment.tasks import REROUTE, reroute_task
from omnibridge.logs import get_logger
from omnibridge.pickup import notify
from omnibridge.returns.writeback import remember_channel_ref, write_back
from omnibridge.sdk.fulfilment import FulfilmentProvider, LineAssigner, ShipmentConfirmer
from omnibridge.store import Incident, Store
from omnibridge.store import routing_records as records
from omnibridge.store.fulfilment_tasks import (
    ASSIGN,
    CANCELLED,
    CONFIRM,
    DONE,
    PENDING,
    REFUSED,
    RETURN,
    SUBMIT,
    FulfilmentTask,
)
from omnibridge.sync.runtime import ChannelRuntime

RETRYING = "retrying"
LEASE_LOST = "lease_lost"


def log() -> BoundLogger:
    return get_logger("omnibridge.fulfilment")


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """What one task's run came to: ``outcome`` is ``done``, ``refused``, ``retrying``, ``failed``, or
    ``cancelled`` / ``lease_lost`` when the task changed during the call (nothing recorded)."""

    task_id: str
    kind: str
    outcome: str
    detail: str = ""


@dataclass
class DispatchReport:
    """One pass: every task run and its outcome."""

    outcomes: list[TaskOutcome] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for item in self.outcomes if item.outcome == outcome)

    @property
    def ok(self) -> bool:
        """Nothing failed, was refused, or is waiting for a retry (a task cancelled by a re-route during its call,
        or taken over by another dispatcher, is not a failure of this pass)."""
        return not any(item.outcome in (REFUSED, RETRYING, queue.FAILED) for item in self.outcomes)


@dataclass(frozen=True)
class _Result:
    """A vendor call's outcome, before it is recorded."""

    status: str
    result: Mapping[str, Any]
    detail: str = ""
    reroutes: tuple[tuple[str, str], ...] = ()
    """(location id, reason) to re-route without."""
    incident: str | None = None
    """An incident's decision (its summary is ``detail``)."""
    submitted: tuple[str, str | None] | None = None
    """(assignment id, the provider's ref of it): a provider took it."""


class Dispatcher:
    """Carries fulfilment tasks out on ``channels`` (profile channel id -> live channel). ``rerouter`` is the
    routing service (None: ``reroute`` tasks fail for an operator). ``lease`` bounds how long a claimed task is
    held before another dispatcher may take it (a crash mid-call); ``batch`` caps the tasks claimed per round."""

    def __init__(
        self,
        store: Store,
        channels: Mapping[str, ChannelRuntime],
        *,
        rerouter: Rerouter | None = None,
        retry: TaskRetry | None = None,
        lease: timedelta = timedelta(minutes=5),
        batch: int = 100,
        registry: Registry | None = None,
    ) -> None:
        self.store = store
        self.channels = channels
        self.rerouter = rerouter
        self.retry = retry or TaskRetry()
        self.lease = lease
        self.batch = batch
        self.register_metrics(registry or Registry())

    def register_metrics(self, registry: Registry) -> None:
        """Count task runs in ``registry`` (the daemon's, exported on ``/metrics``)."""
        self.tasks_total: Counter = registry.counter(
            "omnibridge_fulfilment_tasks_total", "Fulfilment task runs by kind and outcome", ["kind", "outcome"]
        )

    async def run_once(self) -> DispatchReport:
        """Run every task due now, and those the pass itself makes due (a refusal's re-route); a task is run at
        most once per pass. Raises :class:`StoreError` when the database is down (claimed tasks are due again
        when their lease ends)."""
        report = DispatchReport()
        seen: set[str] = set()
        while True:
            with self.store.unit_of_work() as uow:
                due = [task_id for task_id in queue.due_ids(uow.session, uow.now(), self.batch) if task_id not in seen]
            if not due:
                return report
            for task_id in due:
                seen.add(task_id)
                claimed = self._claim(task_id)
                if claimed is not None:
                    report.outcomes.append(await self._run(claimed))

    def _claim(self, task_id: str) -> ClaimedTask | None:
        with self.store.unit_of_work() as uow:
            now = uow.now()
            return queue.claim(uow.session, task_id, now, now + self.lease)

    async def _run(self, claimed: ClaimedTask) -> TaskOutcome:
        task = claimed.task
        try:
            outcome = await self._call(task)
        except RetriableConnectorError as exc:
            return self._retry(claimed, str(exc), exc.retry_after)
        except FatalConnectorError as exc:
            return self._fail(claimed, str(exc))
        except ConnectorError as exc:  # not said to be fatal: treat as transient, within the retry budget
            return self._retry(claimed, str(exc), None)
        except StoreError:
            raise
        except OmnibridgeError as exc:  # a task that cannot be carried out as it stands (TaskError, ConfigError)
            return self._fail(claimed, str(exc))
        except Exception as exc:  # a bug in a connector must not wedge the queue: kept for an operator, with why
            log().exception("fulfilment.internal_error", task=task.id)
            return self._fail(claimed, f"internal error: {type(exc).__name__}: {exc}")
        return self._record(claimed, outcome)

    # -- the calls -------------------------------------------------------------------------------------------

    async def _call(self, task: FulfilmentTask) -> _Result:
        if task.kind == REROUTE:
            return await self._reroute(task)
        channel = self._channel(task)
        if task.kind == ASSIGN:
            return await self._assign(task, channel)
        if task.kind == SUBMIT:
            return await self._submit(task, channel)
        if task.kind == CONFIRM:
            return await self._confirm(task, channel)
        if task.kind == notify.PICKUP:
            return await self._pickup(task, channel)
        if task.kind == RETURN:
            written = await write_back(self.store, channel, task)
            incident = "return_refused" if written.status == REFUSED else None
            return _Result(written.status, written.result, written.detail, incident=incident)
        raise TaskError(
            f"task {task.id}: unknown kind {task.kind!r} (expected assign, submit, confirm, reroute, pickup, return)"
        )

    def _channel(self, task: FulfilmentTask) -> ChannelRuntime:
        channel = self.channels.get(task.channel)
        if channel is None:
            raise TaskError(
                f"task {task.id}: channel {task.channel!r} is not an enabled channel of this profile "
                f"(enabled: {', '.join(sorted(self.channels)) or 'none'})"
            )
        return channel

    @staticmethod
    async def _resolved(channel: ChannelRuntime) -> ChannelRuntime:
        if not channel.location_ids:
            await channel.resolve_locations()
        return channel

    async def _assign(self, task: FulfilmentTask, channel: ChannelRuntime) -> _Result:
        if not isinstance(channel.connector, LineAssigner):
            return _Result(DONE, {"skipped": f"channel {channel.id} cannot assign lines"})
        await self._resolved(channel)
        wanted = requests.assignments(self.store, channel, task.payload, task.id)
        left_out = [{"line_ref": line, "location_id": where} for line, where in wanted.left_out]
        if left_out:
            log().warning("fulfilment.assign_left_out", task=task.id, channel=channel.id, lines=left_out)
        if not wanted.lines:
            skipped = f"no line is held at a location channel {channel.id} knows"
            return _Result(DONE, {"skipped": skipped, "left_out": left_out})
        answer = await channel.connector.assign_lines(wanted.order_ref, wanted.lines, exclude_refs=wanted.excluded)
        if answer.accepted:
            return _Result(DONE, {"duplicate": answer.duplicate, "message": answer.message, "left_out": left_out})
        reroutes = tuple(
            (channel.location_id(location_ref) or location_ref, reason or answer.message or "refused")
            for _, location_ref, reason in answer.refused
        )
        refused = [{"line_ref": line, "location_ref": where, "reason": why} for line, where, why in answer.refused]
        detail = answer.message or "; ".join(f"{where}: {why}" for _, where, why in answer.refused) or "refused"
        return _Result(REFUSED, {"refused": refused, "message": answer.message}, detail, tuple(dict.fromkeys(reroutes)))

    async def _submit(self, task: FulfilmentTask, channel: ChannelRuntime) -> _Result:
        if not isinstance(channel.connector, FulfilmentProvider):
            raise TaskError(f"task {task.id}: channel {channel.id} cannot take fulfilment requests")
        order = self.store.get_order(task.order_id)
        if order is None:
            raise TaskError(f"task {task.id}: order {task.order_id} is not in the store")
        await self._resolved(channel)
        location_id, request = requests.fulfilment_request(order, channel, task.payload, task.id)
        answer = await channel.connector.submit_fulfilment(request)
        if answer.accepted:
            result = {"provider_ref": answer.provider_ref, "duplicate": answer.duplicate}
            return _Result(DONE, result, submitted=(request.reference, answer.provider_ref))
        reason = answer.message or f"refused by {channel.id}"
        return _Result(REFUSED, {"message": answer.message}, reason, ((location_id, reason),))

    async def _confirm(self, task: FulfilmentTask, channel: ChannelRuntime) -> _Result:
        if not isinstance(channel.connector, ShipmentConfirmer):
            return _Result(DONE, {"skipped": f"channel {channel.id} cannot confirm shipments"})
        await self._resolved(channel)
        answer = await channel.connector.confirm_shipment(requests.confirmation(channel, task.payload, task.id))
        if answer.accepted:
            return _Result(DONE, {"channel_ref": answer.channel_ref, "duplicate": answer.duplicate})
        reason = answer.message or f"refused by {channel.id}"
        detail = f"{channel.id} refused the shipment confirmation of {task.order_id}: {reason}"
        return _Result(REFUSED, {"message": answer.message}, detail, incident="confirm_refused")

    async def _pickup(self, task: FulfilmentTask, channel: ChannelRuntime) -> _Result:
        writer = notify.writer_of(channel)
        if writer is None:
            return _Result(DONE, {"skipped": f"channel {channel.id} cannot show pickups"})
        await self._resolved(channel)
        update = notify.update_of(channel, task.payload, task.id)
        state = notify.state_to_send(writer, update)
        if state is None:
            return _Result(DONE, {"skipped": f"channel {channel.id} cannot show a {update.state.value} pickup"})
        answer = await writer.update_pickup(replace(update, state=state))
        if answer.accepted:
            return _Result(DONE, {"state": state.value, "duplicate": answer.duplicate, "message": answer.message})
        reason = answer.message or f"refused by {channel.id}"
        detail = f"{channel.id} refused to show pickup {update.reference} as {state.value}: {reason}"
        return _Result(REFUSED, {"message": answer.message}, detail, incident="pickup_refused")

    async def _reroute(self, task: FulfilmentTask) -> _Result:
        if self.rerouter is None:
            raise TaskError(f"task {task.id}: no routing service to re-route {task.order_id} (routing not configured)")
        location_id = str(task.payload.get("location_id") or "")
        reason = str(task.payload.get("reason") or "refused")
        try:
            self.rerouter.reject(task.order_id, location_id, reason)
        except StoreError:
            raise
        except OmnibridgeError as exc:
            if not self._rejected_already(task.order_id, location_id):
                raise TaskError(f"task {task.id}: the re-route failed: {exc}") from None
            return _Result(DONE, {"rejected": location_id, "reason": reason, "already": True})
        return _Result(DONE, {"rejected": location_id, "reason": reason})

    def _rejected_already(self, order_id: str, location_id: str) -> bool:
        """Whether the order's latest assignment at ``location_id`` is rejected (a re-route repeated after a crash
        between the routing service's commit and the task's)."""
        with self.store.unit_of_work() as uow:
            found = [a for a in records.assignments(uow.session, order_id) if a.location_id == location_id]
        return bool(found) and found[-1].status == records.REJECTED

    # -- recording outcomes ----------------------------------------------------------------------------------

    def _record(self, claimed: ClaimedTask, outcome: _Result) -> TaskOutcome:
        task = claimed.task
        with self.store.unit_of_work() as uow:
            now = uow.now()
            settled = queue.settle(uow.session, claimed, now, status=outcome.status, result=outcome.result)
            for location_id, reason in outcome.reroutes if settled else ():
                key = f"{task.id}@{location_id}"
                uow.enqueue_task(reroute_task(key, task.order_id, location_id, task.channel, reason))
            if settled and outcome.submitted is not None:
                assignments.submitted(uow.session, *outcome.submitted, now)
            if settled and task.kind == RETURN and outcome.status == DONE:
                return_id, ref = str(task.payload.get("return_id")), outcome.result.get("channel_return_ref")
                remember_channel_ref(uow.session, return_id, ref, now)
            if settled and outcome.incident is not None:
                uow.add_incident(self._incident(task, outcome.incident, outcome.detail, claimed.attempts))
        if not settled:
            return self._lost(task)
        self.tasks_total.inc(kind=task.kind, outcome=outcome.status)
        if outcome.status == DONE:
            log().info(
                "fulfilment.done", task=task.id, kind=task.kind, channel=task.channel, result=dict(outcome.result)
            )
        else:
            log().warning(
                "fulfilment.refused",
                task=task.id,
                kind=task.kind,
                channel=task.channel,
                reason=outcome.detail,
                rerouted=[location for location, _ in outcome.reroutes],
            )
        return TaskOutcome(task.id, task.kind, outcome.status, outcome.detail)

    def _retry(self, claimed: ClaimedTask, error: str, retry_after: float | None) -> TaskOutcome:
        task = claimed.task
        attempts = claimed.attempts + 1
        if self.retry.exhausted(attempts):
            return self._fail(claimed, f"gave up after {attempts} attempts: {error}", attempts=attempts)
        with self.store.unit_of_work() as uow:
            now = uow.now()
            next_at = now + self.retry.delay(attempts, retry_after)
            settled = queue.settle(
                uow.session, claimed, now, status=PENDING, error=error, next_at=next_at, attempts=attempts
            )
        if not settled:
            return self._lost(task)
        self.tasks_total.inc(kind=task.kind, outcome=RETRYING)
        log().warning(
            "fulfilment.retry_later",
            task=task.id,
            kind=task.kind,
            channel=task.channel,
            attempts=attempts,
            next_at=next_at.isoformat(),
            reason=error,
        )
        return TaskOutcome(task.id, task.kind, RETRYING, error)

    def _fail(self, claimed: ClaimedTask, error: str, *, attempts: int | None = None) -> TaskOutcome:
        task = claimed.task
        tries = attempts if attempts is not None else claimed.attempts + 1
        with self.store.unit_of_work() as uow:
            settled = queue.settle(uow.session, claimed, uow.now(), status=queue.FAILED, error=error, attempts=tries)
            if settled:
                uow.add_incident(self._incident(task, "failed", error, tries))
        if not settled:
            return self._lost(task)
        self.tasks_total.inc(kind=task.kind, outcome=queue.FAILED)
        log().error("fulfilment.failed", task=task.id, kind=task.kind, channel=task.channel, reason=error)
        return TaskOutcome(task.id, task.kind, queue.FAILED, error)

    def _lost(self, task: FulfilmentTask) -> TaskOutcome:
        """The task changed during the call: a re-route cancelled it (the new decision has its own tasks), or the
        lease ran out and another dispatcher took it over (it records the outcome). Nothing is recorded here."""
        with self.store.unit_of_work() as uow:
            now = next((view.status for view in queue.list_tasks(uow.session, task_id=task.id)), None)
        if now == CANCELLED:
            log().info("fulfilment.cancelled_meanwhile", task=task.id, kind=task.kind)
            return TaskOutcome(task.id, task.kind, CANCELLED, "cancelled by a re-route during the call")
        log().warning("fulfilment.lease_lost", task=task.id, kind=task.kind, status=now)
        return TaskOutcome(task.id, task.kind, LEASE_LOST, "another dispatcher took the task over")

    @staticmethod
    def _incident(task: FulfilmentTask, decision: str, summary: str, attempts: int) -> Incident:
        location = task.payload.get("location_id")
        return Incident(
            kind="fulfilment",
            decision=decision,
            summary=f"{task.kind} task {task.id}: {summary}",
            dedupe_key=f"fulfilment:{task.id}:{decision}:{attempts}",
            channel=task.channel,
            order_id=task.order_id,
            location_id=str(location) if location else None,
            data={"task": task.id, "kind": task.kind, "attempts": attempts},
        )
