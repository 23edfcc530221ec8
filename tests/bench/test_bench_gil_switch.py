"""The GIL switch benchmark: every row carries its interval, its competitor and figures, the baseline is in the
same run, and the process's interval is given back (figures, not timings, are asserted)."""

from __future__ import annotations

import sys

from bench import gil_switch
from omnibridge.daemon.gil import DAEMON_SWITCH_INTERVAL


def test_a_row_stores_every_delivery_and_reports_its_interval_and_figures() -> None:
    before = sys.getswitchinterval()
    row = gil_switch.measure(DAEMON_SWITCH_INTERVAL, busy=True, deliveries=40)
    assert sys.getswitchinterval() == before
    assert row["switch_interval_ms"] == round(DAEMON_SWITCH_INTERVAL * 1000, 2)
    assert row["other_thread"] == "busy"
    assert row["deliveries"] == 40
    assert 0 < row["p50_ms"] <= row["p99_ms"]


def test_the_run_compares_the_cpython_default_with_the_daemon_interval_against_the_floor() -> None:
    result = gil_switch.run(quick=True)
    rows = result["rows"]
    assert [(row["switch_interval_ms"], row["other_thread"]) for row in rows] == [
        (round(DAEMON_SWITCH_INTERVAL * 1000, 2), "none"),
        (5.0, "busy"),
        (round(DAEMON_SWITCH_INTERVAL * 1000, 2), "busy"),
    ]
    assert rows[0]["vs_floor"] == 1.0
    for row in rows:
        assert row["vs_floor"] == round(row["p50_ms"] / rows[0]["p50_ms"], 1)
