"""Two dispatchers on one store never run the same task: a second dispatcher that runs while the first is inside
the vendor call finds the task taken, and one that read the same due task a moment earlier loses the claim."""

from __future__ import annotations

import pytest

from fulfilment.fakes import SalesChannel, place_order, runtime, seed
from omnibridge.fulfilment import queue
from omnibridge.fulfilment.dispatcher import Dispatcher, DispatchReport
from omnibridge.fulfilment.tasks import confirm_task
from omnibridge.store import Store
from omnibridge.sync import ChannelRuntime

pytestmark = pytest.mark.anyio


def _setup(store: Store) -> tuple[SalesChannel, dict[str, ChannelRuntime]]:
    seed(store)
    web = SalesChannel(["W", "S"])
    place_order(store, runtime("web", web, {"W": "wh", "S": "shop"}))
    order = store.get_order("web:1001")
    assert order is not None
    with store.unit_of_work() as uow:
        for shipment in ("shp-1", "shp-2"):
            uow.enqueue_task(confirm_task(order, shipment, "shop", [("L1", 1)], order.placed_at))
    return web, {"web": runtime("web", web, {"W": "wh", "S": "shop"})}


async def test_a_second_dispatcher_never_runs_a_task_in_flight(store: Store) -> None:
    web, found = _setup(store)
    first, second = Dispatcher(store, found), Dispatcher(store, found)
    during: list[DispatchReport] = []

    async def run_second() -> None:
        during.append(await second.run_once())

    web.during_call = [run_second]  # the second dispatcher runs while the first is inside its first call
    report = await first.run_once()
    assert sorted(confirmation.reference for confirmation in web.confirmed) == ["shp-1", "shp-2"]
    ran = [item.task_id for item in report.outcomes] + [item.task_id for item in during[0].outcomes]
    assert sorted(ran) == ["confirm:shp-1", "confirm:shp-2"]
    with store.unit_of_work() as uow:
        assert {view.status for view in queue.list_tasks(uow.session)} == {"done"}


class _Racing(Dispatcher):
    """Reads the due tasks, then lets ``rival`` run a whole pass before it claims them."""

    rival: Dispatcher | None = None

    async def run_once(self) -> DispatchReport:
        with self.store.unit_of_work() as uow:
            due = queue.due_ids(uow.session, uow.now(), 10)
        assert self.rival is not None
        await self.rival.run_once()
        report = DispatchReport()
        for task_id in due:
            with self.store.unit_of_work() as uow:
                now = uow.now()
                claimed = queue.claim(uow.session, task_id, now, now + self.lease)
            if claimed is not None:
                report.outcomes.append(await self._run(claimed))
        return report


async def test_a_dispatcher_that_read_a_task_late_loses_the_claim(store: Store) -> None:
    web, found = _setup(store)
    racing = _Racing(store, found)
    racing.rival = Dispatcher(store, found)
    report = await racing.run_once()
    assert report.outcomes == []
    assert sorted(confirmation.reference for confirmation in web.confirmed) == ["shp-1", "shp-2"]
