"""The ``files_feed`` benchmark runs on a small file and its figures are consistent; never timed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bench import files_feed
from bench.__main__ import BENCHMARKS


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return files_feed.measure(2_000)


def test_every_mode_reads_the_whole_file_and_reports_memory(result: dict[str, Any]) -> None:
    modes = {row["mode"]: row for row in result["table"]}
    assert list(modes) == [
        "pull, streamed",
        "pull, whole file (baseline: main)",
        "read-back, folded",
        "read-back, every row kept (baseline: main)",
        "pull at default limits",
    ]
    assert modes["pull, streamed"]["outcome"] == "2,000 events"
    assert modes["pull, whole file (baseline: main)"]["outcome"] == "2,000 events"
    assert modes["read-back, folded"]["outcome"] == "2,000 positions kept"  # three daily files, folded
    assert modes["read-back, every row kept (baseline: main)"]["outcome"] == "6,000 rows kept"
    assert modes["pull at default limits"]["outcome"] == "2,000 events"  # well under the default limits
    for row in result["table"]:
        assert row["peak_mb"] >= row["retained_mb"] >= 0
        assert row["rows_per_s"] > 0


def test_the_read_back_retains_less_than_mains_cache_and_the_report_is_json(result: dict[str, Any]) -> None:
    # memory, not time: the folded read-back keeps one entry per position, main's cache every row of every file
    assert result["read_back_retained_mb"] < result["read_back_retained_mb_baseline"]
    assert result["default_max_rows"] == 500_000
    assert BENCHMARKS["files_feed"] == "bench.files_feed"
    json.dumps(result)


def test_a_file_over_the_default_limits_goes_to_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files_feed, "_connector", _tiny_defaults(files_feed._connector))
    row = files_feed.measure(50)["table"][-1]
    assert row["outcome"] == "failed/ (over a limit)"


def _tiny_defaults(make: Any) -> Any:
    def connector(inbox: Any, **limits: int) -> Any:
        return make(inbox, **(limits or {"max_rows": 10}))

    return connector
