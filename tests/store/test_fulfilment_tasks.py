"""The fulfilment task outbox: a task is recorded once per id, in the unit of work that decides it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from omnibridge.store import Store
from omnibridge.store.fulfilment_tasks import PENDING, FulfilmentTask
from omnibridge.store.tables import FULFILMENT_TASKS


def _rows(store: Store) -> list[tuple[str, str, str]]:
    with store.unit_of_work() as uow:
        query = sa.select(FULFILMENT_TASKS.c.id, FULFILMENT_TASKS.c.status, FULFILMENT_TASKS.c.channel)
        return [(row.id, row.status, row.channel) for row in uow.session.execute(query)]


def test_a_task_is_recorded_once_per_id(store: Store) -> None:
    task = FulfilmentTask("submit:web:1@3pl#1", "submit", "web:1", "shipbob", {"location": "3pl"})
    with store.unit_of_work() as uow:
        assert uow.enqueue_task(task) is True
        assert uow.enqueue_task(task) is False
    with store.unit_of_work() as uow:
        assert uow.enqueue_task(task) is False
    assert _rows(store) == [("submit:web:1@3pl#1", PENDING, "shipbob")]


def test_a_task_goes_with_its_unit_of_work(store: Store) -> None:
    def decide_then_fail() -> None:
        with store.unit_of_work() as uow:
            uow.enqueue_task(FulfilmentTask("assign:web:1#1", "assign", "web:1", "web"))
            raise RuntimeError("the decision failed")

    with pytest.raises(RuntimeError):
        decide_then_fail()
    assert _rows(store) == []
