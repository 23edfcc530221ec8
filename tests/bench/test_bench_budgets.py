"""The ``budgets`` benchmark's pieces run and report consistent figures; never timed."""

from __future__ import annotations

import json

from bench import budgets
from bench.__main__ import BENCHMARKS


def test_one_worker_with_its_own_limiter_is_never_refused_and_reports_every_figure() -> None:
    row = budgets.run_case(1, 5, None, tasks=2)
    assert (row["processes"], row["in_flight_each"], row["budget"]) == (1, 2, "per-process")
    assert (row["sent"], row["answered"], row["refused"], row["errors"]) == (5, 5, 0, 0)
    assert row["acquire_p50_ms"] <= row["acquire_p99_ms"] <= row["acquire_max_ms"]
    assert row["db_trips_per_req"] == 0.0
    assert BENCHMARKS["budgets"] == "bench.budgets"
    json.dumps(row)


def test_a_take_with_room_is_measured_in_process_without_a_database() -> None:
    room = budgets.uncontended(None, 20)
    assert set(room) == {"local_p50_ms", "local_p99_ms"}
    assert 0 <= room["local_p50_ms"] <= room["local_p99_ms"]
