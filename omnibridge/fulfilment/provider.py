"""A fulfilment provider's events (a 3PL, a dropship supplier's files) applied to the order they ship.

A provider knows an assignment by the reference it was handed (``FulfilmentRequest.reference``: the assignment
id), never by the sales channel's order. So, in the unit of work of the delivery that carried them:

* a :class:`~omnibridge.sdk.channel.FulfilmentEvent` whose ``order_ref`` names an assignment is a shipment of the
  ORIGINAL order's lines (their line records on the order's channel) from the assignment's location, keyed by the
  provider's fulfilment ref (``<line>:ship:<provider channel>:<ref>``, so a repeat ships nothing twice); the
  assignment is marked shipped and ``confirm:<provider channel>:<ref>`` is enqueued for the order's channel;
* a :class:`~omnibridge.sdk.channel.FulfilmentStatusEvent` ``rejected`` or ``cancelled`` enqueues
  ``reroute:<assignment id>`` (the dispatcher asks routing to re-route without that location); ``acknowledged``
  marks the assignment accepted.

A provider's line is matched to the order's line by the line ref it was given (the line record id), else by SKU.
"""

from __future__ import annotations

from omnibridge.errors import ConflictError, IdempotencyKeyReusedError
from omnibridge.fulfilment import assignments
from omnibridge.fulfilment.assignments import Assignment
from omnibridge.fulfilment.tasks import confirm_task, reroute_task
from omnibridge.logs import get_logger
from omnibridge.models import Order, OrderLineRecord
from omnibridge.sdk.channel import FulfilmentEvent, FulfilmentLineEvent, FulfilmentStatus, FulfilmentStatusEvent
from omnibridge.sdk.fulfilment import FulfilmentProvider
from omnibridge.sdk.metadata import ConnectorKind
from omnibridge.store import Incident, orders
from omnibridge.store.routing_records import ACCEPTED, CANCELLED, REJECTED, SHIPPED
from omnibridge.store.unit_of_work import UnitOfWork
from omnibridge.sync.lines import LineBook, LineFact
from omnibridge.sync.orders import refresh_fulfilment
from omnibridge.sync.outcome import ApplyOutcome
from omnibridge.sync.runtime import ChannelRuntime


def is_provider(channel: ChannelRuntime) -> bool:
    """Whether ``channel`` ships orders for others: a connector of kind ``3pl``, or one that takes fulfilment
    requests (a files channel with purchase orders)."""
    return channel.channel.spec.kind is ConnectorKind.THIRD_PARTY_LOGISTICS or isinstance(
        channel.connector, FulfilmentProvider
    )


class ProviderEvents:
    """Applies one provider channel's fulfilment events (see the module docstring)."""

    def __init__(self, channel: ChannelRuntime) -> None:
        self.channel = channel
        self.exclusive = channel.channel.spec.kind is ConnectorKind.THIRD_PARTY_LOGISTICS
        """A 3PL ships only what it was handed: every shipment it reports must name an assignment."""

    def fulfilment(self, uow: UnitOfWork, event: FulfilmentEvent, outcome: ApplyOutcome) -> bool:
        """Apply ``event`` when it ships an assignment; False when it is the channel's own (a file feed's
        shipment of an order that is not an assignment: the caller applies it as usual)."""
        found = assignments.get(uow.session, event.order_ref)
        if found is not None:
            self.shipped(uow, event, found, outcome)
            return True
        if self.exclusive:
            self.assignment_of(uow, event.order_ref, outcome)  # reports it
            return True
        return False

    def assignment_of(self, uow: UnitOfWork, reference: str, outcome: ApplyOutcome) -> Assignment | None:
        """The assignment ``reference`` names; None (with a message) when there is none."""
        found = assignments.get(uow.session, reference)
        if found is None:
            outcome.messages.append(
                f"{self.channel.id}: reference {reference!r} names no fulfilment assignment; skipped"
            )
        return found

    def shipped(self, uow: UnitOfWork, event: FulfilmentEvent, assignment: Assignment, outcome: ApplyOutcome) -> None:
        order = orders.get_order(uow.session, assignment.order_id)
        if order is None:
            outcome.messages.append(f"{self.channel.id}: fulfilment {event.ref}: order {assignment.order_id} unknown")
            return
        records = uow.lines_of_order(order.channel, order.external_id)
        matched = [
            (record, line.quantity)
            for line in event.lines
            if line.quantity > 0
            for record in [self._match(line, records, assignment, event, outcome)]
            if record is not None
        ]
        where = assignment.location_id
        positions = {(record.sku, where) for record, _ in matched}
        positions |= {(record.sku, record.location_id) for record, _ in matched if record.location_id is not None}
        uow.lock_positions(positions)
        book = LineBook(uow, outcome)
        ref = f"{self.channel.id}:{event.ref}"
        for record, quantity in matched:
            fact = LineFact(
                order.channel, order.external_id, record.line_ref, record.sku, quantity, where, event.occurred_at
            )
            try:
                with uow.savepoint():
                    book.shipped(fact, ref)
            except IdempotencyKeyReusedError:
                raise
            except ConflictError as exc:
                outcome.messages.append(f"{self.channel.id}: fulfilment {event.ref} line {record.line_ref}: {exc}")
        if not matched:
            return
        refresh_fulfilment(uow, order.channel, order.external_id)
        assignments.move(uow.session, assignment, SHIPPED, uow.now())
        if assignment.status in (REJECTED, CANCELLED):
            self._shipped_anyway(uow, event, assignment, outcome)
        lines = [(record.line_ref, quantity) for record, quantity in matched]
        self._confirm(uow, order, ref, where, lines, event)

    def _shipped_anyway(
        self, uow: UnitOfWork, event: FulfilmentEvent, assignment: Assignment, outcome: ApplyOutcome
    ) -> None:
        """The provider shipped an assignment that was rejected or cancelled (re-routed meanwhile): the units did
        leave, so the shipment stands, but the new location may ship them too. An operator must stop one."""
        summary = (
            f"{self.channel.id} shipped {assignment.id} ({event.ref}) although it was {assignment.status}: the "
            f"order was re-routed; stop the other shipment of {assignment.order_id} (`omnibridge explain order "
            f"{assignment.order_id}`)"
        )
        outcome.messages.append(summary)
        get_logger("omnibridge.fulfilment").error(
            "fulfilment.shipped_after_reroute", channel=self.channel.id, assignment=assignment.id, shipment=event.ref
        )
        uow.add_incident(
            Incident(
                kind="fulfilment",
                decision="shipped_after_reroute",
                summary=summary,
                dedupe_key=f"fulfilment:shipped_after_reroute:{self.channel.id}:{event.ref}",
                channel=self.channel.id,
                order_id=assignment.order_id,
                location_id=assignment.location_id,
            )
        )

    def status(
        self, uow: UnitOfWork, event: FulfilmentStatusEvent, assignment: Assignment, outcome: ApplyOutcome
    ) -> None:
        if event.status is FulfilmentStatus.ACKNOWLEDGED:
            assignments.move(uow.session, assignment, ACCEPTED, uow.now())
            return
        if assignment.status not in assignments.OPEN:
            outcome.messages.append(
                f"{self.channel.id}: {event.status.value} for {assignment.id} ignored: the assignment is "
                f"{assignment.status} already"
            )
            return
        reason = event.reason or f"{event.status.value} by {self.channel.id}"
        task = reroute_task(assignment.id, assignment.order_id, assignment.location_id, self.channel.id, reason)
        if uow.enqueue_task(task):
            get_logger("omnibridge.fulfilment").warning(
                "fulfilment.provider_refused",
                channel=self.channel.id,
                assignment=assignment.id,
                status=event.status.value,
                reason=reason,
            )

    def _match(
        self,
        line: FulfilmentLineEvent,
        records: list[OrderLineRecord],
        assignment: Assignment,
        event: FulfilmentEvent,
        outcome: ApplyOutcome,
    ) -> OrderLineRecord | None:
        for record in records:
            if line.line_ref in (record.id, record.line_ref):
                return record
        sku = self.channel.master_sku(line.sku) if line.sku else None
        candidates = sorted(
            (record for record in records if record.sku == sku),
            key=lambda record: record.location_id != assignment.location_id,
        )
        if candidates:
            return candidates[0]
        outcome.messages.append(
            f"{self.channel.id}: fulfilment {event.ref} line {line.line_ref} (SKU {line.sku!r}) matches no line of "
            f"order {assignment.order_id}; skipped"
        )
        return None

    @staticmethod
    def _confirm(
        uow: UnitOfWork,
        order: Order,
        shipment_id: str,
        location_id: str,
        lines: list[tuple[str, int]],
        event: FulfilmentEvent,
    ) -> None:
        task = confirm_task(
            order,
            shipment_id,
            location_id,
            lines,
            event.occurred_at,
            carrier=event.carrier,
            tracking_number=event.tracking_number,
            in_ledger=True,
        )
        uow.enqueue_task(task)
