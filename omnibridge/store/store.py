"""The :class:`Store` facade: every repository behind one object, each call in its own transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING

import sqlalchemy as sa

from omnibridge.models import (
    BoundRecord,
    ChannelBinding,
    Customer,
    InventoryPosition,
    LineStatus,
    Listing,
    Location,
    MovementResult,
    MovementStatus,
    Order,
    OrderLineRecord,
    Product,
    RecordedMovement,
    Return,
    Shipment,
    StockMovement,
    TrackingEvent,
    Variant,
)
from omnibridge.replicas.schema import ensure_schema as ensure_replica_schema
from omnibridge.sdk.webhooks import WebhookDelivery
from omnibridge.store import (
    bindings,
    catalog,
    customers,
    listings,
    locations,
    order_lines,
    orders,
    pending_work,
    propagation,
    shipments,
    sync_state,
)
from omnibridge.store.admission import DeliveryAdmission
from omnibridge.store.engine import (
    WriteTurns,
    check_reachable,
    create_store_engine,
    read_session,
    write_session,
    write_turns,
)
from omnibridge.store.migrate import ensure_head
from omnibridge.store.propagation import VENDOR_TIE, Incident, KnownLevel, LevelKey, LevelNote, OutboxItem
from omnibridge.store.sync_state import InboxEntry, InboxStatus
from omnibridge.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from omnibridge.ledger.verify import Inconsistency

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Store:
    """omnibridge's persistent state: catalog, locations, the stock ledger, bindings, orders, shipments,
    returns, customers and listings.

    Methods take and return canonical models (never table rows). Each method runs in one transaction: a
    write either happens completely or not at all, and errors leave the store unchanged. A Store is safe to
    share between threads (each call checks a connection out of the pool). Use it as a context manager or
    call :meth:`close`.
    """

    def __init__(self, engine: sa.Engine, *, clock: Clock = utc_now) -> None:
        self.engine = engine
        self._clock = clock
        self._admission = DeliveryAdmission(engine)

    # -- lifecycle ---------------------------------------------------------------------------------------

    def close(self) -> None:
        """Release every pooled connection. The store must not be used afterwards."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- units of work ----------------------------------------------------------------------------------

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """One write transaction for a decision that changes several rows (see
        :mod:`omnibridge.store.unit_of_work`): committed when the block exits normally, rolled back whole if it
        raises."""
        with write_session(self.engine) as session:
            yield UnitOfWork(session, self._clock)

    # -- catalog -----------------------------------------------------------------------------------------

    def upsert_product(self, product: Product) -> None:
        """Store ``product`` with exactly the variants it lists (see :func:`catalog.upsert_product`)."""
        with write_session(self.engine) as session:
            catalog.upsert_product(session, product)

    def get_product(self, product_id: str) -> Product | None:
        with read_session(self.engine) as session:
            return catalog.get_product(session, product_id)

    def get_variant(self, sku: str) -> Variant | None:
        with read_session(self.engine) as session:
            return catalog.get_variant(session, sku)

    def list_variants(self) -> list[Variant]:
        """Every variant, sorted by SKU."""
        with read_session(self.engine) as session:
            return catalog.list_variants(session)

    # -- locations ---------------------------------------------------------------------------------------

    def upsert_location(self, location: Location) -> None:
        with write_session(self.engine) as session:
            locations.upsert_location(session, location)

    def get_location(self, location_id: str) -> Location | None:
        with read_session(self.engine) as session:
            return locations.get_location(session, location_id)

    def list_locations(self) -> list[Location]:
        """Every location, sorted by id."""
        with read_session(self.engine) as session:
            return locations.list_locations(session)

    # -- bindings ----------------------------------------------------------------------------------------

    def bind(self, binding: ChannelBinding) -> None:
        """Record a binding; idempotent for the same mapping, :class:`ConflictError` for a clashing one."""
        with write_session(self.engine) as session:
            bindings.bind(session, binding)

    def resolve(self, channel: str, record: BoundRecord, external_id: str) -> str | None:
        """The internal id bound to ``external_id`` on ``channel``, or None."""
        with read_session(self.engine) as session:
            return bindings.resolve(session, channel, record, external_id)

    def external_id(self, channel: str, record: BoundRecord, internal_id: str) -> str | None:
        """The external id on ``channel`` bound to ``internal_id``, or None."""
        with read_session(self.engine) as session:
            return bindings.external_id(session, channel, record, internal_id)

    # -- sync state --------------------------------------------------------------------------------------

    def get_bookmark(self, channel: str) -> str | None:
        """Where ``channel``'s pull got to, or None before the first pull."""
        with read_session(self.engine) as session:
            return sync_state.get_bookmark(session, channel)

    def set_bookmark(self, channel: str, value: str) -> None:
        """Record where ``channel``'s pull got to (after its events were applied)."""
        with write_session(self.engine) as session:
            sync_state.set_bookmark(session, channel, value, self._clock())

    def add_delivery(self, channel: str, delivery: WebhookDelivery) -> int | None:
        """Store a verified webhook delivery before it is acknowledged; its inbox id, or None for a duplicate
        (same ``event_id``, or same ``delivery_id`` when the vendor sends no event id, or the same raw body on
        that channel). See :meth:`admit_delivery`."""
        return self.admit_delivery(channel, delivery).entry_id

    def write_turns(self) -> WriteTurns | None:
        """What this process's write transactions waited for and held the SQLite write lock, so far (see
        :class:`~omnibridge.store.engine.WriteTurns`); None on PostgreSQL, which has no such lock."""
        return write_turns(self.engine)

    def admit_delivery(self, channel: str, delivery: WebhookDelivery) -> sync_state.Admission:
        """Store a verified delivery as :meth:`add_delivery` does, and say whether it could only be kept as a
        dead letter (a NUL byte or an over-long id: see :func:`omnibridge.store.sync_state.admit_delivery`).
        Safe from any thread: deliveries waiting at once are committed together (:mod:`omnibridge.store.admission`);
        returns only once this one is committed."""
        return self._admission.admit(channel, delivery)

    def inbox(
        self, *, status: InboxStatus | None = None, channel: str | None = None, limit: int = 500
    ) -> list[InboxEntry]:
        """Stored deliveries, oldest first."""
        with read_session(self.engine) as session:
            return sync_state.entries(session, status=status, channel=channel, limit=limit)

    def pending_inbox(self, channel: str, known: MutableMapping[int, WebhookDelivery]) -> list[InboxEntry]:
        """``channel``'s pending deliveries, oldest first, reusing the deliveries in ``known`` and leaving it
        holding theirs (see :func:`omnibridge.store.sync_state.pending_entries`)."""
        with read_session(self.engine) as session:
            return sync_state.pending_entries(session, channel, known)

    def pending_inbox_channels(self) -> set[str]:
        """The channels with deliveries pending in the inbox."""
        with read_session(self.engine) as session:
            return sync_state.pending_channels(session)

    def inbox_entry(self, entry_id: int) -> InboxEntry | None:
        with read_session(self.engine) as session:
            return sync_state.get_entry(session, entry_id)

    def finish_delivery(self, entry_id: int, status: InboxStatus, error: str | None = None) -> None:
        """Mark an inbox entry done, or dead with the reason (it can be replayed later)."""
        with write_session(self.engine) as session:
            sync_state.finish(session, entry_id, status, self._clock(), error)

    def retry_delivery(self, entry_id: int, error: str, next_attempt_at: datetime) -> int | None:
        """Count a retriable failure of a pending inbox entry: it stays pending, waiting until
        ``next_attempt_at`` (on :meth:`now`'s clock), with ``error`` as its last error. Returns its attempts so
        far, or None when the entry is not pending (nothing is changed)."""
        with write_session(self.engine) as session:
            return sync_state.retry_later(session, entry_id, error, next_attempt_at)

    def now(self) -> datetime:
        """The store's clock: the time it stamps on what it records (and that inbox retry times are on)."""
        return self._clock()

    # -- propagation --------------------------------------------------------------------------------------

    def known_levels(self, channel: str, skus: Iterable[str]) -> dict[LevelKey, KnownLevel]:
        """What ``channel`` was last seen showing or made to show for ``skus``, by (SKU, location)."""
        with read_session(self.engine) as session:
            return propagation.known_levels(session, channel, skus)

    def remember_levels(
        self, channel: str, levels: Mapping[LevelKey, LevelNote], *, expect: Mapping[LevelKey, int | None] | None = None
    ) -> set[LevelKey]:
        """Record what ``channel`` is known to show and was seen showing, per (sku, location); with ``expect``
        (versions read) only over unchanged rows: the positions that changed are forgotten and returned (see
        :func:`omnibridge.store.propagation.remember_levels`)."""
        with write_session(self.engine) as session:
            return propagation.remember_levels(session, channel, levels, self._clock(), expect=expect)

    def observe_level(
        self, channel: str, key: LevelKey, shown: int, observed_at: datetime, *, tie: timedelta = VENDOR_TIE
    ) -> bool:
        """Record that ``channel`` showed ``shown`` at ``key`` at ``observed_at`` (a stock notification, in the
        vendor's time); True when that is what it is known to show (or the vendor already reported a later
        level), False when unexplained — a near-tie with the latest vendor time (within ``tie``) is never
        trusted as explained (see :func:`omnibridge.store.propagation.observe_level`)."""
        with write_session(self.engine) as session:
            return propagation.observe_level(session, channel, key, shown, observed_at, self._clock(), tie=tie)

    def forget_levels(self, channel: str, keys: Iterable[LevelKey]) -> None:
        """Stop trusting what ``channel`` is known to show at ``keys`` until the next read (a write there may or
        may not have landed)."""
        with write_session(self.engine) as session:
            propagation.forget_levels(session, channel, keys, self._clock())

    def stocked_positions(self, channel: str) -> int:
        """How many positions ``channel`` was last seen showing in stock (above 0): the mass-change guard's base."""
        with read_session(self.engine) as session:
            return propagation.stocked_positions(session, channel)

    def pending_decreases(self, skus: Iterable[str]) -> dict[LevelKey, int]:
        """Units channels took by themselves that omnibridge has not imported yet, per (sku, location)."""
        with read_session(self.engine) as session:
            return propagation.pending_decreases(session, skus)

    def record_pushes(self, items: Sequence[OutboxItem]) -> list[int]:
        """Record writes as pending before they are sent (committed when this returns); their ids."""
        with write_session(self.engine) as session:
            return propagation.record_pushes(session, items, self._clock())

    def finish_pushes(self, outcomes: Mapping[int, tuple[str, str | None]]) -> None:
        """Record the outcome of sent writes: ``outbox id -> (status, message)``."""
        with write_session(self.engine) as session:
            propagation.finish_pushes(session, outcomes, self._clock())

    def settle_pushes(
        self,
        channel: str,
        outcomes: Mapping[int, tuple[str, str | None]],
        *,
        remember: Mapping[LevelKey, LevelNote] | None = None,
        forget: Iterable[LevelKey] = (),
        expect: Mapping[LevelKey, int | None] | None = None,
    ) -> set[LevelKey]:
        """In one transaction: record the outcome of sent writes (``outbox id -> (status, message)``), what
        ``channel`` now shows where they landed (``remember``, a compare-and-set on the versions in ``expect``:
        the positions that changed meanwhile are forgotten and returned) and the positions whose outcome is unknown
        (``forget``)."""
        with write_session(self.engine) as session:
            now = self._clock()
            propagation.finish_pushes(session, outcomes, now)
            raced = propagation.remember_levels(session, channel, remember or {}, now, expect=expect)
            propagation.forget_levels(session, channel, forget, now)
            return raced

    def abandon_pushes(self, channel: str) -> list[OutboxItem]:
        """Finish the writes a stopped process left pending for ``channel`` as ``abandoned`` (never sent again) and
        forget their positions, in one transaction; the writes as they were recorded (oldest first)."""
        with write_session(self.engine) as session:
            return propagation.abandon_pushes(session, channel, self._clock())

    def pending_pushes(self, channel: str | None = None) -> list[OutboxItem]:
        """Writes recorded but never finished (the process stopped while sending them), oldest first."""
        with read_session(self.engine) as session:
            return propagation.pending_pushes(session, channel)

    def push_counts(self) -> dict[tuple[str, str], int]:
        with read_session(self.engine) as session:
            return propagation.push_counts(session)

    def add_incident(self, incident: Incident) -> bool:
        """Record a conflict decision once (by its ``dedupe_key``); True if it was new."""
        with write_session(self.engine) as session:
            return propagation.add_incident(session, incident, self._clock())

    def incidents(
        self,
        *,
        kind: str | None = None,
        sku: str | None = None,
        order_id: str | None = None,
        limit: int = 500,
        resolved: bool | None = None,
    ) -> list[Incident]:
        """Incidents, oldest first; ``resolved`` True or False keeps only the resolved or the open ones."""
        with read_session(self.engine) as session:
            return propagation.incidents(session, kind=kind, sku=sku, order_id=order_id, limit=limit, resolved=resolved)

    def incident_counts(self) -> dict[str, int]:
        with read_session(self.engine) as session:
            return propagation.incident_counts(session)

    # -- ledger ------------------------------------------------------------------------------------------

    def apply(
        self,
        movement: StockMovement,
        *,
        allow_shortfall: bool = False,
        shown_on: str | None = None,
        shown_at: datetime | None = None,
    ) -> MovementResult:
        """Apply ``movement`` exactly once (see ``docs/store.md`` for the full semantics).

        * The idempotency key is deduplicated by the database in the same transaction as the effect: a
          re-delivery with the same content returns DUPLICATE (with the original record) and changes nothing;
          the same key with different content raises :class:`IdempotencyKeyReusedError`.
        * A RELEASE above reserved, or a COMMITMENT_RELEASE / FULFILMENT above committed, raises
          :class:`ConflictError`.
        * A movement taking available below zero for a SKU without ``allow_backorder`` (unknown SKUs
          included) raises :class:`InsufficientStockError`, unless ``allow_shortfall`` (for physical facts
          that already happened): then it is applied and ``MovementResult.shortfall`` says by how much.

        Every refusal writes nothing, not even the key, so the movement can be retried later.

        ``shown_on`` names the sales channel where this movement happened (its own sale, cancellation, count):
        the channel already changed the quantity it shows by the movement's effect on available, so what that
        channel is known to show moves by the same amount, in the same transaction (see
        :mod:`omnibridge.sync.reconcile`). ``shown_at``: when the channel's number changed (the vendor's time),
        where that is known: an event well before the read that channel's known level was taken from does not move
        it again (:func:`omnibridge.store.propagation.shift_known_level`); None always moves it.
        """
        from omnibridge.ledger.apply import apply_movement  # the ledger builds on the store's tables

        with write_session(self.engine) as session:
            result = apply_movement(session, movement, allow_shortfall=allow_shortfall, now=self._clock())
            if shown_on is not None and result.status is MovementStatus.APPLIED:
                recorded = result.recorded
                delta = recorded.delta_on_hand - recorded.delta_committed - recorded.delta_reserved
                key = (movement.sku, movement.location_id)
                propagation.shift_known_level(session, shown_on, key, delta, self._clock(), occurred_at=shown_at)
            return result

    def positions(self, sku: str) -> list[InventoryPosition]:
        """One position per location that has one for ``sku``, sorted by location id."""
        from omnibridge.ledger import records

        with read_session(self.engine) as session:
            return records.positions(session, sku)

    def sold_since(self, positions: Iterable[LevelKey], since: datetime) -> dict[LevelKey, int]:
        """Units recorded as sold (sales and order commitments) at each of ``positions`` since ``since``."""
        from omnibridge.ledger import records

        with read_session(self.engine) as session:
            return records.sold_since(session, positions, since)

    def positions_of(self, skus: Iterable[str]) -> dict[str, list[InventoryPosition]]:
        """:meth:`positions` of each of ``skus`` at once (a SKU with no position maps to an empty list)."""
        from omnibridge.ledger import records

        with read_session(self.engine) as session:
            return records.positions_of(session, sorted(set(skus)))

    def known_positions(self, skus: Iterable[str]) -> set[tuple[str, str]]:
        """The ``(sku, location_id)`` positions among ``skus`` the ledger knows: counted, received, adjusted or
        transferred into at least once (:data:`omnibridge.ledger.records.ESTABLISHING_KINDS`). Any other position
        is *unknown*, never zero: nothing derived from it is written to a channel."""
        from omnibridge.ledger import records

        with read_session(self.engine) as session:
            return records.established_positions(session, sorted(set(skus)))

    def position(self, sku: str, location_id: str) -> InventoryPosition:
        """The position of ``sku`` at ``location_id`` (all zeros if nothing was recorded there)."""
        from omnibridge.ledger import records

        with read_session(self.engine) as session:
            return records.position(session, sku, location_id)

    def movements(self, sku: str, location_id: str | None = None) -> list[RecordedMovement]:
        """Recorded movements of ``sku`` (optionally at one location), in recorded order."""
        from omnibridge.ledger import records

        with read_session(self.engine) as session:
            return records.movements(session, sku, location_id)

    def find_movement(self, idempotency_key: str) -> RecordedMovement | None:
        """The movement recorded under ``idempotency_key``, or None."""
        from omnibridge.ledger import records

        with read_session(self.engine) as session:
            row = records.by_key(session, idempotency_key)
            return None if row is None else records.recorded_from_row(row)

    def set_safety_stock(self, sku: str, location_id: str, quantity: int) -> InventoryPosition:
        """Set the safety stock of a position; refused like a movement if it would take available below zero
        for a SKU without backorders (:class:`InsufficientStockError`). Returns the new position."""
        from omnibridge.ledger.apply import set_safety_stock

        with write_session(self.engine) as session:
            return set_safety_stock(session, sku, location_id, quantity, now=self._clock())

    # -- orders, shipments, returns ------------------------------------------------------------------------

    def save_order(self, order: Order) -> Order:
        """Upsert by ``(channel, external_id)``; returns the stored order (which keeps its first id)."""
        with write_session(self.engine) as session:
            return orders.save_order(session, order)

    def get_order(self, order_id: str) -> Order | None:
        with read_session(self.engine) as session:
            return orders.get_order(session, order_id)

    def find_order(self, channel: str, external_id: str) -> Order | None:
        with read_session(self.engine) as session:
            return orders.find_order(session, channel, external_id)

    def list_orders(
        self,
        channel: str | None = None,
        status: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[Order]:
        """Orders newest first (``placed_at``), filtered by channel, status value and placed at or after ``since``."""
        with read_session(self.engine) as session:
            return orders.list_orders(session, channel=channel, status=status, since=since, limit=limit)

    def find_orders_by_number(self, channel: str, number: str) -> list[Order]:
        """Orders of ``channel`` numbered ``number`` as merchants see it (``1001`` or ``#1001``), oldest first."""
        with read_session(self.engine) as session:
            return orders.find_orders_by_number(session, channel, number)

    def shipments_of_order(self, order_id: str) -> list[Shipment]:
        """The shipments of ``order_id``, oldest first, with their tracking history."""
        with read_session(self.engine) as session:
            return shipments.shipments_of_order(session, order_id)

    def order_line(self, line_id: str) -> OrderLineRecord | None:
        """The order line record ``line_id`` (``<channel>:order:<order ref>:<line ref>``), or None."""
        with read_session(self.engine) as session:
            return order_lines.get_line(session, line_id)

    def order_lines(self, channel: str, order_ref: str) -> list[OrderLineRecord]:
        """The line records of one channel order, by id."""
        with read_session(self.engine) as session:
            return order_lines.lines_of_order(session, channel, order_ref)

    def open_lines_at(self, sku: str, location_id: str) -> list[OrderLineRecord]:
        """Open lines with units committed at ``(sku, location_id)``, oldest first."""
        with read_session(self.engine) as session:
            return order_lines.open_lines_at(session, sku, location_id)

    def all_order_lines(self, *, statuses: Iterable[LineStatus] | None = None) -> list[OrderLineRecord]:
        with read_session(self.engine) as session:
            return order_lines.all_lines(session, statuses=statuses)

    def verify(self, window: timedelta | None = None) -> list[Inconsistency]:
        """The ledger's consistency check (:mod:`omnibridge.ledger.verify`): empty when everything agrees.
        ``window`` is the idempotency window a pending outbox write may not outlive (default 24 h)."""
        from omnibridge.ledger.verify import IDEMPOTENCY_WINDOW, verify

        with read_session(self.engine) as session:
            return verify(session, now=self._clock(), window=window or IDEMPOTENCY_WINDOW)

    # -- pending work ------------------------------------------------------------------------------------

    def mark_work(self, channels: Iterable[str], skus: Iterable[str]) -> None:
        """Record that ``skus`` must be reconciled on ``channels``; kept until :meth:`finish_work`."""
        with write_session(self.engine) as session:
            pending_work.mark_work(session, channels, pending_work.PUSH, skus, self._clock())

    def pending_work(self, channel: str | None = None) -> dict[tuple[str, str], int]:
        """``(channel, sku) -> seq`` still to reconcile (of one channel, or all)."""
        with read_session(self.engine) as session:
            return pending_work.pending_work(session, channel, pending_work.PUSH)

    def finish_work(self, done: Mapping[tuple[str, str], int]) -> None:
        """Remove the work in ``done`` (as read by :meth:`pending_work`) unless it was marked again since."""
        with write_session(self.engine) as session:
            pending_work.finish_work(session, pending_work.PUSH, done)

    def save_shipment(self, shipment: Shipment) -> None:
        """Upsert by id; tracking history is append-only (known events are kept, new ones added)."""
        with write_session(self.engine) as session:
            shipments.save_shipment(session, shipment)

    def get_shipment(self, shipment_id: str) -> Shipment | None:
        with read_session(self.engine) as session:
            return shipments.get_shipment(session, shipment_id)

    def add_tracking_event(self, shipment_id: str, event: TrackingEvent) -> Shipment:
        """Append a tracking event (repeats ignored); status becomes the latest event's. Returns the shipment."""
        with write_session(self.engine) as session:
            return shipments.add_tracking_event(session, shipment_id, event)

    def save_return(self, ret: Return) -> None:
        with write_session(self.engine) as session:
            shipments.save_return(session, ret)

    def get_return(self, return_id: str) -> Return | None:
        with read_session(self.engine) as session:
            return shipments.get_return(session, return_id)

    # -- customers ---------------------------------------------------------------------------------------

    def save_customer(self, customer: Customer) -> None:
        """Upsert by id with exactly the identities listed; :class:`ConflictError` if one belongs to another."""
        with write_session(self.engine) as session:
            customers.save_customer(session, customer)

    def get_customer(self, customer_id: str) -> Customer | None:
        with read_session(self.engine) as session:
            return customers.get_customer(session, customer_id)

    def find_customer(self, channel: str, external_id: str) -> Customer | None:
        with read_session(self.engine) as session:
            return customers.find_customer(session, channel, external_id)

    # -- listings ----------------------------------------------------------------------------------------

    def save_listing(self, listing: Listing) -> None:
        """Upsert by ``(channel, sku)``."""
        with write_session(self.engine) as session:
            listings.save_listing(session, listing)

    def get_listing(self, channel: str, sku: str) -> Listing | None:
        with read_session(self.engine) as session:
            return listings.get_listing(session, channel, sku)

    def listings_for(self, sku: str) -> list[Listing]:
        """Every channel's listing of ``sku``, sorted by channel."""
        with read_session(self.engine) as session:
            return listings.listings_for(session, sku)


def open_store(url: str, *, clock: Clock = utc_now) -> Store:
    """Open the store at ``url`` and migrate its schema to head.

    ``url`` is ``sqlite:///PATH`` (a file, created if missing) or ``postgresql+psycopg://...``. ``clock``
    stamps ``recorded_at``/``updated_at`` (inject one in tests). Raises :class:`StoreError` for an
    unsupported URL, an unreachable database, or a schema stamped by a newer omnibridge.
    """
    engine = create_store_engine(url)
    try:
        check_reachable(engine)
        ensure_head(engine)
        ensure_replica_schema(engine)  # PostgreSQL with the `replicas` extra only
    except BaseException:
        engine.dispose()
        raise
    return Store(engine, clock=clock)
