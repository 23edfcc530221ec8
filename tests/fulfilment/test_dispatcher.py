"""The dispatcher: each outcome of a vendor call recorded on its task (done, skipped, refused and re-routed,
retried with backoff, failed with an incident), against the real store on each backend."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support import TickingClock
from sync.fake_channel import FakeChannel

from fulfilment.fakes import Provider, Rerouter, SalesChannel, add_assignment, place_order, runtime, seed
from omnibridge.errors import FatalConnectorError, RetriableConnectorError
from omnibridge.fulfilment import queue
from omnibridge.fulfilment.dispatcher import Dispatcher
from omnibridge.fulfilment.retry import TaskRetry
from omnibridge.fulfilment.tasks import confirm_task
from omnibridge.sdk import ConnectorKind
from omnibridge.sdk.fulfilment import AssignmentResult, ConfirmationResult, LineAssignment, Submission
from omnibridge.store import Store
from omnibridge.store import routing_records as records
from omnibridge.store.fulfilment_tasks import FulfilmentTask
from omnibridge.store.tables import FULFILMENT_ASSIGNMENTS
from omnibridge.sync import ChannelRuntime

pytestmark = pytest.mark.anyio

ORDER = "web:1001"


@pytest.fixture
def web(store: Store) -> SalesChannel:
    seed(store)
    connector = SalesChannel(["W", "S"])
    place_order(store, runtime("web", connector, {"W": "wh", "S": "shop"}))
    return connector


def channels(web: FakeChannel, provider: Provider | None = None) -> dict[str, ChannelRuntime]:
    found = {"web": runtime("web", web, {"W": "wh", "S": "shop"})}
    if provider is not None:
        found["shipbob"] = runtime(
            "shipbob", provider, {"FC-7": "3pl"}, kind=ConnectorKind.THIRD_PARTY_LOGISTICS, sku_aliases={"SB-A": "A"}
        )
    return found


def dispatcher(
    store: Store, found: dict[str, ChannelRuntime], rerouter: Rerouter | None = None, retry: TaskRetry | None = None
) -> Dispatcher:
    return Dispatcher(store, found, rerouter=rerouter, retry=retry)


def enqueue(store: Store, task: FulfilmentTask) -> None:
    with store.unit_of_work() as uow:
        assert uow.enqueue_task(task)


def task_row(store: Store, task_id: str) -> queue.TaskView:
    with store.unit_of_work() as uow:
        return next(view for view in queue.list_tasks(uow.session) if view.id == task_id)


def assign_task(location_id: str = "shop") -> FulfilmentTask:
    lines = [
        {"line_id": "web:order:1001:L1", "quantity": 2, "location_id": location_id},
        {"line_ref": "L2", "quantity": 1, "location_id": location_id},
    ]
    return FulfilmentTask(f"assign:{ORDER}#1", "assign", ORDER, "web", {"order_ref": "1001", "lines": lines})


def submit_task(assignment_id: str) -> FulfilmentTask:
    payload = {
        "assignment_id": assignment_id,
        "location_id": "3pl",
        "lines": [{"line_id": "web:order:1001:L1", "sku": "A", "quantity": 2}],
    }
    return FulfilmentTask(f"submit:{assignment_id}", "submit", ORDER, "shipbob", payload)


def a_confirm_task(store: Store) -> FulfilmentTask:
    order = store.get_order(ORDER)
    assert order is not None
    return confirm_task(
        order, "shp-1", "shop", [("L1", 2)], order.placed_at, carrier="usps", service="Priority", tracking_number="9400"
    )


async def test_assign_maps_lines_and_locations_to_the_channel_and_is_done(store: Store, web: SalesChannel) -> None:
    enqueue(store, assign_task())
    report = await dispatcher(store, channels(web)).run_once()
    assert report.ok
    assert report.count("done") == 1
    assert web.assigned == [("1001", [LineAssignment("L1", 2, "S"), LineAssignment("L2", 1, "S")], [])]
    assert task_row(store, f"assign:{ORDER}#1").status == "done"


async def test_a_channel_that_cannot_assign_lines_needs_no_assignment(store: Store, web: SalesChannel) -> None:
    enqueue(store, assign_task())
    plain = FakeChannel(["W", "S"])  # Amazon, Square: no LineAssigner
    report = await dispatcher(store, channels(plain)).run_once()
    assert report.ok
    row = task_row(store, f"assign:{ORDER}#1")
    assert (row.status, row.result) == ("done", {"skipped": "channel web cannot assign lines"})


async def test_a_refused_assignment_reroutes_without_that_location(store: Store, web: SalesChannel) -> None:
    enqueue(store, assign_task())
    web.script = [AssignmentResult(accepted=False, refused=(("L1", "S", "never stocked A"),))]
    rerouter = Rerouter()
    report = await dispatcher(store, channels(web), rerouter).run_once()
    assert rerouter.calls == [(ORDER, "shop", "never stocked A")]
    assert task_row(store, f"assign:{ORDER}#1").status == "refused"
    assert task_row(store, f"reroute:assign:{ORDER}#1@shop").status == "done"
    assert not report.ok
    assert report.count("refused") == 1


async def test_submit_hands_the_assignment_to_the_provider(store: Store, web: SalesChannel) -> None:
    assignment = add_assignment(store, ORDER, "3pl")
    enqueue(store, submit_task(assignment))
    provider = Provider(["FC-7"])
    report = await dispatcher(store, channels(web, provider)).run_once()
    assert report.ok
    (request,) = provider.requests
    assert (request.reference, request.order_name, request.location_ref) == (assignment, "#1001", "FC-7")
    assert [(line.line_ref, line.sku, line.quantity) for line in request.lines] == [("web:order:1001:L1", "SB-A", 2)]
    with store.unit_of_work() as uow:
        ref = uow.session.execute(FULFILMENT_ASSIGNMENTS.select()).mappings().one()["provider_ref"]
    assert ref == "SB-1"
    assert task_row(store, f"submit:{assignment}").result == {"provider_ref": "SB-1", "duplicate": False}


async def test_a_provider_refusal_reroutes_the_order(store: Store, web: SalesChannel) -> None:
    assignment = add_assignment(store, ORDER, "3pl")
    enqueue(store, submit_task(assignment))
    provider = Provider(["FC-7"])
    provider.script = [Submission(assignment, False, message="address not serviceable")]
    rerouter = Rerouter()
    await dispatcher(store, channels(web, provider), rerouter).run_once()
    assert rerouter.calls == [(ORDER, "3pl", "address not serviceable")]
    assert task_row(store, f"submit:{assignment}").status == "refused"
    assert store.incidents() == []  # re-routed, not an operator's problem


async def test_confirm_tells_the_channel_with_tracking(store: Store, web: SalesChannel) -> None:
    enqueue(store, a_confirm_task(store))
    assert (await dispatcher(store, channels(web)).run_once()).ok
    (sent,) = web.confirmed
    assert (sent.reference, sent.order_ref, sent.location_ref, sent.carrier) == ("shp-1", "1001", "S", "USPS")
    assert (sent.tracking_number, sent.service) == ("9400", "Priority")
    assert sent.tracking_url is not None
    assert "9400" in sent.tracking_url
    assert task_row(store, "confirm:shp-1").result == {"channel_ref": "F-1", "duplicate": False}


async def test_a_refused_confirmation_is_an_incident(store: Store, web: SalesChannel) -> None:
    enqueue(store, a_confirm_task(store))
    web.script = [ConfirmationResult(accepted=False, message="order is cancelled")]
    report = await dispatcher(store, channels(web)).run_once()
    assert report.count("refused") == 1
    assert task_row(store, "confirm:shp-1").status == "refused"
    (incident,) = store.incidents()
    assert (incident.kind, incident.decision, incident.order_id) == ("fulfilment", "confirm_refused", ORDER)
    assert "order is cancelled" in incident.summary


async def test_a_retriable_error_backs_off_then_succeeds(store: Store, web: SalesChannel, clock: TickingClock) -> None:
    enqueue(store, a_confirm_task(store))
    web.script = [RetriableConnectorError("429", connector="web", op="confirm", retry_after=40)]
    run = dispatcher(store, channels(web), retry=TaskRetry(base_seconds=5, jitter=0.5))
    before = clock.now
    report = await run.run_once()
    assert report.count("retrying") == 1
    row = task_row(store, "confirm:shp-1")
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "web.confirm: 429")
    assert timedelta(seconds=40) <= row.next_at - before < timedelta(seconds=41)  # the vendor's retry_after
    assert (await run.run_once()).outcomes == []  # not due yet
    clock.now = row.next_at
    assert (await run.run_once()).ok
    assert task_row(store, "confirm:shp-1").status == "done"
    assert len(web.confirmed) == 2


async def test_retries_give_up_with_an_incident(store: Store, web: SalesChannel, clock: TickingClock) -> None:
    enqueue(store, a_confirm_task(store))
    web.script = [RetriableConnectorError("503", connector="web", op="confirm") for _ in range(3)]
    run = dispatcher(store, channels(web), retry=TaskRetry(max_attempts=3))
    for _ in range(3):
        await run.run_once()
        clock.now += timedelta(hours=1)
    row = task_row(store, "confirm:shp-1")
    assert (row.status, row.attempts) == ("failed", 3)
    (incident,) = store.incidents()
    assert incident.decision == "failed"
    assert "gave up after 3 attempts" in incident.summary


async def test_a_fatal_error_keeps_the_task_for_an_operator(store: Store, web: SalesChannel) -> None:
    enqueue(store, a_confirm_task(store))
    web.script = [FatalConnectorError("401 bad token", connector="web", op="confirm")]
    run = dispatcher(store, channels(web))
    assert not (await run.run_once()).ok
    row = task_row(store, "confirm:shp-1")
    assert (row.status, row.last_error) == ("failed", "web.confirm: 401 bad token")
    (incident,) = store.incidents()
    assert (incident.kind, incident.decision, incident.channel) == ("fulfilment", "failed", "web")
    assert (await run.run_once()).outcomes == []  # kept, not retried by itself
    with store.unit_of_work() as uow:
        assert queue.requeue(uow.session, "confirm:shp-1", uow.now())
    assert (await run.run_once()).ok
    assert task_row(store, "confirm:shp-1").status == "done"


async def test_lines_held_where_the_channel_has_no_location_are_left_out(store: Store, web: SalesChannel) -> None:
    lines = [
        {"line_id": "web:order:1001:L1", "line_ref": "L1", "quantity": 2, "location_id": "3pl"},  # ShipBob ships it
        {"line_id": "web:order:1001:L2", "line_ref": "L2", "quantity": 1, "location_id": "shop"},
    ]
    enqueue(store, FulfilmentTask(f"assign:{ORDER}#1", "assign", ORDER, "web", {"order_ref": "1001", "lines": lines}))
    assert (await dispatcher(store, channels(web)).run_once()).ok
    assert web.assigned == [("1001", [LineAssignment("L2", 1, "S")], [])]
    row = task_row(store, f"assign:{ORDER}#1")
    assert row.result is not None
    assert row.result["left_out"] == [{"line_ref": "L1", "location_id": "3pl"}]


async def test_an_order_held_only_by_providers_needs_no_assignment(store: Store, web: SalesChannel) -> None:
    enqueue(store, assign_task("3pl"))
    assert (await dispatcher(store, channels(web)).run_once()).ok
    assert web.assigned == []
    row = task_row(store, f"assign:{ORDER}#1")
    assert row.result is not None
    assert row.result["skipped"] == "no line is held at a location channel web knows"


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    retry = TaskRetry(base_seconds=5, cap_seconds=60, jitter=0.25)
    for attempts, full in ((1, 5), (2, 10), (3, 20), (4, 40), (5, 60), (9, 60)):
        delay = retry.delay(attempts).total_seconds()
        assert full * 0.75 <= delay <= full
    assert retry.delay(1, retry_after=30).total_seconds() >= 30


async def test_a_task_cancelled_by_a_reroute_during_its_call_stays_cancelled(store: Store, web: SalesChannel) -> None:
    enqueue(store, assign_task())

    async def store_rejects_meanwhile() -> None:  # `orders reject` cancels the order's pending assign tasks
        with store.unit_of_work() as uow:
            records.cancel_pending_tasks(uow.session, ORDER, (), ("assign",), uow.now())

    web.during_call = [store_rejects_meanwhile]
    report = await dispatcher(store, channels(web)).run_once()
    assert [(item.task_id, item.outcome) for item in report.outcomes] == [(f"assign:{ORDER}#1", "cancelled")]
    assert report.ok
    assert task_row(store, f"assign:{ORDER}#1").status == "cancelled"


async def test_a_channel_with_no_mapped_location_fails_with_the_profile_error(store: Store, web: SalesChannel) -> None:
    enqueue(store, a_confirm_task(store))
    unmapped = {"web": runtime("web", web, {"ELSEWHERE": "wh"})}
    await dispatcher(store, unmapped).run_once()
    row = task_row(store, "confirm:shp-1")
    assert row.status == "failed"
    assert row.last_error is not None
    assert row.last_error.startswith(
        "fake.yaml: mappings.location_map: channel 'web': none of its locations is mapped to a profile location"
    )


async def test_a_bug_in_a_connector_is_kept_for_an_operator(store: Store, web: SalesChannel) -> None:
    enqueue(store, a_confirm_task(store))
    web.script = [ValueError("unexpected None")]
    report = await dispatcher(store, channels(web)).run_once()
    assert [item.outcome for item in report.outcomes] == ["failed"]
    assert task_row(store, "confirm:shp-1").last_error == "internal error: ValueError: unexpected None"
    (incident,) = store.incidents()
    assert incident.decision == "failed"
