"""The dispatcher carrying out the routing service's own tasks: an order routed to a 3PL is submitted there; the
3PL's refusal re-routes it through :meth:`RoutingService.reject` (reservation moved, new decision), and the new
decision's tasks run in the same pass; a repeated re-route is done, not failed."""

from __future__ import annotations

import pytest
from routing_service_support import CHANNEL_MAP, Network, network

from fulfilment.fakes import Provider, runtime
from omnibridge.fulfilment import queue
from omnibridge.fulfilment.dispatcher import Dispatcher
from omnibridge.fulfilment.tasks import reroute_task
from omnibridge.sdk import ConnectorKind
from omnibridge.sdk.fulfilment import Submission
from omnibridge.store import Store
from omnibridge.store import routing_records as records

pytestmark = pytest.mark.anyio


@pytest.fixture
def net(store: Store) -> Network:
    """Order web:1 (one TENT) routed to the 3PL (nearest with stock); the Denver warehouse has TENTs too."""
    routed = network(store, {("TENT", "tpl"): 5, ("TENT", "wh"): 5})
    routed.place("1", ("TENT", 1))
    return routed


async def test_a_3pl_refusal_reroutes_and_moves_the_reservation(store: Store, net: Network) -> None:
    assert net.committed("TENT") == {"tpl": 1}
    provider = Provider(["FC-CHI"])
    provider.script = [Submission("web:1@tpl#1", False, message="SKU TENT is not stocked at FC-CHI")]
    shipbob = runtime("shipbob", provider, {"FC-CHI": "tpl"}, kind=ConnectorKind.THIRD_PARTY_LOGISTICS)
    web = runtime("web", net.web.connector, CHANNEL_MAP)  # type: ignore[arg-type]
    report = await Dispatcher(store, {"web": web, "shipbob": shipbob}, rerouter=net.service).run_once()

    (request,) = provider.requests
    assert (request.reference, request.location_ref) == ("web:1@tpl#1", "FC-CHI")
    assert net.committed("TENT") == {"wh": 1}
    with store.unit_of_work() as uow:
        found = {a.id: (a.status, a.reason) for a in records.assignments(uow.session, "web:1")}
    assert found == {"web:1@tpl#1": ("rejected", "SKU TENT is not stocked at FC-CHI"), "web:1@wh#2": ("assigned", None)}
    statuses = {outcome.task_id: outcome.outcome for outcome in report.outcomes}
    assert statuses == {
        "assign:web:1#1": "done",
        "submit:web:1@tpl#1": "refused",
        "reroute:submit:web:1@tpl#1@tpl": "done",
        "assign:web:1#2": "done",  # the new decision's task, run in the same pass
    }


async def test_a_repeated_reroute_is_done(store: Store, net: Network) -> None:
    net.service.reject("web:1", "tpl", "closed")  # routing already acted on it (a crash before the task settled)
    with store.unit_of_work() as uow:
        uow.enqueue_task(reroute_task("again", "web:1", "tpl", "shipbob", "closed"))
    report = await Dispatcher(store, {}, rerouter=net.service).run_once()
    assert [(o.task_id, o.outcome) for o in report.outcomes if o.task_id.startswith("reroute")] == [
        ("reroute:again", "done")
    ]
    with store.unit_of_work() as uow:
        assert {view.id: view.status for view in queue.list_tasks(uow.session)}["reroute:again"] == "done"
